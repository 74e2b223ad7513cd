"""The instructor's whole loop on one gradebook: grade a class, grade the written answers by hand, export final grades.

A made-up class of three hands in the fixture assignment with a written "Think" answer (1 point) added: ann solves
everything, bob gets exercise 1 wrong, cat hands in the untouched release. Class grading (tools/grade_class.py's
``grade_class``) grades them in parallel and records them in a course directory's gradebook, the one formgrader
shows; its assignment list and submissions then work with no Generate click. ann's written answer is graded as
formgrader grades it (``nbgrader.api.Gradebook``: the grade's ``manual_score``), bob's from a marks sheet the
instructor fills in (``tools/gradebook.py awaiting`` then ``marks``), and ``tools/gradebook.py export`` writes the
final grades and the Canvas and Moodle files: the hand-given points are in the totals.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from course_lib.instructor.class_grading import grade_class
from course_lib.instructor.course import CourseDir
from course_lib.instructor.gradebook import copy_submissions, gradebook_url
from grading_helpers import FIXTURE_SOLUTIONS, REPO_ROOT, filled_with_solutions, with_answers, write_submission

NAME = "00_fixture"
THINK = "think_why"
WRONG_TOTAL = "import numpy as np\ndef running_total(values):\n    return np.asarray(values, dtype=float)"
ANSWER = "The running total of n values needs n - 1 additions."
CANVAS = ("Student,ID,SIS User ID,SIS Login ID,Section\n    Points Possible,,,,\n\"Doe, Ann\",1,S1,ann,A\n"
          "\"Roe, Bob\",2,S2,bob,A\n\"Poe, Dan\",4,S4,dan,B\n")
MOODLE = "First name,Last name,Email address\nAnn,Doe,ann@uni.example\nBob,Roe,bob@uni.example\n"


def with_think(source: Path, target: Path) -> None:
    """The fixture's source notebook with a written answer graded by hand (1 point) at its end."""
    notebook = nbformat.read(source, as_version=4)
    notebook.cells.append(nbformat.v4.new_markdown_cell("### Think 1 (1 point, read by your instructor): why?"))
    answer = nbformat.v4.new_markdown_cell("### BEGIN SOLUTION\nBecause it adds up.\n### END SOLUTION")
    answer.metadata["nbgrader"] = {"grade": True, "solution": True, "locked": False, "points": 1,
                                   "grade_id": THINK, "schema_version": 3}
    notebook.cells.append(answer)
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, target)


def tool(*args: str) -> subprocess.CompletedProcess:
    """A command of tools/ as the README writes it, run from the checkout."""
    return subprocess.run([sys.executable, *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def loop(tmp_path_factory):
    scratch = tmp_path_factory.mktemp("loop")
    solutions = scratch / "solutions"
    with_think(FIXTURE_SOLUTIONS / NAME / f"{NAME}.ipynb", solutions / NAME / f"{NAME}.ipynb")
    course = CourseDir.create(scratch / "course", solutions, [NAME])
    release = CourseDir.create(scratch / "release", solutions, [NAME]).generate(NAME) / f"{NAME}.ipynb"
    submitted = course.root / "submitted"
    solved = filled_with_solutions(release, solutions / NAME / f"{NAME}.ipynb")
    for cell in solved.cells:
        cell.source = ANSWER if cell.metadata.get("nbgrader", {}).get("grade_id") == THINK else cell.source
    write_submission(submitted, "ann", NAME, solved)
    wrong = with_answers(release, {"running_total": WRONG_TOTAL, "row_means": "import numpy as np\ndef row_means(m):"
                                   "\n    return np.asarray(m, dtype=float).mean(axis=1)", THINK: ANSWER})
    write_submission(submitted, "bob", NAME, wrong)
    write_submission(submitted, "cat", NAME, nbformat.read(release, as_version=4))
    report = grade_class(submitted, scratch / "grades", solutions_dir=solutions, workers=2, timeout=30,
                         progress=False, record_in=course.root)
    return scratch, course, report


def test_formgrader_sees_the_class_autograded_with_no_generate_click(loop):
    from nbgrader.apps.api import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    _, course, report = loop
    assert report.failures == [] and report.recorded_in == course.root
    config = PyFileConfigLoader("nbgrader_config.py", path=str(course.root)).load_config()  # what formgrader reads
    api = NbGraderAPI(CourseDirectory(config=config), config=config)
    assert [a["name"] for a in api.get_assignments()] == [NAME]
    submissions = {s["student"]: s for s in api.get_submissions(NAME)}
    assert {s: submissions[s]["autograded"] for s in submissions} == {"ann": True, "bob": True, "cat": True}
    assert submissions["ann"]["needs_manual_grade"] and submissions["bob"]["needs_manual_grade"]
    assert not submissions["cat"]["needs_manual_grade"], "an untouched written answer is nbgrader's 0 at once"
    graded = (course.root / "autograded" / "ann" / NAME / f"{NAME}.ipynb")
    assert graded.is_file(), "formgrader shows the graded notebook from the course directory's autograded/"


def test_written_answers_await_a_hand_grade_in_the_sheets_never_a_zero(loop):
    scratch, _, _ = loop
    grades = {row["student_id"]: row for row in csv.DictReader((scratch / "grades" / "grades.csv").open())}
    assert (grades["ann"]["score"], grades["ann"]["max_score"], grades["ann"]["awaiting_manual_points"]) == \
        ("3", "4", "1")
    assert (grades["bob"]["score"], grades["cat"]["score"], grades["cat"]["awaiting_manual_points"]) == ("2", "0", "0")
    think = {row["student_id"]: row for row in csv.DictReader((scratch / "grades" / "cell_grades.csv").open())
             if row["grade_id"] == THINK}
    assert think["ann"]["score"] == "" and think["ann"]["grading"] == "awaiting manual grading"
    assert think["cat"]["grading"] == "unanswered" and think["cat"]["score"] == "0"


def test_hand_marks_from_formgrader_and_from_a_sheet_reach_the_final_grades_and_the_lms(loop):
    from nbgrader.api import Gradebook

    scratch, course, _ = loop
    with Gradebook(gradebook_url(course.root)) as gradebook:  # what formgrader's Manual Grading does
        grade = gradebook.find_grade(THINK, NAME, NAME, "ann")
        grade.manual_score, grade.needs_manual_grade = 1.0, False
        gradebook.db.commit()
    sheet = scratch / "grades" / "marks.csv"
    place = ["--course-dir", str(course.root), "--solutions", str(scratch / "solutions")]
    done = tool("tools/gradebook.py", "awaiting", str(sheet), *place)
    rows = list(csv.DictReader(sheet.open()))
    assert done.returncode == 0 and [(r["student_id"], r["grade_id"]) for r in rows] == [("bob", THINK)], done
    assert rows[0]["answer"] == ANSWER and rows[0]["max_points"] == "1"
    rows[0]["points"] = "0.5"
    with sheet.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    done = tool("tools/gradebook.py", "marks", str(sheet), *place)
    assert done.returncode == 0 and "1 mark(s) written" in done.stdout, done.stderr
    for path, text in (("canvas.csv", CANVAS), ("moodle.csv", MOODLE)):
        (scratch / path).write_text(text)
    done = tool("tools/gradebook.py", "export", "--grades", str(scratch / "grades"), "--canvas",
                str(scratch / "canvas.csv"), "--moodle", str(scratch / "moodle.csv"), *place)
    assert done.returncode == 0, done.stderr
    final = {row["student_id"]: row for row in csv.DictReader((scratch / "grades" / "final_grades.csv").open())}
    assert {s: final[s]["total"] for s in final} == {"ann": "4", "bob": "2.5", "cat": "0"}, final
    assert final["ann"]["max_total"] == "4" and final["ann"]["awaiting_manual_points"] == "0"
    canvas = list(csv.reader((scratch / "grades" / "canvas_grades.csv").open()))
    assert canvas[1][-2:] == ["4", "4"] and [row[3:] for row in canvas[2:]] == [
        ["ann", "A", "4", "4"], ["bob", "A", "2.5", "2.5"], ["dan", "B", "", ""]]
    moodle = list(csv.reader((scratch / "grades" / "moodle_grades.csv").open()))
    assert moodle == [["First name", "Last name", "Email address", NAME, "Notebooks total"],
                      ["Ann", "Doe", "ann@uni.example", "4", "4"], ["Bob", "Roe", "bob@uni.example", "2.5", "2.5"]]
    assert "cat" in done.stderr and "not on the roster" in done.stderr and "Poe" in done.stderr, done.stderr
    sheet = csv.DictReader((scratch / "grades" / "cell_grades.csv").open())
    cells = {(r["student_id"], r["grade_id"]): r for r in sheet}
    assert cells[("bob", THINK)]["grading"] == "graded by hand" and cells[("bob", THINK)]["score"] == "0.5"
    page = (scratch / "grades" / "class_report.html").read_text()
    assert "awaiting manual grading:" not in page, "every written answer is graded now"


def test_grading_the_class_again_keeps_the_hand_marks(loop):
    from nbgrader.api import Gradebook

    scratch, course, _ = loop
    copy_submissions(gradebook_url(scratch / "grades"), gradebook_url(course.root))  # what a rerun records
    with Gradebook(gradebook_url(course.root)) as gradebook:
        assert gradebook.find_grade(THINK, NAME, NAME, "ann").manual_score == 1.0
        assert gradebook.find_grade(THINK, NAME, NAME, "bob").manual_score == 0.5
        assert not gradebook.find_grade(THINK, NAME, NAME, "bob").needs_manual_grade, "the same submission"


def test_a_wrong_mark_is_refused_with_its_row_and_nothing_is_written(loop):
    from nbgrader.api import Gradebook

    scratch, course, _ = loop
    sheet = scratch / "bad_marks.csv"
    sheet.write_text(f"student_id,notebook,grade_id,points\nann,{NAME},{THINK},0\nann,{NAME},{THINK},3\n"
                     f"zed,{NAME},{THINK},1\n")
    done = tool("tools/gradebook.py", "marks", str(sheet), "--course-dir", str(course.root))
    assert done.returncode == 1 and "2 mark(s) refused, none written" in done.stderr, done.stderr
    assert "outside 0..1" in done.stderr and "zed" in done.stderr
    with Gradebook(gradebook_url(course.root)) as gradebook:
        assert gradebook.find_grade(THINK, NAME, NAME, "ann").manual_score == 1.0


def test_a_class_graded_in_formgrader_alone_exports_too(loop):
    """Without grade_class's sheets (formgrader's Autograde button, say) the export reads the gradebook alone."""
    scratch, course, _ = loop
    fresh = scratch / "grades-formgrader"
    done = tool("tools/gradebook.py", "export", "--grades", str(fresh), "--course-dir", str(course.root),
                "--solutions", str(scratch / "solutions"))
    assert done.returncode == 0, done.stderr
    final = {row["student_id"]: row["total"] for row in csv.DictReader((fresh / "final_grades.csv").open())}
    assert final == {"ann": "4", "bob": "2.5", "cat": "0"}, final
    done = tool("tools/gradebook.py", "export", "--grades", str(fresh), "--course-dir", str(scratch / "nowhere"))
    assert done.returncode == 2 and "grade the class first" in done.stderr, done.stderr
