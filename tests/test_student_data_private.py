"""Student data stays private: every path that grading or collecting writes about students is git-ignored.

Names, answers, grades and feedback pages must never reach a public course repository by a careless `git add -A`.
The paths come from the tools themselves: nbgrader's folders as the course's nbgrader_config.py sets them (the
gradebook, submitted/, autograded/, feedback/, zip_collect's downloaded/, `nbgrader export`'s grades.csv, a
student's fetched copy), and what tools/grade_class.py writes into its --out folder (found by running its writer),
placed where the README puts it: grades/, and grades-shard-K/ per shard. `git check-ignore` decides, as git would.
"""

from __future__ import annotations

import csv
import subprocess
from pathlib import Path

import pytest
from traitlets.config.loader import PyFileConfigLoader

from grading_helpers import REPO_ROOT  # first: puts tools/ on sys.path
from grade_class import CELL_GRADE_COLUMNS, merge  # noqa: E402 - tools/grade_class.py

STUDENT, ASSIGNMENT = "alice", "01_data_transforms"


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


def grade_class_outputs(scratch: Path) -> list[str]:
    """The files tools/grade_class.py leaves in its --out folder, relative to it: its writer run on one shard's
    results (the CSVs, the class report, and the autograded notebooks, feedback pages and logs copied over)."""
    shard = scratch / "grades-shard-1"
    for sub, name in (("autograded", f"{ASSIGNMENT}.ipynb"), ("feedback", f"{ASSIGNMENT}.html")):
        (shard / sub / STUDENT / ASSIGNMENT).mkdir(parents=True)
        (shard / sub / STUDENT / ASSIGNMENT / name).write_text("{}")
    (shard / "logs").mkdir()
    (shard / "logs" / "worker-0.log").write_text("$ nbgrader autograde\n")
    row = {"student_id": STUDENT, "assignment": ASSIGNMENT, "score": "1", "max_score": "1", "status": "graded"}
    for name, columns, rows in (("grades.csv", list(row), [row]), ("cell_grades.csv", CELL_GRADE_COLUMNS, [
            {**row, "notebook": ASSIGNMENT, "grade_id": "merge-test", "diagnosis": ""}])):
        with (shard / name).open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)
    out = scratch / "grades"
    merge([shard], out)
    written = sorted(path.relative_to(out).as_posix() for path in out.rglob("*") if path.is_file())
    assert {"grades.csv", "cell_grades.csv", "exercise_stats.csv", "class_report.html"} <= set(written), written
    return written


def test_everything_nbgrader_writes_about_students_is_ignored_and_the_course_is_not():
    student_data, course_files = nbgrader_paths()
    assert not set(student_data) - ignored(student_data), \
        f"student data git would commit: {sorted(set(student_data) - ignored(student_data))}"
    assert course_files == [f"solutions/{ASSIGNMENT}/{ASSIGNMENT}.ipynb", f"notebooks/{ASSIGNMENT}/{ASSIGNMENT}.ipynb"]
    assert not ignored(course_files), "the course's own notebooks must stay tracked"


@pytest.mark.parametrize("out", ["grades", "grades-shard-3", "grades-2026-spring", "."])
def test_everything_grade_class_writes_is_ignored(tmp_path, out):
    """In the README's grades/, in a shard's folder, in any grades* folder, and even at the repository root."""
    paths = [str(Path(out) / name) if out != "." else name for name in grade_class_outputs(tmp_path)]
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
