"""Final grades into an LMS: the files have the columns Canvas and Moodle import, every student of the LMS's roster
gets a row, and nobody is dropped silently (graded students missing from the roster, and roster students without
grades, are named).

The formats are the LMSs' own: Canvas's gradebook import reads the header of its gradebook export (Student, ID,
SIS User ID, SIS Login ID, Section, then assignments) and a "    Points Possible" row (canvas-lms
app/models/gradebook_importer.rb); Moodle's CSV import reads one header row, maps one column to a user field
(useremail, username, useridnumber) and refuses a file with a user it does not know (grade/import/csv).
"""

from __future__ import annotations

import csv

import pytest

from course_lib.instructor.lms import (CANVAS_IDENTITY, TOTAL, FinalGrade, export_lms, final_grades, read_roster,
                                       write_final_grades)
from course_lib.instructor.status import GRADED, NotebookStatus
from course_lib.instructor.tables import NotebookRow

POINTS = {"01_data_transforms": 13.0, "02_skip_connections": 14.0}
# Canvas's own export, as Excel saves it (a byte-order mark), with its read-only columns, the points row, a student
# without a login, and Canvas's test student
CANVAS_EXPORT = ("\ufeffStudent,ID,SIS User ID,SIS Login ID,Section,01_data_transforms (7001),Current Score\n"
                 "    Points Possible,,,,,13,(read only)\n"
                 "\"Doe, Ann\",101,S-1,ann,Lab A,,\n"
                 "\"Roe, Bob\",102,S-2,bob,Lab A,,\n"
                 "\"Poe, Dan\",104,S-4,dan,Lab B,,\n"
                 "\"Student, Test\",999,,,Lab A,,\n")
MOODLE_EXPORT = ("First name,Last name,ID number,Institution,Department,Email address,Quiz 1 (Real),"
                 "Last downloaded from this course\n"
                 "Ann,Doe,,,,ann@uni.example,-,1700000000\n"
                 "Bob,Roe,,,,bob@uni.example,-,1700000000\n"
                 "Dan,Poe,,,,dan@uni.example,-,1700000000\n")


def grades() -> dict[str, FinalGrade]:
    rows = [NotebookRow("01_data_transforms", "ann", 12.5, 13.0, GRADED, 0.0),
            NotebookRow("02_skip_connections", "ann", 14.0, 14.0, GRADED, 0.0),
            NotebookRow("01_data_transforms", "bob", 7.0, 13.0, GRADED, 1.0),
            NotebookRow("02_skip_connections", "bob", None, None, NotebookStatus.not_graded("not a notebook"), 0.0),
            NotebookRow("01_data_transforms", "cat", 13.0, 13.0, GRADED, 0.0),
            NotebookRow("02_skip_connections", "cat", 14.0, 14.0, GRADED, 0.0)]
    return final_grades(rows)


def rosters(tmp_path, **which: str) -> dict:
    found = {}
    for lms, text in which.items():
        (tmp_path / f"{lms}.csv").write_text(text, encoding="utf-8")
        found[lms] = read_roster(tmp_path / f"{lms}.csv", lms)
    return found


def table(path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def test_the_canvas_file_has_canvas_columns_and_points_row_and_updates_its_assignments(tmp_path):
    export = export_lms(tmp_path, grades(), POINTS, rosters(tmp_path, canvas=CANVAS_EXPORT))
    rows = table(tmp_path / "canvas_grades.csv")
    assert rows[0] == CANVAS_IDENTITY + ["01_data_transforms (7001)", "02_skip_connections", TOTAL], rows[0]
    assert rows[1] == ["    Points Possible", "", "", "", "", "13", "14", "27"]
    by_login = {row[3]: row for row in rows[2:]}
    assert by_login["ann"] == ["Doe, Ann", "101", "S-1", "ann", "Lab A", "12.5", "14", "26.5"]
    assert by_login["bob"][5:] == ["7", "", ""], "a notebook not graded is blank, and so is a total missing it"
    assert by_login["dan"][5:] == ["", "", ""]
    assert "Student, Test" not in {row[0] for row in rows} and len(rows) == 2 + 3
    assert export.matched_by == {"canvas": "SIS Login ID"}
    assert any("not on the roster" in w and "cat" in w for w in export.warnings), export.warnings
    assert any("without any graded notebook" in w and "Poe" in w and "left blank" in w for w in export.warnings)


def test_the_moodle_file_maps_by_email_and_holds_only_roster_students(tmp_path):
    export = export_lms(tmp_path, grades(), POINTS, rosters(tmp_path, moodle=MOODLE_EXPORT), zero_missing=True)
    rows = table(tmp_path / "moodle_grades.csv")
    assert rows[0] == ["First name", "Last name", "ID number", "Email address", "01_data_transforms",
                       "02_skip_connections", TOTAL]
    assert rows[1] == ["Ann", "Doe", "", "ann@uni.example", "12.5", "14", "26.5"]
    assert rows[2][4:] == ["7", "0", "7"] and rows[3][4:] == ["0", "0", "0"], "zero_missing: 0, and a total"
    assert len(rows) == 4, "Moodle refuses a file with a user it does not know: cat is named, not written"
    assert export.matched_by == {"moodle": "Email address (before the @)"}
    assert any("cat" in w for w in export.warnings) and any("scored 0" in w for w in export.warnings)
    for row in rows[1:]:
        assert all(cell == "" or float(cell) >= 0 and "," not in cell for cell in row[4:]), row


def test_a_named_match_column_is_used_and_a_wrong_one_is_refused(tmp_path):
    found = rosters(tmp_path, canvas=CANVAS_EXPORT)
    assert export_lms(tmp_path, grades(), POINTS, found, match={"canvas": "SIS Login ID"}).matched_by["canvas"] \
        == "SIS Login ID"
    with pytest.raises(ValueError, match="the canvas roster has the columns"):
        export_lms(tmp_path, grades(), POINTS, found, match={"canvas": "Email"})
    strangers = {"zed": FinalGrade("zed", {"01_data_transforms": 1.0})}
    with pytest.raises(ValueError, match="holds the graded students' ids"):
        export_lms(tmp_path, strangers, POINTS, found)


def test_a_file_that_is_not_the_lms_export_says_what_it_should_be(tmp_path):
    (tmp_path / "x.csv").write_text("name,points\nann,3\n")
    with pytest.raises(ValueError, match="not a Canvas gradebook export.*Section"):
        read_roster(tmp_path / "x.csv", "canvas")
    with pytest.raises(ValueError, match="not a Moodle grade export"):
        read_roster(tmp_path / "x.csv", "moodle")


def test_final_grades_hold_every_graded_student_with_what_to_look_at(tmp_path):
    path = write_final_grades(tmp_path / "final_grades.csv", grades(), POINTS)
    rows = {row["student_id"]: row for row in csv.DictReader(path.open())}
    assert set(rows) == {"ann", "bob", "cat"}, "a student missing from every roster is still here"
    assert rows["ann"]["total"] == "26.5" and rows["ann"]["max_total"] == "27"
    assert rows["bob"]["total"] == "" and "02_skip_connections not graded: not a notebook" in rows["bob"]["notes"]
    assert rows["bob"]["awaiting_manual_points"] == "1" and "await manual grading" in rows["bob"]["notes"]
