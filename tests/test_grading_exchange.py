"""The JupyterHub route of the README's **Collect**: nbgrader's exchange, end to end, on the fixture assignment.

In temporary folders only: the instructor builds a course directory (course_lib.instructor.course.CourseDir),
`generate_assignment`, `release_assignment` into a temporary exchange root; two students, each with a working
folder and a private HOME/Jupyter config dir (so no instructor or global config leaks in), `list`,
`fetch_assignment` and `submit` (alice with the solutions filled in, bob with the untouched notebook); the
instructor `list --inbound`, `collect`, and tools/grade_class.py autogrades what was collected (alice full
marks, bob zero).

What the exchange needs (nbgrader 0.9, nbgrader/exchange/default/):
- `Exchange.root` (default /usr/local/share/nbgrader/exchange) must be a folder whose mode is exactly 0o777.
  `release_assignment` creates it with 0o777 when it is missing (so its parent must be writable by the
  instructor), or chmods an existing one to 0o777, which fails unless the instructor owns it. On a hub an
  admin creates it once (`mkdir -p <root> && chmod 0777 <root>`). The other commands only check that the
  root is writable and searchable for their user. This test leaves the root missing and asserts the modes
  nbgrader then sets: root 0o777, <root>/<course>/ and outbound/ 0o755, inbound/ 0o2733 (students can write
  their submission but not list anyone else's).
- A course id on both sides: the instructor's comes from nbgrader_config.py (`c.CourseDirectory.course_id`);
  a student has no course config, so fetch/submit need `--course=<id>` (or a global config on the hub),
  else they fail with "No course id specified".
- A submission is filed under the unix user name unless `--student=<id>` is given. Here every role runs as
  one account, so the students pass `--student`.

Not checked, because it needs a real multi-user system: the isolation between accounts. With one account
nbgrader's `os.access` permission checks pass trivially (always, when that account is root), and `collect`
warns that every submission "is owned by" that account rather than by the student; the test asserts that
this ownership check runs. Running the students as another uid is not possible on the development machine
either: the interpreter lives under /root (mode 0o700) and creating users is not a test's business.
"""

from __future__ import annotations

import csv
import os
import pwd
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest
from traitlets.config.loader import PyFileConfigLoader

from course_lib.instructor.class_grading import ClassReport, grade_class
from course_lib.instructor.course import CourseDir, config_file, isolated_env
from grading_helpers import FIXTURE_SOLUTIONS, filled_with_solutions, grade_id, is_solution, read

ASSIGNMENT = "00_fixture"
COURSE_ID = PyFileConfigLoader(config_file().name, path=str(config_file().parent)).load_config().CourseDirectory.course_id
FULL, ZERO = "alice", "bob"  # alice submits the solutions, bob the untouched fetched notebook


@dataclass
class Exchange:
    """Everything the round trip left behind: folders, each step's nbgrader output, the grades."""

    root: Path
    instructor: CourseDir
    students: dict[str, CourseDir]
    outputs: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    modes: dict[str, int] = field(default_factory=dict)
    report: ClassReport | None = None
    grades: dict[str, dict] = field(default_factory=dict)

    def run(self, step: str, who: CourseDir, *args: str) -> str:
        """``nbgrader *args`` as ``who``, with this exchange; raises naming ``step`` and showing nbgrader's log."""
        start = time.perf_counter()
        done = who.run(*args, f"--Exchange.root={self.root}", check=False)
        self.seconds[step] = time.perf_counter() - start
        output = done.stdout + done.stderr
        self.outputs[step] = output
        if done.returncode != 0:
            pytest.fail(f"step '{step}': `nbgrader {' '.join(args)}` exited {done.returncode} in {who.root}:\n"
                        f"{output[-4000:]}", pytrace=False)
        return output

    def shown(self, *steps: str) -> str:
        """The named steps' nbgrader output, for failure messages."""
        return "\n".join(f"--- {s}:\n{self.outputs.get(s, '(step did not run)')[-3000:]}" for s in steps)

    def fetched(self, student: str) -> Path:
        return self.students[student].root / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"

    def collected(self, student: str) -> Path:
        return self.instructor.root / "submitted" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"


def student_workspace(folder: Path) -> CourseDir:
    """A student's working folder (no course config) with a private HOME: CourseDir only for its isolated run."""
    (folder / "work").mkdir(parents=True)
    return CourseDir(root=folder / "work", env=isolated_env(folder / "home"))


@pytest.fixture(scope="module")
def exchange(tmp_path_factory) -> Exchange:
    scratch = tmp_path_factory.mktemp("exchange-trip")
    start = time.perf_counter()
    instructor = CourseDir.create(scratch / "course", FIXTURE_SOLUTIONS, [ASSIGNMENT])
    trip = Exchange(scratch / "exchange", instructor,
                    {name: student_workspace(scratch / "students" / name) for name in (FULL, ZERO)})
    # The root is left missing on purpose: release_assignment creates it with the mode it needs (0o777).
    instructor.generate(ASSIGNMENT)
    trip.run("release_assignment", instructor, "release_assignment", ASSIGNMENT)
    course_path = trip.root / COURSE_ID
    for path in (trip.root, course_path, course_path / "outbound", course_path / "inbound"):
        trip.modes[path.relative_to(trip.root).as_posix()] = stat.S_IMODE(path.stat().st_mode)

    source = instructor.root / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    for name, student in trip.students.items():
        course = f"--course={COURSE_ID}"
        if name == FULL:  # one student lists (each nbgrader start costs ~3 s on the course's 2 cores)
            trip.run(f"{name}: list", student, "list", course)
        trip.run(f"{name}: fetch_assignment", student, "fetch_assignment", ASSIGNMENT, course)
        if name == FULL:
            nbformat.write(filled_with_solutions(trip.fetched(name), source), str(trip.fetched(name)))
        trip.run(f"{name}: submit", student, "submit", ASSIGNMENT, course, f"--student={name}")

    trip.run("list --inbound", instructor, "list", "--inbound")
    trip.run("collect", instructor, "collect", ASSIGNMENT)
    trip.report = grade_class(instructor.root / "submitted", scratch / "graded", course=instructor, workers=2,
                              feedback=False, progress=False)
    if trip.report.grades_csv.is_file():
        trip.grades = {row["student_id"]: row for row in csv.DictReader(trip.report.grades_csv.open())}
    steps = ", ".join(f"{step} {seconds:.1f}" for step, seconds in trip.seconds.items())
    print(f"\nexchange round trip: {time.perf_counter() - start:.1f} s (nbgrader steps, s: {steps}; "
          f"grade_class {trip.report.seconds:.1f})")
    return trip


def test_release_lays_out_the_exchange_with_the_modes_a_hub_needs(exchange):
    expected = {".": 0o777, COURSE_ID: 0o755, f"{COURSE_ID}/outbound": 0o755, f"{COURSE_ID}/inbound": 0o2733}
    assert exchange.modes == expected, \
        f"release_assignment left modes {({k: oct(v) for k, v in exchange.modes.items()})}, expected " \
        f"{({k: oct(v) for k, v in expected.items()})}:\n{exchange.shown('release_assignment')}"
    released = exchange.root / COURSE_ID / "outbound" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    assert released.is_file(), f"release_assignment did not publish {released}:\n{exchange.shown('release_assignment')}"


def test_student_lists_the_release_without_any_course_config(exchange):
    listed = exchange.outputs[f"{FULL}: list"]
    assert f"{COURSE_ID} {ASSIGNMENT}" in listed, \
        f"step '{FULL}: list' does not show the released assignment:\n{exchange.shown(f'{FULL}: list')}"
    for step in (f"{FULL}: list", f"{FULL}: fetch_assignment", f"{ZERO}: submit"):
        assert "No nbgrader_config.py file found" in exchange.outputs[step], \
            f"step '{step}' read an nbgrader_config.py: a student's side must work from the command line " \
            f"options alone, with no instructor or global config leaking in:\n{exchange.shown(step)}"


@pytest.mark.parametrize("student", [FULL, ZERO])
def test_student_fetches_the_release(exchange, student):
    fetched = exchange.fetched(student)
    assert fetched.is_file(), f"step '{student}: fetch_assignment' left no {fetched}:\n" \
                              f"{exchange.shown(f'{student}: fetch_assignment')}"
    release = exchange.instructor.root / "notebooks" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    kept = [(grade_id(c), c.source) for c in read(fetched).cells if student == ZERO or not is_solution(c)]
    expected = [(grade_id(c), c.source) for c in read(release).cells if student == ZERO or not is_solution(c)]
    assert kept == expected, f"{student}'s fetched notebook is not the instructor's release " \
                             f"({'answers aside' if student == FULL else 'untouched'})"


def test_inbound_lists_both_submissions_before_collect(exchange):
    listed = exchange.outputs["list --inbound"]
    for student in (FULL, ZERO):
        assert f"{COURSE_ID} {student} {ASSIGNMENT}" in listed, \
            f"step 'list --inbound' does not show {student}'s submission:\n" \
            f"{exchange.shown('list --inbound', f'{student}: submit')}"


def test_collect_files_each_students_own_notebook(exchange):
    for student in (FULL, ZERO):
        path = exchange.collected(student)
        assert path.is_file(), f"step 'collect' did not file {path}:\n{exchange.shown('collect', f'{student}: submit')}"
    source = exchange.instructor.root / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    answers = {grade_id(c): c.source for c in read(source).cells if is_solution(c)}
    collected = {grade_id(c): c.source for c in read(exchange.collected(FULL)).cells if is_solution(c)}
    assert collected == answers, f"{FULL}'s collected answers are not the ones submitted: {collected}"
    account = pwd.getpwuid(os.getuid()).pw_name
    for student in (FULL, ZERO):  # on a hub the owner is the student; here every role is one account
        assert f"claims to be submitted by {student} but is owned by {account}" in exchange.outputs["collect"], \
            f"step 'collect' did not check who owns {student}'s submission (CollectApp.check_owner):\n" \
            f"{exchange.shown('collect')}"
    untouched = [c.source for c in read(exchange.collected(ZERO)).cells if is_solution(c)]
    assert all("raise NotImplementedError()" in s for s in untouched), \
        f"{ZERO}'s collected notebook is not the untouched release: {untouched}"


def test_collected_submissions_grade_full_and_zero(exchange):
    assert exchange.report.failures == [], f"grading failed: {exchange.report.failures}"
    assert set(exchange.grades) == {FULL, ZERO}, \
        f"grades.csv holds {sorted(exchange.grades)}, expected {FULL} and {ZERO}:\n{exchange.shown('collect')}"
    full, zero = exchange.grades[FULL], exchange.grades[ZERO]
    assert float(full["max_score"]) > 0, f"the fixture has no points to score: {full}"
    assert float(full["score"]) == float(full["max_score"]), \
        f"{FULL} submitted the solutions through the exchange but scored {full['score']} of {full['max_score']}; " \
        f"see {exchange.report.out_dir / 'logs'}"
    assert float(zero["score"]) == 0.0, \
        f"{ZERO} submitted the untouched notebook but scored {zero['score']}; see {exchange.report.out_dir / 'logs'}"

