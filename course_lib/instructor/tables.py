"""The class's grade sheets, built from a gradebook: ``grades.csv`` (one row per student and notebook) and
``cell_grades.csv`` (one row per student and graded cell).

Scores come from the gradebook, hand-given marks included; what happened to each notebook (``status``) and why a
test failed (``failure``) come from the grading run, which wrote them into the sheets. So a sheet can be rebuilt
from the gradebook at any time (after hand grading, say) without losing either: ``read_notes`` reads them back.
A notebook that could not be graded has no score, never a silent zero; a written answer awaiting a hand grade has
none yet and says so.
"""

from __future__ import annotations

import csv
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from course_lib.grading.diagnosis import Failure, Kind
from course_lib.instructor.status import GRADED, CellState, NotebookStatus

__all__ = ["CellRow", "NotebookRow", "Notes", "read_gradebook", "annotate", "notebook_rows", "write_sheets",
           "read_notes", "GRADE_COLUMNS", "CELL_COLUMNS"]

GRADE_COLUMNS = ["assignment", "student_id", "last_name", "first_name", "email", "timestamp", "score", "max_score",
                 "status", "awaiting_manual_points"]
CELL_COLUMNS = ["student_id", "assignment", "notebook", "grade_id", "score", "max_score", "status", "grading",
                "failure", "cause", "diagnosis"]
Key = tuple[str, str]  # (student, assignment)


@dataclass(frozen=True)
class Notes:
    """What a grading run knows that the gradebook does not: each notebook's status, each failed test's cause."""

    statuses: dict[Key, NotebookStatus]
    failures: dict[tuple[str, str, str], Failure]  # (student, assignment, grade id)


@dataclass
class CellRow:
    student_id: str
    assignment: str
    notebook: str
    grade_id: str
    score: float | None  # None: awaiting a hand grade, or the notebook was not graded
    max_score: float
    state: CellState
    status: NotebookStatus = GRADED
    failure: Failure | None = None

    def csv(self) -> dict[str, str]:
        failure = self.failure
        return {"student_id": self.student_id, "assignment": self.assignment, "notebook": self.notebook,
                "grade_id": self.grade_id, "score": _number(self.score), "max_score": _number(self.max_score),
                "status": str(self.status), "grading": self.state.value,
                "failure": failure.kind.value if failure else "", "cause": failure.cause if failure else "",
                "diagnosis": failure.detail if failure else ""}


@dataclass
class NotebookRow:
    assignment: str
    student_id: str
    score: float | None
    max_score: float | None
    status: NotebookStatus
    awaiting: float  # points of written answers awaiting a hand grade, not in the score yet
    person: tuple[str, str, str] = ("", "", "")  # last name, first name, email (as the gradebook knows them)
    timestamp: str = ""

    def csv(self) -> dict[str, str]:
        return {"assignment": self.assignment, "student_id": self.student_id, "last_name": self.person[0],
                "first_name": self.person[1], "email": self.person[2], "timestamp": self.timestamp,
                "score": _number(self.score), "max_score": _number(self.max_score), "status": str(self.status),
                "awaiting_manual_points": _number(self.awaiting)}


def _number(value: float | None) -> str:
    return "" if value is None else f"{float(value):g}"


def _state(grade, answers: set[str]) -> CellState:
    if grade.manual_score is not None:
        return CellState.HAND_GRADED
    if grade.auto_score is None:
        return CellState.AWAITING
    return CellState.UNANSWERED if grade.name in answers else CellState.AUTOGRADED


def read_gradebook(db_url: str, keys: Collection[Key] | None = None
                   ) -> tuple[list[CellRow], dict[str, tuple[str, str, str]], dict[Key, str]]:
    """(one row per graded cell of every submission, or of those in ``keys``; each student's last name, first
    name and email; each submission's timestamp)."""
    from nbgrader.api import Gradebook, SubmittedAssignment

    cells, people, stamps = [], {}, {}
    with Gradebook(db_url) as gradebook:
        for submission in gradebook.db.query(SubmittedAssignment).all():
            student, assignment = submission.student, submission.assignment.name
            if keys is not None and (student.id, assignment) not in keys:
                continue
            people[student.id] = (student.last_name or "", student.first_name or "", student.email or "")
            stamps[(student.id, assignment)] = submission.timestamp.isoformat() if submission.timestamp else ""
            for notebook in submission.notebooks:
                answers = {cell.name for cell in notebook.notebook.solution_cells}
                for grade in notebook.grades:
                    state = _state(grade, answers)
                    cells.append(CellRow(student.id, assignment, notebook.name, grade.name,
                                         None if state is CellState.AWAITING else float(grade.score),
                                         float(grade.max_score), state))
    return cells, people, stamps


def annotate(cells: list[CellRow], notes: Notes) -> None:
    """Give each row its notebook's status and its test's failure; a notebook not graded loses its scores."""
    for row in cells:
        row.status = notes.statuses.get((row.student_id, row.assignment), GRADED)
        if not row.status.graded:
            row.score, row.state = None, CellState.NOT_GRADED
        elif row.score is not None and row.score < row.max_score:
            row.failure = notes.failures.get((row.student_id, row.assignment, row.grade_id))


def notebook_rows(cells: list[CellRow], notes: Notes, people: dict[str, tuple[str, str, str]],
                  stamps: dict[Key, str]) -> list[NotebookRow]:
    """One row per student and notebook: the cells' scores added up (hand marks included), the points still
    awaiting a hand grade, and a row without scores for every notebook that could not be graded."""
    rows: dict[Key, NotebookRow] = {}
    for cell in cells:
        key = (cell.student_id, cell.assignment)
        row = rows.setdefault(key, NotebookRow(cell.assignment, cell.student_id, 0.0, 0.0, cell.status, 0.0,
                                               people.get(cell.student_id, ("", "", "")), stamps.get(key, "")))
        row.max_score = (row.max_score or 0.0) + cell.max_score
        if cell.state is CellState.AWAITING:
            row.awaiting += cell.max_score
        elif cell.score is not None and row.score is not None:
            row.score += cell.score
    for (student, assignment), status in notes.statuses.items():
        row = rows.setdefault((student, assignment), NotebookRow(assignment, student, None, None, status, 0.0,
                                                                 people.get(student, ("", "", ""))))
        if not status.graded:
            row.score, row.max_score, row.status = None, None, status
    return sorted(rows.values(), key=lambda row: (row.student_id, row.assignment))


def _write(path: Path, rows: list[dict[str, str]], columns: list[str]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def write_sheets(out_dir: Path, notebooks: list[NotebookRow], cells: list[CellRow]) -> tuple[Path, Path]:
    """``grades.csv`` and ``cell_grades.csv`` in ``out_dir``; their paths."""
    cells = sorted(cells, key=lambda row: (row.student_id, row.assignment, row.notebook, row.grade_id))
    _write(out_dir / "grades.csv", [row.csv() for row in notebooks], GRADE_COLUMNS)
    _write(out_dir / "cell_grades.csv", [row.csv() for row in cells], CELL_COLUMNS)
    return out_dir / "grades.csv", out_dir / "cell_grades.csv"


def read_notes(out_dir: Path) -> Notes:
    """The statuses and failures the sheets in ``out_dir`` hold (a grading run's, or an earlier export's)."""
    statuses: dict[Key, NotebookStatus] = {}
    failures: dict[tuple[str, str, str], Failure] = {}
    for name in ("grades.csv", "cell_grades.csv"):
        path = Path(out_dir) / name
        if not path.is_file():
            raise FileNotFoundError(f"{path} does not exist: is {out_dir} the --out of a grade_class run?")
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                key = (row["student_id"], row["assignment"])
                statuses.setdefault(key, NotebookStatus.parse(row.get("status", "")))
                if name == "cell_grades.csv" and row.get("failure"):
                    failures[(*key, row["grade_id"])] = Failure(Kind(row["failure"]), row.get("cause", ""),
                                                                row.get("diagnosis", ""))
    return Notes(statuses, failures)
