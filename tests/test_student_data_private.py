"""Student data stays private: every path that grading or collecting writes about students is git-ignored.

Names, answers, grades and feedback pages must never reach a public course repository by a careless `git add -A`.
The paths come from the tools themselves: nbgrader's folders as the course's nbgrader_config.py sets them (the
gradebook, submitted/, autograded/, feedback/, zip_collect's downloaded/, `nbgrader export`'s grades.csv, a
student's fetched copy), and what tools/grade_class.py and tools/gradebook.py write into its --out folder (found by running them),
placed where the README puts it: grades/, and grades-shard-K/ per shard. `git check-ignore` decides, as git would.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import nbformat
import pytest
from traitlets.config.loader import PyFileConfigLoader

from course_lib.instructor.class_grading import merge, publish
from course_lib.instructor.commands import gradebook_main
from course_lib.instructor.gradebook import gradebook_url, register
from course_lib.instructor.status import GRADED
from course_lib.instructor.tables import Notes
from grading_helpers import FIXTURE_SOLUTIONS, REPO_ROOT

STUDENT, ASSIGNMENT, FIXTURE = "alice", "01_data_transforms", "00_fixture"


def ignored(paths: list[str], tracked: bool = False) -> set[str]:
    """The paths (relative to the repository) that git ignores; ``tracked``: match tracked files too."""
    done = subprocess.run(["git", "check-ignore", "--stdin", *(["--no-index"] if tracked else [])],
                          input="\n".join(paths), capture_output=True, text=True, cwd=REPO_ROOT)
    assert done.returncode in (0, 1), done.stderr  # 1: none ignored
    return set(done.stdout.splitlines())


def _relative(path: str | Path) -> str:
    return Path(path).resolve().relative_to(REPO_ROOT).as_posix()


def nbgrader_paths() -> tuple[list[str], list[str]]:
    """(what nbgrader writes about students, the course's own folders) with the repository's nbgrader_config.py."""
    from nbgrader.apps.zipcollectapp import ZipCollectApp
    from nbgrader.coursedir import CourseDirectory

    config = PyFileConfigLoader("nbgrader_config.py", path=str(REPO_ROOT)).load_config()
    course = CourseDirectory(config=config, root=str(REPO_ROOT))
    notebook = f"{ASSIGNMENT}.ipynb"
    student_data = [_relative(Path(course.format_path(step, STUDENT, ASSIGNMENT)) / name)
                    for step, name in ((course.submitted_directory, notebook),
                                       (course.autograded_directory, notebook),
                                       (course.feedback_directory, f"{ASSIGNMENT}.html"))]
    database = course.db_url.removeprefix("sqlite:///")
    student_data += [_relative(database + suffix) for suffix in ("", "-journal", "-wal", "-shm")]
    collect = ZipCollectApp(config=config)
    for step, name in ((collect.archive_directory, "class.zip"), (collect.extracted_directory, f"{STUDENT}/{notebook}")):
        folder = collect.collect_directory_structure.format(downloaded="downloaded", assignment_id=ASSIGNMENT,
                                                            collect_step=step)
        student_data.append(f"{folder}/{name}")
    student_data += ["grades.csv",                                  # `nbgrader export` (CsvExportPlugin's default)
                     f"{ASSIGNMENT}/{notebook}",                    # a student's `nbgrader fetch_assignment`
                     f"{ASSIGNMENT}/feedback/2026-01-01 10:00:00.000000 UTC/{ASSIGNMENT}.html",  # fetch_feedback
                     f"exchange/cfcm/inbound/{STUDENT}+{ASSIGNMENT}+2026-01-01/{notebook}",  # a local exchange
                     ".nbgrader.log"]
    course_files = [_relative(Path(course.format_path(folder, ".", ASSIGNMENT)) / notebook)
                    for folder in (course.source_directory, course.release_directory)]
    return student_data, course_files


@pytest.fixture(scope="module")
def grade_class_outputs(tmp_path_factory) -> list[str]:
    """The files the instructor's tools leave in grade_class's --out folder, relative to it, found by running their
    writers: a shard's results (gradebook, sheets, report, autograded notebooks, feedback pages, logs) merged, the
    marks sheet of the written answers to grade, and the export's final grades and LMS files."""
    from nbgrader.api import Gradebook

    scratch = tmp_path_factory.mktemp("outputs")
    shard = scratch / "grades-shard-1"
    register(shard, FIXTURE_SOLUTIONS)
    with Gradebook(gradebook_url(shard)) as gradebook:
        gradebook.add_student(STUDENT)
        gradebook.add_submission(FIXTURE, STUDENT)
    for sub, name in (("autograded", f"{FIXTURE}.ipynb"), ("feedback", f"{FIXTURE}.html")):
        (shard / sub / STUDENT / FIXTURE).mkdir(parents=True)
        (shard / sub / STUDENT / FIXTURE / name).write_text(nbformat.writes(nbformat.v4.new_notebook()))
    (shard / "logs").mkdir()
    (shard / "logs" / "worker-0.log").write_text("$ nbgrader autograde\n")
    publish(shard, gradebook_url(shard), Notes({(STUDENT, FIXTURE): GRADED}, {}), FIXTURE_SOLUTIONS)
    out = scratch / "grades"
    merge([shard], out, FIXTURE_SOLUTIONS)
    roster = scratch / "roster.csv"
    roster.write_text(f"Student,ID,SIS User ID,SIS Login ID,Section\n\"Doe, Alice\",1,S1,{STUDENT},A\n")
    course = ["--course-dir", str(out), "--solutions", str(FIXTURE_SOLUTIONS)]
    assert gradebook_main(["awaiting", str(out / "marks.csv"), *course]) == 0
    assert gradebook_main(["export", "--grades", str(out), "--canvas", str(roster), *course]) == 0
    written = sorted(path.relative_to(out).as_posix() for path in out.rglob("*") if path.is_file())
    assert {"grades.csv", "cell_grades.csv", "exercise_stats.csv", "class_report.html", "gradebook.db",
            "final_grades.csv", "canvas_grades.csv", "marks.csv"} <= set(written), written
    return written + ["moodle_grades.csv"]


def test_everything_nbgrader_writes_about_students_is_ignored_and_the_course_is_not():
    student_data, course_files = nbgrader_paths()
    assert not set(student_data) - ignored(student_data), \
        f"student data git would commit: {sorted(set(student_data) - ignored(student_data))}"
    assert course_files == [f"solutions/{ASSIGNMENT}/{ASSIGNMENT}.ipynb", f"notebooks/{ASSIGNMENT}/{ASSIGNMENT}.ipynb"]
    assert not ignored(course_files), "the course's own notebooks must stay tracked"


@pytest.mark.parametrize("out", ["grades", "grades-shard-3", "grades-2026-spring", "."])
def test_everything_grade_class_writes_is_ignored(grade_class_outputs, out):
    """In the README's grades/, in a shard's folder, in any grades* folder, and even at the repository root."""
    paths = [str(Path(out) / name) if out != "." else name for name in grade_class_outputs]
    if out == ".":  # its folders at the root are nbgrader's names, already covered; its files are named here
        paths = [path for path in paths if "/" not in path]
    assert not set(paths) - ignored(paths), f"git would commit: {sorted(set(paths) - ignored(paths))}"


def test_the_rules_are_not_so_broad_that_the_course_itself_is_ignored():
    tracked = subprocess.run(["git", "ls-files"], capture_output=True, text=True, cwd=REPO_ROOT, check=True)
    files = tracked.stdout.splitlines()
    assert files and not ignored(files, tracked=True), f"tracked files the rules match: {ignored(files, tracked=True)}"
    new_files = ["course_lib/grading/new_checker.py", "tests/fixtures/solutions/00_fixture/extra.ipynb",
                 "solutions/05_new/05_new.ipynb", "notebooks/05_new/05_new.ipynb", "benchmarks/new.py"]
    assert not ignored(new_files), "new course files would be ignored"
