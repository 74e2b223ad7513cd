"""The whole instructor path with the real nbgrader, for every assignment in solutions/ (and the fixture).

Per assignment, one temporary course directory is built once (module-scoped) and reused by every test:
generate_assignment; four submissions zipped as an LMS download and collected with `nbgrader zip_collect`
(the Colab route): the solutions filled into the release (full marks), the untouched release (zero), the
release with its visible tests gutted to `pass` (still zero: nbgrader restores the tests from the gradebook), and
the solutions with an early exercise wrong or unstarted while the later answers that call it are right (only the
early exercise scores zero: each exercise is graded on its own); then class grading (tools/grade_class.py) autogrades the four in
parallel workers, generates feedback and exports grades.csv.

`nbgrader validate` (source passes) and `validate --invert` (release fails every test) run on the fixture
only. Each is one more execution of the notebook, and for the course's assignments the autograde above
already asserts the same, cell by cell and with the hidden tests: every test cell scores full marks with
the solutions and zero on the untouched release. That keeps `make test` within its time budget.
"""

from __future__ import annotations

import csv
import re
import subprocess
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest

from grading_helpers import (FIXTURE_SOLUTIONS, REPO_ROOT, filled_with_solutions, grade_id, is_solution, is_test,
                             is_written_answer, read, selected, with_visible_tests_gutted)
from course_lib.instructor.class_grading import ClassReport, grade_class
from course_lib.instructor.course import CourseDir, find_assignments

SOURCES = {"course": REPO_ROOT / "solutions", "fixture": FIXTURE_SOLUTIONS}
# every assignment, or the one `make check NOTEBOOK=<name>` names (COURSE_NOTEBOOK)
CASES = [(kind, name) for kind, solutions in SOURCES.items() for name in selected(find_assignments(solutions))]
STUDENTS = ("full", "zero", "gutted")


@dataclass(frozen=True)
class Slip:
    """The "slipped" student: the solutions with ``answers`` ({answer grade id: source}) in place of some.

    ``lost`` are the test cells that must score zero (the slipped exercises'), every other test cell full marks;
    ``says`` ({test grade id: text}): what a later exercise's passed check must say about the earlier answer.
    """

    answers: dict[str, str]
    lost: frozenset[str]
    says: dict[str, str] = field(default_factory=dict)


HALF_DICE = """EPS = 0.001


def dice(prediction, truth):
    axes = tuple(range(1, prediction.dim()))
    return (prediction * truth).sum(dim=axes) / ((prediction ** 2 + truth ** 2).sum(dim=axes) + EPS)
"""
SLIPS = {
    "00_fixture": Slip({"running_total": "def running_total(values):\n    return np.asarray(values, dtype=float)"},
                       frozenset({"test_running_total"})),
    "01_data_transforms": Slip({"merge-answer": "def merge_masks(left, right):\n    return left + right"},
                               frozenset({"merge-test"})),
    "02_skip_connections": Slip({
        "sum-fusion-answer": "def sum_fusion(decoder, skip):\n    return torch.cat([decoder, skip], dim=1)",
        "resnet-block-answer": """class ResNetBlock(nn.Module):
    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1)
        self.projection = nn.Conv2d(in_channels, out_channels, 1) if in_channels != out_channels else None

    def forward(self, x):
        a = torch.relu(x)
        shortcut = x if self.projection is None else self.projection(a)
        return sum_fusion(self.conv2(torch.relu(self.conv1(a))), shortcut)"""}, frozenset({"sum-fusion-test"}),
        {"resnet-block-test": "Your sum_fusion() has not passed its check yet (exercise 2)"}),
    "03_convlstm": Slip({
        "split-gates-answer": "def split_gates(features):\n    raise NotImplementedError()",
        "cell-update-answer": "def cell_update(cell, i, j, f, forget_bias=1.0, activation=torch.relu):\n"
                       "    return cell * torch.sigmoid(f + 1.0) + torch.sigmoid(i) * activation(j)"},
        frozenset({"split-gates-test", "cell-update-test"}),
        {"convlstm-step-test": "Your cell_update() has not passed its check yet (exercise 2)"}),
    "04_cfcm_training": Slip({
        "dice-answer": HALF_DICE,
        "train-step-answer": """def train_step(model, optimizer, images, labels):
    optimizer.zero_grad()
    loss = dice_loss(torch.sigmoid(model(images)), labels)
    loss.backward()
    optimizer.step()
    return loss.detach()"""}, frozenset({"dice-test"}),
        {"score-loss-test": "Your dice() has not passed its check yet (exercise 1)"}),
}


@dataclass
class RoundTrip:
    name: str
    course: CourseDir
    source: Path
    release: Path
    report: ClassReport
    grades: dict[str, dict]
    cells: list[dict]


@pytest.fixture(scope="module", params=CASES, ids=[f"{k}-{n}" for k, n in CASES])
def trip(request, tmp_path_factory) -> RoundTrip:
    kind, name = request.param
    scratch = tmp_path_factory.mktemp(f"trip-{name}")
    start = time.perf_counter()
    course = CourseDir.create(scratch / "course", SOURCES[kind], [name])
    release = course.generate(name) / f"{name}.ipynb"
    source = course.root / "solutions" / name / f"{name}.ipynb"
    notebooks = {"full": filled_with_solutions(release, source), "zero": read(release),
                 "gutted": with_visible_tests_gutted(release), "slipped": filled_with_solutions(release, source)}
    for cell in notebooks["slipped"].cells:
        cell.source = SLIPS[name].answers.get(grade_id(cell), cell.source) if is_solution(cell) else cell.source
    archive = course.root / "downloaded" / name / "archive"
    archive.mkdir(parents=True)
    with zipfile.ZipFile(archive / "class.zip", "w") as bundle:
        for student, notebook in notebooks.items():
            bundle.writestr(f"{student}/{name}.ipynb", nbformat.writes(notebook))
    course.run("zip_collect", name)
    report = grade_class(course.root / "submitted", scratch / "graded", course=course, workers=2, progress=False)
    grades = {row["student_id"]: row for row in csv.DictReader(report.grades_csv.open())}
    cells = list(csv.DictReader(report.cell_grades_csv.open()))
    autograde = sum(s.seconds for s in report.steps if s.step == "autograde")
    print(f"\n{name}: round trip {time.perf_counter() - start:.1f} s, grade_class {report.seconds:.1f} s "
          f"(autograde {autograde / len(notebooks):.1f} s per submission per worker)")
    return RoundTrip(name, course, source, release, report, grades, cells)


@pytest.fixture(scope="module")
def validated(tmp_path_factory) -> tuple[str, str]:
    """(`nbgrader validate` of the fixture's source, `validate --invert` of its release): their outputs."""
    if not selected(["00_fixture"]):
        pytest.skip("one notebook selected (COURSE_NOTEBOOK): the fixture is not validated")
    course = CourseDir.create(tmp_path_factory.mktemp("validate"), FIXTURE_SOLUTIONS, ["00_fixture"])
    release = course.generate("00_fixture") / "00_fixture.ipynb"
    source = course.root / "solutions" / "00_fixture" / "00_fixture.ipynb"
    passes = course.run("validate", str(source), check=False)
    fails = course.run("validate", "--invert", str(release), check=False)
    return passes.stdout + passes.stderr, fails.stdout + fails.stderr


def test_zip_collect_files_every_submission(trip):
    for student in STUDENTS:
        assert (trip.course.root / "submitted" / student / trip.name / f"{trip.name}.ipynb").is_file(), \
            f"zip_collect did not file {student}'s notebook; check FileNameCollectorPlugin.named_regexp"


def test_source_passes_validate(validated):
    assert "Success! Your notebook passes all the tests." in validated[0], validated[0][-3000:]


def test_release_fails_every_test_under_validate_invert(validated):
    assert "Success! The notebook does not pass any tests." in validated[1], validated[1][-3000:]


def test_grading_ran_without_failures(trip):
    assert trip.report.failures == [], trip.report.failures


def _written_points(trip) -> float:
    return sum(float(c.metadata["nbgrader"]["points"]) for c in read(trip.source).cells if is_written_answer(c))


def test_solutions_get_full_marks(trip):
    """Every autograded point; the written answers wait for the instructor, named as such, never scored 0."""
    row = trip.grades["full"]
    written = _written_points(trip)
    assert float(row["max_score"]) > 0
    assert float(row["awaiting_manual_points"]) == written, row
    assert float(row["score"]) == float(row["max_score"]) - written, \
        f"{trip.name}: the solutions scored {row['score']} of {row['max_score']} ({written} to grade by hand): " \
        f"{[c for c in trip.cells if c['student_id'] == 'full' and c['score'] not in (c['max_score'], '')]}"


@pytest.mark.parametrize("student", ["zero", "gutted"])
def test_release_and_gutted_tests_score_zero(trip, student):
    assert float(trip.grades[student]["score"]) == 0.0, \
        f"{trip.name}: {student} scored {trip.grades[student]['score']}: " \
        f"{[c for c in trip.cells if c['student_id'] == student and float(c['score']) > 0]}"


def test_every_test_cell_passes_with_the_solutions_and_fails_on_the_release(trip):
    source = read(trip.source).cells
    written = {grade_id(c) for c in source if is_written_answer(c)}
    graded_ids = sorted(grade_id(c) for c in source if is_test(c) or is_written_answer(c))
    for student in STUDENTS:
        graded = sorted(c["grade_id"] for c in trip.cells if c["student_id"] == student)
        assert graded == graded_ids, f"{student}: graded cells {graded}, expected {graded_ids}"
    for cell in (cell for cell in trip.cells if cell["student_id"] in STUDENTS):
        if cell["grade_id"] in written and cell["student_id"] == "full":  # answered: the instructor grades it
            assert cell["score"] == "" and cell["grading"] == "awaiting manual grading", cell
            continue
        expected = float(cell["max_score"]) if cell["student_id"] == "full" else 0.0  # unanswered: nbgrader's 0
        assert float(cell["score"]) == expected, \
            f"{trip.name}/{cell['grade_id']}: {cell['student_id']} scored {cell['score']}, expected {expected}"


def test_each_failed_test_carries_its_diagnosis_as_data(trip):
    """The graded notebook's test cells hold each failed check's diagnosis as data: the untouched release's tests
    fail as not started, the slipped exercises for a cause of their own, the solutions' not at all."""
    tests = {grade_id(c) for c in read(trip.source).cells if is_test(c)}
    rows = {(c["student_id"], c["grade_id"]): c for c in trip.cells if c["grade_id"] in tests}
    for grade in tests:
        assert rows[("zero", grade)]["failure"] == "not started", rows[("zero", grade)]
        assert rows[("full", grade)]["failure"] == "" and rows[("full", grade)]["cause"] == ""
    for grade in SLIPS[trip.name].lost:
        slipped = rows[("slipped", grade)]
        assert slipped["failure"] in ("wrong", "not started") and slipped["cause"], slipped
        if slipped["failure"] == "wrong":  # the cause is the student's message with its case and numbers left out
            pattern = ".*".join(re.escape(part.strip()) for part in slipped["cause"].split("…"))
            assert re.search(pattern, " ".join(slipped["diagnosis"].split()), re.S), slipped


def test_an_earlier_slip_costs_only_its_own_exercise(trip):
    """Under real autograde, a later answer that calls a wrong or unstarted earlier one scores full marks (its check
    ran it with the course's version of the earlier answer, and says so); only the earlier exercise scores zero."""
    slip = SLIPS[trip.name]
    written = {grade_id(c) for c in read(trip.source).cells if is_written_answer(c)}
    scores = {c["grade_id"]: c for c in trip.cells if c["student_id"] == "slipped" and c["grade_id"] not in written}
    assert slip.lost < set(scores), f"{trip.name}: {sorted(slip.lost)} are not among the test cells {sorted(scores)}"
    for grade, cell in scores.items():
        expected = 0.0 if grade in slip.lost else float(cell["max_score"])
        assert float(cell["score"]) == expected, (f"{trip.name}/{grade}: the slipped submission scored {cell['score']},"
                                                  f" expected {expected}: {cell['diagnosis']}")
    autograded = read(trip.report.out_dir / "autograded" / "slipped" / trip.name / f"{trip.name}.ipynb")
    shown = {grade_id(c): "\n".join(str(o.get("data", {}).get("text/plain", "")) for o in c.get("outputs", []))
             for c in autograded.cells if is_test(c)}
    for grade, text in slip.says.items():
        assert text in shown[grade], f"{trip.name}/{grade} does not say {text!r}:\n{shown[grade]}"


def test_what_grading_wrote_about_the_students_would_be_git_ignored_in_the_repository(trip):
    """Every file this real run left about the students, put where the README puts it (nbgrader's folders at the
    repository root, grade_class's --out as grades/), is git-ignored: a careless `git add -A` publishes no one."""
    own = {"solutions", "notebooks", "nbgrader_config.py", ".home"}  # the course's own files, and the run's HOME
    nbgrader = [path.relative_to(trip.course.root).as_posix() for path in trip.course.root.rglob("*")
                if path.is_file() and path.relative_to(trip.course.root).parts[0] not in own]
    graded = [f"grades/{path.relative_to(trip.report.out_dir).as_posix()}" for path in trip.report.out_dir.rglob("*")
              if path.is_file()]
    assert "gradebook.db" in nbgrader and any(p.startswith("submitted/") for p in nbgrader) and graded
    paths = nbgrader + graded
    done = subprocess.run(["git", "check-ignore", "--stdin"], input="\n".join(paths), capture_output=True, text=True,
                          cwd=REPO_ROOT)
    exposed = sorted(set(paths) - set(done.stdout.splitlines()))
    assert not exposed, f"git would commit student data: {exposed}"


def test_an_unsolved_release_runs_every_cell_but_the_exercises(trip):
    """A student who has solved nothing yet still sees every demonstration run: only the exercise stubs and the
    tests that check them may fail, so no later cell silently depends on a finished exercise."""
    autograded = read(trip.report.out_dir / "autograded" / "zero" / trip.name / f"{trip.name}.ipynb")
    failed = [(index, cell) for index, cell in enumerate(autograded.cells) if cell.cell_type == "code"
              and any(output.output_type == "error" for output in cell.get("outputs", []))]
    assert any(is_solution(cell) or is_test(cell) for _, cell in failed), "the untouched release raised nothing"
    stray = [f"cell {index} ({cell.get('id')}): {cell.source[:80]!r} raised "
             f"{next(o for o in cell.outputs if o.output_type == 'error').ename}"
             for index, cell in failed if not (is_solution(cell) or is_test(cell))]
    assert not stray, f"{trip.name}: cells outside the exercises fail when nothing is solved:\n" + "\n".join(stray)


def test_edited_tests_are_restored_from_the_gradebook(trip):
    autograded = read(trip.report.out_dir / "autograded" / "gutted" / trip.name / f"{trip.name}.ipynb")
    restored = {grade_id(c): c.source for c in autograded.cells if is_test(c)}
    original = {grade_id(c): c.source for c in read(trip.source).cells if is_test(c)}
    assert restored == original, "nbgrader did not restore the test cells (with hidden tests) from the gradebook"


def test_feedback_is_generated_for_every_student(trip):
    for student in STUDENTS:
        html = trip.report.out_dir / "feedback" / student / trip.name / f"{trip.name}.html"
        assert html.is_file(), f"no feedback for {student}: {html}"
    zero = (trip.report.out_dir / "feedback" / "zero" / trip.name / f"{trip.name}.html").read_text()
    assert "NotImplementedError" in zero, "the feedback does not tell the student which answer is missing"


def test_a_failed_test_shows_the_diagnosis_without_course_lib_frames(trip):
    """Under nbgrader a failed check raises CheckFailed; its traceback (what the feedback shows) is the exercise,
    the diagnosis and the advice, not the checker's own code."""
    autograded = read(trip.report.out_dir / "autograded" / "zero" / trip.name / f"{trip.name}.ipynb")
    for cell in autograded.cells:
        if not is_test(cell):
            continue
        errors = [output for output in cell.outputs if output.output_type == "error"]
        assert len(errors) == 1 and errors[0].ename == "CheckFailed", f"{grade_id(cell)}: {errors}"
        traceback = "\n".join(errors[0].traceback)
        assert "NotImplementedError" in traceback and "Replace `raise NotImplementedError()`" in traceback
        assert "course_lib" not in traceback.replace("course_lib's", "").replace("course_lib.", ""), \
            f"{grade_id(cell)}: the traceback shows course_lib's frames:\n{traceback}"
        assert "File " not in traceback and "line " not in traceback.split("NotImplementedError")[0], traceback
