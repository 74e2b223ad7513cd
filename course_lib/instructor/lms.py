"""Final grades in the columns an LMS imports: one row per student, a column per notebook and the total.

The students are the LMS's: a roster the instructor exports from it gives their identities, and each is matched to
nbgrader's student id (the exchange's user name, or the folder name of a Colab/LMS download) through one roster
column, chosen as the one that matches most graded students (or named). Nobody is dropped: graded students the
roster lacks, and roster students without grades, are named (``Export.warnings``); ``final_grades.csv`` holds every
graded student, and a roster student without a submission gets a blank cell or 0, as the instructor chooses.

* **Canvas** (Grades > Import): the header of Canvas's own gradebook export, ``Student, ID, SIS User ID,
  SIS Login ID, Section``, then one column per assignment, then a second row ``    Points Possible`` (Canvas's
  importer recognises the header by ``Student`` and ``ID`` in the first two columns and ``Section`` as the last
  student column, and reads that row for the assignments' points: canvas-lms ``app/models/gradebook_importer.rb``).
  A column named like an assignment of the roster export (``Notebook 1 (12345)``) updates that assignment; any other
  creates a new one on import. Canvas finds each student by ``ID``, then the SIS ids, then the name.
* **Moodle** (Grades > Import > CSV file): one header row, the identity column as the roster names it (``Email
  address``, ``Username`` or ``ID number``), then the names and one column per grade item; the import maps that
  column to ``useremail``, ``username`` or ``useridnumber`` ("Map from"/"Map to") and each other column to a grade
  item. A row whose user Moodle does not know stops the whole import, so the file holds roster students only; an
  empty cell is "no grade" (``grade/import/csv/classes/load_data.php``; docs.moodle.org, *Grade import*).

Numbers are written with a point as the decimal separator and no thousands separator, in UTF-8.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from course_lib.instructor.tables import NotebookRow

__all__ = ["Roster", "read_roster", "FinalGrade", "final_grades", "write_final_grades", "Export", "export_lms",
           "TOTAL", "CANVAS_IDENTITY"]

TOTAL = "Notebooks total"
CANVAS_IDENTITY = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
CANVAS_POINTS = "    Points Possible"  # four spaces, as Canvas writes it
CANVAS_TEST_STUDENT = "Student, Test"  # Canvas's own preview account, in every export
CANVAS_MATCH = ("SIS Login ID", "SIS User ID", "ID", "Integration ID", "Student")
MOODLE_IDS = ("Username", "Email address", "ID number")
MOODLE_NAMES = ("First name", "Last name")
EMAIL_LOCAL = " (before the @)"  # a roster column's emails matched by their local part: alice@uni.edu is alice


@dataclass
class Roster:
    """The students of an LMS course: ``rows`` of identity columns (``columns``), as the LMS exported them."""

    lms: str  # "canvas" or "moodle"
    columns: list[str]
    rows: list[dict[str, str]]
    headers: list[str]  # the export's whole header (Canvas: existing assignments are "Name (id)")

    def candidates(self) -> list[str]:
        """The columns a student id may be matched by, most specific first."""
        names = CANVAS_MATCH if self.lms == "canvas" else MOODLE_IDS
        found = [column for column in names if column in self.columns]
        return found + [column + EMAIL_LOCAL for column in found if "mail" in column.lower()]

    def key(self, row: dict[str, str], column: str) -> str:
        value = row.get(column.removesuffix(EMAIL_LOCAL), "").strip()
        return (value.split("@")[0] if column.endswith(EMAIL_LOCAL) else value).lower()


def _canvas(header: list[str], rows: list[list[str]]) -> Roster:
    if len(header) < 3 or "Student" not in header[0] or "ID" not in header[1] or "Section" not in header:
        raise ValueError("not a Canvas gradebook export: its header starts with Student, ID (then SIS User ID, SIS "
                         "Login ID) and its last student column is Section (Grades > Export > Export Entire "
                         "Gradebook)")
    columns = header[:header.index("Section") + 1]
    people = [dict(zip(columns, row)) for row in rows if row and row[0].strip() and "Points Possible" not in row[0]
              and row[0].strip() != CANVAS_TEST_STUDENT]
    return Roster("canvas", columns, people, header)


def _moodle(header: list[str], rows: list[list[str]]) -> Roster:
    columns = [name for name in header if name in MOODLE_NAMES + MOODLE_IDS]
    if not any(name in header for name in MOODLE_IDS):
        raise ValueError(f"not a Moodle grade export or participants list: no column {' / '.join(MOODLE_IDS)} "
                         "(Grades > Export > Plain text file, with the user's email or ID number)")
    people = [{name: row[header.index(name)] for name in columns} for row in rows
              if any(cell.strip() for cell in row) and len(row) == len(header)]
    return Roster("moodle", columns, people, header)


def read_roster(path: Path, lms: str) -> Roster:
    """The students of the roster at ``path``, exported from ``lms`` ("canvas" or "moodle"); ``ValueError`` with
    what the file should look like when it is not such an export."""
    with Path(path).open(newline="", encoding="utf-8-sig") as handle:  # Excel adds a byte-order mark
        table = [row for row in csv.reader(handle)]
    if not table:
        raise ValueError(f"{path} is empty")
    try:
        return (_canvas if lms == "canvas" else _moodle)([cell.strip() for cell in table[0]], table[1:])
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from None


@dataclass
class FinalGrade:
    """One graded student: a score per notebook (None: none yet), and the points awaiting a hand grade."""

    student_id: str
    scores: dict[str, float | None]
    awaiting: float = 0.0
    notes: list[str] = field(default_factory=list)


def final_grades(notebooks: list[NotebookRow]) -> dict[str, FinalGrade]:
    """{student: their final grade} from the grade sheet's rows (hand marks included, nothing not graded)."""
    found: dict[str, FinalGrade] = {}
    for row in notebooks:
        grade = found.setdefault(row.student_id, FinalGrade(row.student_id, {}))
        grade.scores[row.assignment] = row.score if row.status.graded else None
        grade.awaiting += row.awaiting
        if not row.status.graded:
            grade.notes.append(f"{row.assignment} {row.status}")
    for grade in found.values():
        if grade.awaiting:
            grade.notes.append(f"{grade.awaiting:g} point(s) of written answers await manual grading")
    return found


def write_final_grades(path: Path, grades: dict[str, FinalGrade], points: dict[str, float]) -> Path:
    """``final_grades.csv``: every graded student (on a roster or not), a score per notebook, the total (blank while
    a notebook has none), the points still awaiting a hand grade, and what to look at."""
    assignments = list(points)
    table = [["student_id", *assignments, "total", "max_total", "awaiting_manual_points", "notes"]]
    for student in sorted(grades):
        grade = grades[student]
        scores = [grade.scores.get(name) for name in assignments]
        total = None if any(score is None for score in scores) else sum(scores)  # type: ignore[arg-type]
        table.append([student, *map(_number, scores), _number(total), _number(sum(points.values())),
                      _number(grade.awaiting), "; ".join(grade.notes)])
    return _write(path, table)


@dataclass
class Export:
    """What an export wrote and what the instructor must look at."""

    files: list[Path]
    matched_by: dict[str, str]  # lms -> the roster column the student ids were matched by
    warnings: list[str]


def _number(value: float | None) -> str:
    return "" if value is None else f"{round(float(value), 2):g}"


def _match(roster: Roster, graded: set[str], column: str | None) -> str:
    """The roster column whose values are the graded students' ids: ``column``, or the one matching most."""
    options = roster.candidates()
    if column is not None:
        if column not in options:
            raise ValueError(f"--match {column!r}: the {roster.lms} roster has the columns {options}")
        return column
    counts = {option: sum(roster.key(row, option) in {g.lower() for g in graded} for row in roster.rows)
              for option in options}
    best = max(options, key=lambda option: counts[option]) if options else None
    if best is None or counts[best] == 0:
        raise ValueError(f"no column of the {roster.lms} roster ({options}) holds the graded students' ids (e.g. "
                         f"{sorted(graded)[:3]}): export the roster with the students' logins or emails, or use "
                         "--match")
    return best


def _rows(roster: Roster, column: str, grades: dict[str, FinalGrade], assignments: list[str],
          zero_missing: bool) -> tuple[list[list[str]], list[str]]:
    """(one row of scores per roster student: notebooks then total, the roster students without any grade)."""
    by_id = {student.lower(): grade for student, grade in grades.items()}
    rows, missing = [], []
    for person in roster.rows:
        grade = by_id.get(roster.key(person, column))
        if grade is None:
            missing.append(" ".join(person.get(c, "") for c in roster.columns[:2]).strip() or str(person))
        scores = [grade.scores.get(name) if grade else None for name in assignments]
        scores = [0.0 if score is None and zero_missing else score for score in scores]
        total = None if any(score is None for score in scores) else sum(scores)
        rows.append([person.get(c, "") for c in roster.columns] + [_number(score) for score in scores + [total]])
    return rows, missing


def _write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    return path


def export_lms(out_dir: Path, grades: dict[str, FinalGrade], points: dict[str, float], rosters: dict[str, Roster],
               *, zero_missing: bool = False, match: dict[str, str] | None = None) -> Export:
    """Write ``canvas_grades.csv`` and/or ``moodle_grades.csv`` (one per roster given) in ``out_dir``: each roster
    student's score per notebook (``points``: each notebook's points, in order) and the total. ``match``: the
    roster column to match student ids by, per LMS (default: the one that matches most)."""
    assignments = list(points)
    export = Export([], {}, [])
    for lms, roster in rosters.items():
        column = _match(roster, set(grades), (match or {}).get(lms))
        export.matched_by[lms] = column
        rows, missing = _rows(roster, column, grades, assignments, zero_missing)
        known = {roster.key(person, column) for person in roster.rows}
        unknown = sorted(student for student in grades if student.lower() not in known)
        headers = [_existing(roster, name) for name in assignments] + [TOTAL]
        table = [roster.columns + headers]
        if lms == "canvas":
            table.append([CANVAS_POINTS] + [""] * (len(roster.columns) - 1)
                         + [_number(points[name]) for name in assignments] + [_number(sum(points.values()))])
        export.files.append(_write(Path(out_dir) / f"{lms}_grades.csv", table + rows))
        if unknown:
            export.warnings.append(f"{lms}: {len(unknown)} graded student(s) not on the roster (matched by "
                                   f"{column}), left out of {lms}_grades.csv: {', '.join(unknown)}")
        if missing:
            export.warnings.append(f"{lms}: {len(missing)} roster student(s) without any graded notebook, "
                                   f"{'scored 0' if zero_missing else 'left blank'}: {', '.join(missing)}")
    return export


def _existing(roster: Roster, assignment: str) -> str:
    """The roster's own column for ``assignment`` (Canvas: "Name (id)"), so the import updates it; else the name."""
    return next((header for header in roster.headers if header.rsplit(" (", 1)[0] == assignment), assignment)
