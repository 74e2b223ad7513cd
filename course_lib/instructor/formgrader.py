"""formgrader's *Generate* button behind the release's check: it never replaces answers typed into the release.

formgrader (``make instructor``) calls ``NbGraderAPI.generate_assignment``, which runs nbgrader's
``GenerateAssignment`` with ``force=True``: it deletes ``notebooks/<assignment>/`` before any configurable hook or
preprocessor runs, so no nbgrader setting can stop it from destroying a notebook someone typed answers into.
``make instructor`` therefore loads this module as a Jupyter server extension, which puts the check of ``make
release`` (``release.refuse_typed_answers``) in front of that method: a refused *Generate* changes nothing and shows
formgrader's error dialog with the notebooks and answer cells at stake; otherwise nbgrader's own method runs.
"""

from __future__ import annotations

from functools import wraps
from pathlib import Path
from typing import Any

from course_lib.instructor.release import TypedAnswersError, refuse_typed_answers

__all__ = ["guard_generate"]


def guard_generate(api_class: type) -> None:
    """Make ``api_class.generate_assignment`` refuse, changing nothing, a release folder that holds typed answers."""
    original = api_class.generate_assignment
    if getattr(original, "guarded", False):
        return

    @wraps(original)
    def generate_assignment(self: Any, assignment_id: str, force: bool = True, create: bool = True) -> dict:
        release = Path(self.coursedir.root) / self.coursedir.release_directory
        try:
            refuse_typed_answers(release, [assignment_id])
        except TypedAnswersError as error:
            return {"success": False, "error": str(error), "log": str(error)}
        return original(self, assignment_id, force=force, create=create)

    generate_assignment.guarded = True  # type: ignore[attr-defined]
    api_class.generate_assignment = generate_assignment


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": __name__}]


def _load_jupyter_server_extension(server_app: Any) -> None:
    from nbgrader.apps.api import NbGraderAPI

    guard_generate(NbGraderAPI)
    server_app.log.info("course_lib: formgrader's Generate refuses a release that holds typed answers")
