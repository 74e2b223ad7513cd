"""The instructor's gradebook: one nbgrader ``gradebook.db`` that holds the autograder's scores and the hand-given ones.

formgrader (``make instructor``) reads and writes ``gradebook.db`` at the root of the course directory. Class
grading runs nbgrader in throw-away course directories (one per worker) and then copies its results into that same
gradebook, so that marks entered in formgrader and the class's autograded scores end in one place:

* ``register`` puts the assignments (their notebooks and graded cells) into a gradebook, by running nbgrader's
  ``generate_assignment`` in a temporary course directory pointed at it: the release (``notebooks/``) is not
  touched, and formgrader's assignment list works without its *Generate* button;
* ``copy_submissions`` copies graded submissions from one gradebook into another. A hand-given mark already there
  is kept; when the submission is a new one (another timestamp), nbgrader's rule applies and it is flagged for
  review, as a new autograde would;
* ``apply_marks`` reads hand-given marks from a CSV (student, notebook, grade id, points) and checks every row
  before writing any.
"""

from __future__ import annotations

import csv
import tempfile
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import nbformat

from course_lib.instructor.course import GRADEBOOK, CourseDir, find_assignments

__all__ = ["gradebook_url", "register", "stale_assignments", "copy_submissions", "remove_submissions",
           "assignment_points", "Mark", "read_marks", "apply_marks", "MARK_COLUMNS"]

MARK_COLUMNS = ["student_id", "notebook", "grade_id", "points", "comment"]


def gradebook_url(course_dir: Path) -> str:
    """The URL of the gradebook formgrader uses for the course directory ``course_dir``."""
    return f"sqlite:///{Path(course_dir).resolve() / GRADEBOOK}"


def _graded_cells(notebook: Path) -> dict[str, tuple[float, str | None]]:
    """{grade id: (points, the source to compare: a test cell's, None for an answer cell)} of a source notebook."""
    found = {}
    for cell in nbformat.read(notebook, as_version=4).cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade"):
            found[meta["grade_id"]] = (float(meta.get("points", 0)), None if meta.get("solution") else cell.source)
    return found


def _held_cells(notebook) -> dict[str, tuple[float, str | None]]:
    """The same as ``_graded_cells``, for a notebook the gradebook holds."""
    answers = {cell.name for cell in notebook.solution_cells}
    sources = {cell.name: cell.source for cell in notebook.source_cells}
    return {cell.name: (float(cell.max_score), None if cell.name in answers else sources.get(cell.name))
            for cell in notebook.grade_cells}


def stale_assignments(db_url: str, solutions_dir: Path, assignments: Iterable[str]) -> list[str]:
    """The assignments whose notebooks, graded cells, points or tests differ between the sources and the gradebook."""
    from nbgrader.api import Gradebook, MissingEntry

    if not Path(db_url.removeprefix("sqlite:///")).is_file():
        return list(assignments)  # a new gradebook: nbgrader makes it (in-process, it would need `alembic` on PATH)
    stale = []
    with Gradebook(db_url) as gradebook:
        for name in assignments:
            sources = {path.stem: _graded_cells(path) for path in sorted((Path(solutions_dir) / name).glob("*.ipynb"))}
            try:
                held = {nb.name: _held_cells(nb) for nb in gradebook.find_assignment(name).notebooks}
            except MissingEntry:
                held = {}
            if held != sources:
                stale.append(name)
    return stale


def register(course_dir: Path, solutions_dir: Path, assignments: list[str] | None = None) -> list[str]:
    """Put the assignments of ``solutions_dir`` that the course directory's gradebook lacks (or holds in an older
    version) into it; the names registered. The release is generated in a temporary folder and thrown away."""
    names = assignments if assignments is not None else find_assignments(solutions_dir)
    url = gradebook_url(course_dir)
    Path(course_dir).mkdir(parents=True, exist_ok=True)
    todo = stale_assignments(url, solutions_dir, names)
    if todo:
        with tempfile.TemporaryDirectory(prefix="cfcm-register-") as scratch:
            course = CourseDir.create(Path(scratch) / "course", solutions_dir, todo, db_url=url)
            for name in todo:
                course.generate(name)
    return todo


def remove_submissions(db_url: str) -> None:
    """Empty a gradebook of submissions (its assignments stay): a copy of a template starts a class's own."""
    from nbgrader.api import Gradebook, SubmittedAssignment

    with Gradebook(db_url) as gradebook:
        for submission in gradebook.db.query(SubmittedAssignment).all():
            gradebook.remove_submission(submission.assignment.name, submission.student.id)


def _copy_notebook(source_nb, target, assignment: str, student: str, same: bool) -> None:
    """The autograder's scores and comments of one submitted notebook, into ``target``'s copy of it."""
    for grade in source_nb.grades:
        kept = target.find_grade(grade.name, source_nb.name, assignment, student)
        kept.auto_score = grade.auto_score
        if kept.manual_score is None or not same:  # a hand mark on a new submission waits for review, as in nbgrader
            kept.needs_manual_grade = grade.needs_manual_grade or kept.manual_score is not None
    for comment in source_nb.comments:
        target.find_comment(comment.name, source_nb.name, assignment, student).auto_comment = comment.auto_comment
    notebook = target.find_submission_notebook(source_nb.name, assignment, student)
    notebook.late_submission_penalty = source_nb.late_submission_penalty


def copy_submissions(source_url: str, target_url: str) -> int:
    """Copy every submission of the gradebook at ``source_url`` into the one at ``target_url`` (students created as
    needed, hand-given marks kept); the number copied. The target must know the assignments (``register``)."""
    from nbgrader.api import Gradebook, MissingEntry, SubmittedAssignment
    from sqlalchemy.exc import SAWarning

    copied = 0
    with warnings.catch_warnings(), Gradebook(source_url) as source, Gradebook(target_url) as target:
        # nbgrader's add_submission builds a submission's rows before adding it: SQLAlchemy's autoflush warns
        warnings.simplefilter("ignore", SAWarning)
        for submission in source.db.query(SubmittedAssignment).all():
            assignment, student = submission.assignment.name, submission.student.id
            target.update_or_create_student(student)
            try:
                same = target.find_submission(assignment, student).timestamp == submission.timestamp
            except MissingEntry:
                same = True
            target.update_or_create_submission(assignment, student, timestamp=submission.timestamp)
            for notebook in submission.notebooks:
                _copy_notebook(notebook, target, assignment, student, same)
            target.db.commit()
            copied += 1
    return copied


@dataclass(frozen=True)
class Mark:
    """A hand-given mark: ``points`` for the graded cell ``grade_id`` of ``student``'s ``notebook``."""

    student_id: str
    notebook: str
    grade_id: str
    points: float
    comment: str = ""


def read_marks(path: Path) -> list[Mark]:
    """The marks of a CSV with the columns of MARK_COLUMNS (``comment`` optional; rows without points skipped)."""
    with Path(path).open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = [column for column in MARK_COLUMNS[:4] if column not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path} lacks the column(s) {missing}: a marks file has the header "
                             f"{','.join(MARK_COLUMNS)} (comment is optional)")
        marks = []
        for line, row in enumerate(reader, start=2):
            if not (row.get("points") or "").strip():
                continue  # not graded yet: the template leaves points empty
            try:
                points = float(row["points"].replace(",", "."))
            except ValueError:
                raise ValueError(f"{path}, line {line}: points {row['points']!r} is not a number") from None
            marks.append(Mark(row["student_id"].strip(), row["notebook"].strip(), row["grade_id"].strip(), points,
                              (row.get("comment") or "").strip()))
    return marks


def apply_marks(db_url: str, marks: list[Mark]) -> int:
    """Write ``marks`` into the gradebook as formgrader would (manual score, comment, no longer awaiting); every
    mark is checked first (student, notebook, cell, 0 <= points <= the cell's points), and none is written unless
    all are right. The number written."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(db_url) as gradebook:
        grades, problems = [], []
        for mark in marks:
            where = f"{mark.student_id}/{mark.notebook}/{mark.grade_id}"
            try:
                grade = gradebook.find_grade(mark.grade_id, mark.notebook, mark.notebook, mark.student_id)
            except MissingEntry:
                problems.append(f"{where}: no such graded cell in the gradebook (grade the class first, and check "
                                "the student id, the notebook and the grade id)")
                continue
            if not 0 <= mark.points <= grade.max_score:
                problems.append(f"{where}: {mark.points:g} points, outside 0..{grade.max_score:g}")
            grades.append((grade, mark))
        if problems:
            raise ValueError(f"{len(problems)} mark(s) refused, none written:\n  " + "\n  ".join(problems))
        for grade, mark in grades:
            grade.manual_score, grade.needs_manual_grade = mark.points, False
            if mark.comment:
                gradebook.find_comment(mark.grade_id, mark.notebook, mark.notebook, mark.student_id
                                       ).manual_comment = mark.comment
        gradebook.db.commit()
    return len(grades)


def assignment_points(db_url: str) -> dict[str, float]:
    """{assignment: its points} of every assignment the gradebook knows, by name."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url) as gradebook:
        return {assignment.name: float(assignment.max_score) for assignment in
                sorted(gradebook.assignments, key=lambda a: a.name)}


def _answer(notebook: Path, grade_id: str) -> str:
    """The source of the cell ``grade_id`` of a graded notebook, or why it cannot be shown."""
    try:
        cells = nbformat.read(notebook, as_version=4).cells
    except (OSError, ValueError) as error:
        return f"(not shown: {notebook} could not be read: {type(error).__name__})"
    return next((cell.source for cell in cells if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
                 == grade_id), f"(not shown: no cell {grade_id} in {notebook})")


def awaiting_marks(db_url: str, autograded_dir: Path) -> list[dict[str, str]]:
    """A marks sheet to fill in: one row per written answer awaiting a hand grade, with its points and the
    student's answer (from the graded notebook), ``points`` left empty."""
    from nbgrader.api import Gradebook, Grade

    rows = []
    with Gradebook(db_url) as gradebook:
        waiting = gradebook.db.query(Grade).filter(Grade.needs_manual_grade, Grade.manual_score.is_(None)).all()
        for grade in sorted(waiting, key=lambda g: (g.student.id, g.assignment.name, g.name)):
            path = Path(autograded_dir) / grade.student.id / grade.assignment.name / f"{grade.notebook.name}.ipynb"
            rows.append({"student_id": grade.student.id, "notebook": grade.notebook.name, "grade_id": grade.name,
                         "points": "", "comment": "", "max_points": f"{grade.max_score:g}",
                         "answer": _answer(path, grade.name)})
    return rows
