"""formgrader's *Generate* and *Release* buttons behind the release's check for answers typed into the release.

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

__all__ = ["guard"]


def _refusal(api: Any, assignment_id: str) -> dict | None:
    """formgrader's failure answer when the assignment's release folder holds typed answers, else None."""
    try:
        refuse_typed_answers(Path(api.coursedir.root) / api.coursedir.release_directory, [assignment_id])
    except TypedAnswersError as error:
        return {"success": False, "error": str(error), "log": str(error)}
    return None


def guard(api_class: type) -> None:
    """Make ``api_class``'s ``generate_assignment`` and ``release_assignment`` refuse, changing nothing, a release
    folder that holds typed answers."""
    for name in ("generate_assignment", "release_assignment"):
        original = getattr(api_class, name)
        if getattr(original, "guarded", False):
            continue

        @wraps(original)
        def checked(self: Any, assignment_id: str, *args: Any, _original: Any = original, **kwargs: Any) -> dict:
            return _refusal(self, assignment_id) or _original(self, assignment_id, *args, **kwargs)

        checked.guarded = True  # type: ignore[attr-defined]
        setattr(api_class, name, checked)


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": __name__}]


def _load_jupyter_server_extension(server_app: Any) -> None:
    from nbgrader.apps.api import NbGraderAPI

    guard(NbGraderAPI)
    server_app.log.info("course_lib: formgrader's Generate and Release refuse a release that holds typed answers")
