"""Why each test cell of a graded notebook failed, read from the notebook's outputs.

Where a grade is taken a failed check writes its diagnosis into the test cell as data
(``course_lib.grading.diagnosis``): its kind, cause and detail are read from there, never from the error's text.
A test cell that failed without one (its answer cell never defined what the check needs, so the cell raised before
the check ran; or a diagnosis of another version) still gets a ``Failure`` (the diagnosis without its exercise),
from the error's name.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

from course_lib.grading.diagnosis import MIME_TYPE, Diagnosis, Failure, Kind

__all__ = ["failures"]


def _from_outputs(outputs: list) -> Failure | None:
    records = [output["data"][MIME_TYPE] for output in outputs
               if output.get("output_type") == "display_data" and MIME_TYPE in output.get("data", {})]
    errors = [output for output in outputs if output.get("output_type") == "error"]
    if records:
        try:
            return Diagnosis.from_record(records[-1])
        except ValueError as error:
            return Failure(Kind.CHECK_ERROR, f"its diagnosis could not be read ({error})", "")
    if errors:
        name, value = errors[0].get("ename", "Error"), " ".join(str(errors[0].get("evalue", "")).split())
        return Failure(Kind.CRASHED, f"the test cell raised {name} before its check ran", f"{name}: {value}")
    return None


def failures(autograded: Path) -> dict[str, Failure]:
    """{test cell grade id: its failure} for one autograded notebook (cells that passed are absent)."""
    found = {}
    for cell in nbformat.read(autograded, as_version=4).cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution") and (failure := _from_outputs(cell.get("outputs", []))):
            found[meta["grade_id"]] = failure
    return found
