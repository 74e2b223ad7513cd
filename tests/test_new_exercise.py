"""CONTRIBUTING.md's "A new exercise and its checker", followed to the letter on a throwaway copy of the repository.

The scaffold's cells are checked first, on copies of one notebook (seconds). Then the guide itself: the
repository's files (tracked, and new ones git does not ignore) are copied to a scratch folder, where a 1-point
exercise with two slips of its own is added to notebook 1 exactly as the guide says: ``tools/exercise.py`` makes the
cells, the instructor writes the statement, the hint and the course's answer into them, the checker is written
from the skeleton the scaffold printed, the partial answers and their causes go into
``tests/test_partial_answers.py``, README's counts are updated; then ``make release NOTEBOOK=01_data_transforms``
and ``make check NOTEBOOK=01_data_transforms`` must pass there (the copy's own tests, on the copy's library: its
points, partial answers, release and the real nbgrader round trip). If a step the guide leaves out is needed, this
test fails. It takes a few minutes on two cores (marked ``guide``: ``-m "not guide"`` leaves it out).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from course_lib.instructor.exercises import read_exercises
from course_lib.instructor.scaffold import NewExercise, ScaffoldError, add_exercise
from grading_helpers import REPO_ROOT, SOLUTIONS, grade_id, read

NOTEBOOK = "01_data_transforms"
# The exercises added here are named rescale_probe and RescaleProbe, names no real exercise takes: an instructor who
# adds the guide's own example (a min-max normalisation) to the course breaks none of these tests.


def _copy_notebook(tmp_path: Path, name: str) -> Path:
    target = tmp_path / name / f"{name}.ipynb"
    target.parent.mkdir(parents=True)
    shutil.copy(SOLUTIONS / name / f"{name}.ipynb", target)
    return target


def test_the_scaffold_makes_the_cells_in_the_notebooks_own_style(tmp_path):
    path = _copy_notebook(tmp_path, NOTEBOOK)
    before = read(path).cells
    last = read_exercises(path)[-1]
    # the next "## " heading after the last exercise's: the new exercise goes right before it
    following = next(index for index in range(last.heading_index + 1, len(before))
                     if before[index].cell_type == "markdown" and before[index].source.startswith("## "))
    number, skeleton = add_exercise(path, NewExercise(NOTEBOOK, "min-max normalisation", 2, "rescale_probe", "image"))
    cells = read(path).cells
    assert number == last.number + 1 and len(cells) == len(before) + 4
    new = read_exercises(path)[-1]
    assert (new.number, new.title, new.points, new.answers, new.test, new.checker, new.checker_module) == (
        number, "min-max normalisation", 2.0, ("rescale-probe-answer",), "rescale-probe-test", "check_rescale_probe",
        "course_lib.grading.transforms")
    heading, hint, answer, test = cells[new.heading_index:new.heading_index + 4]
    assert heading.source.startswith(f"## Exercise {number} (2 points): min-max normalisation\n")
    assert heading.metadata.nbgrader == {"grade": False, "grade_id": "md-rescale-probe", "locked": True,
                                         "schema_version": 3, "solution": False}
    assert "<details>" in hint.source and hint.metadata.nbgrader["locked"]
    assert answer.metadata.nbgrader == {"grade": False, "grade_id": "rescale-probe-answer", "locked": False,
                                        "schema_version": 3, "solution": True}
    assert re.search(r"^def rescale_probe\(image\):\n(    .*\n)*    ### BEGIN SOLUTION\n    .*\n    ### END SOLUTION$",
                     answer.source), "the solution sits inside the function's body"
    assert test.metadata.nbgrader == {"grade": True, "grade_id": "rescale-probe-test", "locked": True, "points": 2,
                                      "schema_version": 3, "solution": False}
    assert test.source == ("from course_lib.grading.transforms import check_rescale_probe\n\n"
                           "check_rescale_probe(rescale_probe)\n### BEGIN HIDDEN TESTS\ncheck_rescale_probe(rescale_probe, seed=1)\n### END HIDDEN TESTS")
    assert new.heading_index == following, "after the last exercise's section, before the next heading"
    assert cells[new.heading_index - 1] == before[following - 1] and cells[new.heading_index + 4] == before[following]
    assert ('check_rescale_probe = declare(Declaration(\n'
            f'    "01_data_transforms", {number}, "min-max normalisation (rescale_probe)", 2, '
            '"rescale_probe",\n') in skeleton
    assert "def _rescale_probe_cases(seed: int) -> list[Case]:" in skeleton and "run=" not in skeleton


def test_the_scaffold_makes_a_class_answer_and_its_declaration_runs_as_printed(tmp_path):
    path = _copy_notebook(tmp_path, NOTEBOOK)
    new = NewExercise(NOTEBOOK, "min-max normalisation", 2, "RescaleProbe", "low=0.0", is_class=True)
    number, skeleton = add_exercise(path, new)
    exercise = read_exercises(path)[-1]
    assert (exercise.answers, exercise.test, exercise.checker) == (
        ("rescale-probe-answer",), "rescale-probe-test", "check_rescale_probe")
    answer = read(path).cells[exercise.heading_index + 2].source
    assert answer.startswith("class RescaleProbe:\n") and "        self.low = low\n" in answer
    assert re.search(r"    def __call__\(self, data: dict\) -> dict:\n        ### BEGIN SOLUTION\n", answer)
    namespace: dict = {}
    assert "output=data_dicts((\"images\",))" in skeleton and "run=lambda answer, data: answer()(data)" in skeleton
    exec("import numpy as np\nfrom course_lib.grading.declare import Case, Declaration, Slip, data_dicts, declare\n"
         + skeleton.replace(f'"{NOTEBOOK}", {number},', '"98_scaffold_test", 1,'), namespace)

    class RescaleProbe:  # the placeholder reference gives back its input
        def __call__(self, data):
            return data

    namespace["check_rescale_probe"](RescaleProbe)


def test_the_scaffold_numbers_and_names_an_exercise_in_another_notebook_alike(tmp_path):
    path = _copy_notebook(tmp_path, "02_skip_connections")
    last = read_exercises(path)[-1].number
    number, _ = add_exercise(path, NewExercise("02_skip_connections", "a gated sum", 1, "gated_sum", "a, b, gate"))
    new = read_exercises(path)[-1]
    assert (number, new.answers, new.test, new.checker_module) == (
        last + 1, ("gated-sum-answer",), "gated-sum-test", "course_lib.grading.networks")


def test_the_scaffold_refuses_what_would_break_the_numbering_or_a_grade_id(tmp_path):
    path = _copy_notebook(tmp_path, NOTEBOOK)
    with pytest.raises(ScaffoldError, match="comes before the notebook's last exercise"):
        add_exercise(path, NewExercise(NOTEBOOK, "early", 1, "early"), before="md-merge")
    add_exercise(path, NewExercise(NOTEBOOK, "min-max normalisation", 1, "rescale_probe"))
    with pytest.raises(ScaffoldError, match="already has cells"):
        add_exercise(path, NewExercise(NOTEBOOK, "again", 1, "rescale_probe"))


# ---------------------------------------------------------------------------------------------- the whole guide
STATEMENT = ("Write `rescale_probe(image)`. It returns the image scaled so that its smallest value becomes 0 and its "
             "largest 1, as a `float32` array of the same shape.")
HINT = ("**Hint.** Move the image so that it starts at 0, then divide by how far it spans.\n\n"
        "<details><summary>More help (click to open)</summary>\n\n"
        "`np.ptp` gives the span of an array. Training code wants `float32`.\n\n"
        "**Still stuck?** Run the test cell: its message is the next hint.\n\n</details>")
ANSWER = ("    low, high = image.min(), image.max()\n"
          "    return ((image - low) / (high - low)).astype(np.float32)\n")
# What the instructor writes in the skeleton's place: the cases, then the declaration's header as printed, then what
# only the instructor knows (the course's version, how outputs compare, the slips and the advice).
CHECKER_CASES = '''def _rescale_probe_cases(seed: int) -> list[Case]:
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(4):
        low, high = sorted(rng.uniform(1, 300, size=2))
        image = rng.uniform(low, high, size=tuple(int(n) for n in rng.integers(4, 9, size=2)))
        cases.append(Case(f"rescale_probe(an image from {image.min():.4g} to {image.max():.4g})", (image,)))
    return cases
'''
CHECKER_BODY = '''    reference=lambda image: ((image - image.min()) / np.ptp(image)).astype(np.float32),
    cases=_rescale_probe_cases, output=arrays(atol=1e-6),
    slips=tuple(Slip("You divided without subtracting the minimum first: subtract image.min(), then divide by the "
                     "span.", lambda image, dtype=dtype: (image / image.max()).astype(dtype))
                for dtype in (np.float32, np.float64)),
    hints={"values": lambda got, want: f"The values are right but the dtype is {got.dtype}: return float32 "
                                       "(.astype(np.float32))." if np.allclose(got, want, atol=1e-6) else
                                       "After scaling, the smallest must become 0 and the largest 1."},
    success="every image runs from 0 to 1, as float32 ({n} cases, seed {seed})."))
'''
PARTIAL_ANSWERS = '''
# ---------------------------------------------------------------------------------------------- added by the guide
RESCALE_PROBE = "def rescale_probe(image):\\n    return {body}\\n"
PARTIALS[("01_data_transforms", "rescale-probe-test")] = [
    Partial("divided by the maximum only", RESCALE_PROBE.format(body="(image / image.max()).astype(np.float32)"),
            "without subtracting the minimum"),
    Partial("divided by the maximum only, in float64", RESCALE_PROBE.format(body="image / image.max()"),
            "without subtracting the minimum"),
    Partial("float64 left as it is", RESCALE_PROBE.format(body="(image - image.min()) / (image.max() - image.min())"),
            "float32"),
    Partial("standardised instead", RESCALE_PROBE.format(body="((image - image.mean()) / image.std()).astype(np.float32)"),
            "the smallest must become 0"),
    Partial("right, with np.ptp", RESCALE_PROBE.format(body="((image - image.min()) / np.ptp(image)).astype(np.float32)")),
]
CAUSES[("01_data_transforms", "rescale-probe-test")] = ["without subtracting the minimum", "float32",
                                                    "the smallest must become 0"]

'''


def _copy_repository(target: Path) -> None:
    """The files a clone would have once the work in progress is committed: tracked and not ignored."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO_ROOT,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for relative in filter(None, listed):
        source = REPO_ROOT / relative
        if source.is_file():
            (target / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / relative)
    subprocess.run(["git", "init", "-q"], cwd=target, check=True)  # .gitignore applies (the round trip asks git)
    (target / "installed.stamp").touch()  # stands for .venv/.course-installed: make installs nothing


def _run(command: list[str], copy: Path, environment: dict[str, str], timeout: int) -> str:
    done = subprocess.run(command, cwd=copy, env=environment, capture_output=True, text=True, timeout=timeout)
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"{' '.join(command)} failed in the copy:\n{output[-6000:]}"
    return output


def _edit_cells(path: Path) -> None:
    """What the instructor writes into the scaffold's cells in JupyterLab: statement, hint, the course's answer."""
    notebook = nbformat.read(str(path), as_version=4)
    by_id = {grade_id(cell): cell for cell in notebook.cells}
    heading = by_id["md-rescale-probe"]
    heading.source = heading.source.split("\n\n")[0] + "\n\n" + STATEMENT
    by_id["md-rescale-probe-hint"].source = HINT
    answer = by_id["rescale-probe-answer"]
    answer.source = re.sub(r"(### BEGIN SOLUTION\n).*?(    ### END SOLUTION)", lambda m: m[1] + ANSWER + m[2],
                           answer.source.replace("# TODO: one line saying what it returns.",
                                                 "# The image scaled to [0, 1], as float32."), flags=re.S)
    nbformat.write(notebook, str(path))


@pytest.mark.guide
@pytest.mark.timeout(1200)
def test_a_new_exercise_added_as_contributing_says_passes_its_notebooks_checks(tmp_path):
    copy = tmp_path / "course"
    _copy_repository(copy)
    environment = os.environ | {"PYTHONPATH": str(copy), "COURSE_QUICK": "1", "MPLBACKEND": "Agg"}
    environment.setdefault("CFCM_DATA_ROOT", str(REPO_ROOT / "data"))  # the phantom set, made once, shared
    environment.pop("COURSE_NOTEBOOK", None)
    python = sys.executable
    make = ["make", f"PY={python}", "INSTALLED=installed.stamp", f"NOTEBOOK={NOTEBOOK}"]

    # 1. the cells (CONTRIBUTING: "tools/exercise.py makes them")
    printed = _run([python, "tools/exercise.py", NOTEBOOK, "--title", "min-max normalisation", "--points", "1",
                    "--function", "rescale_probe", "--params", "image"], copy, environment, 120)
    solution = copy / "solutions" / NOTEBOOK / f"{NOTEBOOK}.ipynb"
    _edit_cells(solution)

    # 2. the checker, from the skeleton the scaffold printed: its declaration's header as it is, the rest written
    header = re.search(r'^check_rescale_probe = declare\(Declaration\(\n    "01_data_transforms", \d+, '
                       r'"min-max normalisation \(rescale_probe\)", 1, "rescale_probe",\n', printed, re.M)
    assert header, printed
    checkers = copy / "course_lib" / "grading" / "transforms.py"
    checkers.write_text(f"{checkers.read_text()}\n\n{CHECKER_CASES}\n\n{header[0]}{CHECKER_BODY}")

    # 3. partial answers and their causes; 4. README's counts
    partials = copy / "tests" / "test_partial_answers.py"
    text = partials.read_text()
    end_of_tables = text.index("HIDDEN = re.compile(")  # after PARTIALS and CAUSES, before the tests read them
    partials.write_text(text[:end_of_tables] + PARTIAL_ANSWERS.lstrip("\n") + text[end_of_tables:])
    readme = copy / "README.md"
    text = readme.read_text()
    # the counts README quotes, one more exercise and five more partial answers (whatever they were)
    text, found = re.subn(r"Each has (\w+) graded exercises \((\d+) in all",
                          lambda m: f"Notebook 1 has one more than the others' {m[1]} graded exercises ({int(m[2]) + 1} "
                                    "in all", text)
    assert found == 1, "README.md's count of exercises is not where this test expects it"
    text, found = re.subn(r"holds (\d+) plausible partial answers\s+and\s+right\s+variants\s+for\s+the\s+(\d+)\s+exercises",
                          lambda m: f"holds {int(m[1]) + 5} plausible partial answers and right variants for the "
                                    f"{int(m[2]) + 1} exercises", text)
    assert found == 1, "README.md's count of partial answers is not where this test expects it"
    readme.write_text(text)

    # 5. the release of that notebook, then its checks (the copy's own tests, on the copy's library)
    _run([*make, "release"], copy, environment, 600)
    assert read_exercises(copy / "notebooks" / NOTEBOOK / f"{NOTEBOOK}.ipynb")[-1].test == "rescale-probe-test"
    output = _run([*make, "check", "CHECK_ARGS=-x -q tests/test_readme_counts.py"], copy,
                  environment, 1100)
    assert re.search(r"\b\d+ passed\b", output) and " failed" not in output, output[-3000:]
    assert "rescale-probe-test" in _run([python, "-m", "pytest", "-q", "--collect-only", "tests/test_partial_answers.py",
                                     "-k", "rescale"], copy, environment, 300)
