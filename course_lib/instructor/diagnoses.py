"""Why each test cell of a graded notebook failed, read from the notebook's outputs.

Where a grade is taken a failed check writes its diagnosis into the test cell as data
(``course_lib.grading.diagnosis``): its kind, cause and detail are read from there, never from the error's text.
A test cell that failed without one (its answer cell never defined what the check needs, so the cell raised before
the check ran; or a diagnosis of another version) still gets a :class:`Failure`, from the error's name.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import nbformat

from course_lib.grading.diagnosis import MIME_TYPE, Diagnosis, Kind, cause_key

__all__ = ["Failure", "failures"]


@dataclass(frozen=True)
class Failure:
    """Why one test cell scored less than full marks: the kind, the cause (shared by every student with that slip)
    and the message the student saw."""

    kind: Kind
    cause: str
    detail: str

    @property
    def key(self) -> tuple[str, str]:
        """What makes two failures "the same": as ``Diagnosis.key``."""
        return cause_key(self.kind, self.cause)


def _from_outputs(outputs: list) -> Failure | None:
    records = [output["data"][MIME_TYPE] for output in outputs
               if output.get("output_type") == "display_data" and MIME_TYPE in output.get("data", {})]
    errors = [output for output in outputs if output.get("output_type") == "error"]
    if records:
        try:
            found = Diagnosis.from_record(records[-1])
            return Failure(found.kind, found.cause, found.detail)
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
