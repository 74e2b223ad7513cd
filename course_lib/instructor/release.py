"""The student release (``notebooks/``), written by nbgrader and never over someone's typed answers.

Each ``notebooks/<assignment>/`` becomes exactly what ``nbgrader generate_assignment`` makes of
``solutions/<assignment>/`` (solutions replaced by stubs, hidden tests removed, cells locked, checksums added);
release folders whose source is gone are removed. nbgrader runs in a temporary course directory, so no gradebook or
working folder lands in the repository.

Students work in ``workspace/`` (``make lab`` copies the release there), never in ``notebooks/``. Should someone
have typed answers into a release notebook all the same, the release stops and says so instead of replacing it: an
answer cell without its ``raise NotImplementedError()`` stub is someone's work. formgrader's *Generate* button goes
through the same check (``formgrader``). JupyterLab's .ipynb_checkpoints/ folders are left alone.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import nbformat

from course_lib.instructor.course import CourseDir, NbgraderError, find_assignments

__all__ = ["TypedAnswersError", "typed_answers", "refuse_typed_answers", "generate_release"]

KEPT = ".ipynb_checkpoints"  # JupyterLab's own copies next to an opened notebook: not the release's to delete
STUB = "raise NotImplementedError()"


class TypedAnswersError(NbgraderError):
    """A release notebook holds someone's answers, which a new release would destroy."""


def typed_answers(notebook: Path) -> list[str]:
    """The grade ids of the answer cells of a release notebook whose stub has been replaced (someone's work)."""
    try:
        cells = nbformat.read(notebook, as_version=4).cells
    except Exception:  # noqa: BLE001 - not a readable notebook: nothing of a student's to protect in it
        return []
    return [cell.metadata["nbgrader"].get("grade_id", "?") for cell in cells if cell.cell_type == "code"
            and cell.metadata.get("nbgrader", {}).get("solution") and STUB not in cell.source]


def refuse_typed_answers(release_dir: Path, assignments: list[str] | None = None) -> None:
    """Raise ``TypedAnswersError`` naming every notebook (and its answer cells) under ``release_dir`` (or under the
    given assignments' folders) that holds typed answers."""
    folders = [release_dir / name for name in assignments] if assignments else [release_dir]
    notebooks = sorted(path for folder in folders for path in folder.glob("*.ipynb" if assignments else "*/*.ipynb"))
    typed = {str(path.relative_to(release_dir)): cells for path in notebooks if (cells := typed_answers(path))}
    if typed:
        listing = "; ".join(f"{path} (answer cells {', '.join(cells)})" for path, cells in typed.items())
        raise TypedAnswersError(f"{release_dir} holds answers typed into the release: {listing}. A new release would "
                                "replace them, and releasing them would hand them to the class. Move the notebook into "
                                "workspace/ (where `make lab` works), or delete it if the answers do not matter, then "
                                "run the release again.")


def _replace_folder(released: Path, target: Path) -> None:
    """Make ``target`` hold exactly the files of ``released``, leaving JupyterLab's checkpoints alone."""
    target.mkdir(parents=True, exist_ok=True)
    fresh = {path.relative_to(released) for path in released.rglob("*") if path.is_file()}
    for path in sorted(target.rglob("*"), reverse=True):
        relative = path.relative_to(target)
        if KEPT in relative.parts or relative in fresh:
            continue
        if path.is_file() or path.is_symlink():
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    for relative in sorted(fresh):
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(released / relative, target / relative)


def generate_release(solutions_dir: Path, out_dir: Path, assignments: list[str] | None = None,
                     *, prune: bool = True) -> list[str]:
    """Write nbgrader's release of ``assignments`` (default: all) from ``solutions_dir`` into ``out_dir``.

    Returns the assignment names written. With ``prune``, assignment folders in ``out_dir`` that have no source any
    more are deleted (only folders holding notebooks; other files are left alone). Raises ``TypedAnswersError``,
    changing nothing, when a notebook it would replace holds typed answers.
    """
    solutions_dir, out_dir = Path(solutions_dir).resolve(), Path(out_dir).resolve()
    names = assignments or find_assignments(solutions_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    refuse_typed_answers(out_dir)
    with tempfile.TemporaryDirectory(prefix="cfcm-release-") as scratch:
        course = CourseDir.create(Path(scratch) / "course", solutions_dir, names)
        for name in names:
            _replace_folder(course.generate(name), out_dir / name)
    if prune and assignments is None:
        for stale in sorted(set(find_assignments(out_dir)) - set(names)):
            shutil.rmtree(out_dir / stale)
            print(f"removed {out_dir / stale}: no solutions/{stale} any more")
    return names
