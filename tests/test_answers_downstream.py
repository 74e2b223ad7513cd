"""The student's own code at work: every exercise's answer feeds a later cell, once its check has passed.

A lesson sticks when the student sees their own code do the work: their fusion in the networks notebook 2 compares,
their ConvLSTM pieces in the trained memory notebook 3 opens, their decoder and Dice loss in the CFCM34 notebook 4
trains. Until an answer passes its check, the course's runs in its place and a line says so, so that an unfinished
answer never breaks what follows.

Statically, each exercise of the solution notebooks must be handed to ``yours_or_reference`` or ``assemble``, with
its check, in a later cell. Behaviourally, a student's session (quick mode, Run All on the release) is run with
every other exercise answered correctly and the rest left as released; each answer counts its calls, and the cells
that are neither answers nor checks must call exactly the answers whose checks passed, and say whose code ran.
"""

from __future__ import annotations

import ast
import json
import re

import nbformat
import pytest
from nbclient import NotebookClient

from grading_helpers import REPO_ROOT, grade_id, is_solution, is_test, read
from course_lib.instructor.course import find_assignments
from course_lib.instructor.exercises import is_prediction, read_exercises

NOTEBOOKS = find_assignments(REPO_ROOT / "solutions")
MECHANISMS = ("yours_or_reference", "assemble")  # course_lib.grading.feedback: how a later cell picks whose code runs
GRADED = "# graded cell: neither downstream nor counted\n"
CELL_TIMEOUT_SECONDS = 300


def is_answer(cell) -> bool:
    """An exercise's answer cell: a Think question's prediction is the student's too, but no check reads it."""
    return cell.cell_type == "code" and is_solution(cell) and not is_prediction(cell)


def checked_answers(cell) -> tuple[str, list[str]]:
    """(the checker a test cell calls, the names of the answers it hands it), from its first call of a check_*."""
    for node in ast.walk(ast.parse(cell.source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id.startswith("check_"):
            return node.func.id, [arg.id for arg in node.args if isinstance(arg, ast.Name)]
    raise AssertionError(f"test cell {grade_id(cell)} calls no check_* function")


def picks(source: str) -> set[tuple[str, str]]:
    """(answer, checker) pairs handed to yours_or_reference / assemble in a cell's code."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in MECHANISMS):
            continue
        triples = [node.args] if node.func.id == "yours_or_reference" else [arg.elts for arg in node.args
                                                                               if isinstance(arg, ast.Tuple)]
        for yours, _, check in triples:
            if isinstance(yours, ast.Name) and isinstance(check, ast.Name):
                found.add((yours.id, check.id))
    return found


def exercises(notebook) -> list[tuple[int, str, str, list[str]]]:
    """(index of the test cell, its grade_id, its checker, the answers it checks) for every exercise, in order."""
    return [(index, grade_id(cell), *checked_answers(cell)) for index, cell in enumerate(notebook.cells)
            if is_test(cell)]


def test_every_exercise_feeds_a_later_cell():
    unused, count = [], 0
    for name in NOTEBOOKS:
        notebook = read(REPO_ROOT / "solutions" / name / f"{name}.ipynb")
        for index, test_id, check, answers in exercises(notebook):
            count += 1
            later = set().union(*(picks(cell.source) for cell in notebook.cells[index + 1:]
                                  if cell.cell_type == "code" and not is_test(cell) and not is_answer(cell)))
            missing = [answer for answer in answers if (answer, check) not in later]
            if missing:
                unused.append(f"{name}/{test_id}: {', '.join(missing)}")
    headed = sum(len(read_exercises(REPO_ROOT / "solutions" / name / f"{name}.ipynb")) for name in NOTEBOOKS)
    assert count == headed > 0, f"{count} graded test cells for the {headed} exercises the headings number"
    assert not unused, ("answers that no later cell uses (hand them to yours_or_reference or assemble with their "
                        "check):\n" + "\n".join(unused))


# ---------------------------------------------------------------------------------------------- in a session
COUNTERS = f'''{GRADED}import collections

CALLS, DOWNSTREAM, _BEFORE = collections.Counter(), collections.Counter(), {{}}


def _before_cell(info):
    _BEFORE.clear()
    _BEFORE.update(CALLS, graded=info.raw_cell.startswith({GRADED.strip()!r}))


def _after_cell(result):
    if not _BEFORE.get("graded"):
        DOWNSTREAM.update({{key: value - _BEFORE.get(key, 0) for key, value in CALLS.items()}})


get_ipython().events.register("pre_run_cell", _before_cell)
get_ipython().events.register("post_run_cell", _after_cell)
'''
REPORT = f'{GRADED}import json\n\nprint("DOWNSTREAM " + json.dumps({{k: v for k, v in DOWNSTREAM.items() if v}}))\n'


def counted(source: str, key: str, marker: str) -> str:
    """``source`` with ``CALLS[key] += 1`` where the student's code starts: after each line holding ``marker``
    (the solution's BEGIN SOLUTION), or before it (the release's raise NotImplementedError())."""
    lines = []
    for line in source.splitlines():
        if marker in line:
            count = f"{line[:len(line) - len(line.lstrip())]}CALLS[{key!r}] += 1"
            lines += [line, count] if marker.startswith("###") else [count, line]
        else:
            lines.append(line)
    return "\n".join(lines)


def session(name: str, correct: set[str]):
    """The release of ``name`` with the answers of the test cells in ``correct`` from the solutions, the others as
    released; every answer counts its calls, and a last cell reports the calls made outside answers and checks."""
    solutions = {grade_id(c): c.source for c in read(REPO_ROOT / "solutions" / name / f"{name}.ipynb").cells
                 if is_answer(c)}
    notebook = read(REPO_ROOT / "notebooks" / name / f"{name}.ipynb")
    answer_of, pending = {}, []
    for cell in notebook.cells:
        if is_answer(cell):
            pending.append(cell)
        elif is_test(cell):
            for answer in pending:
                answer_of[id(answer)] = grade_id(cell)
            pending = []
            cell.source = GRADED + cell.source
    for cell in notebook.cells:
        if is_answer(cell):
            test_id = answer_of[id(cell)]
            source, marker = ((solutions[grade_id(cell)], "### BEGIN SOLUTION") if test_id in correct
                              else (cell.source, "raise NotImplementedError()"))
            cell.source = GRADED + counted(source, test_id, marker)
    notebook.cells.insert(0, nbformat.v4.new_code_cell(COUNTERS))
    notebook.cells.append(nbformat.v4.new_code_cell(REPORT))
    return notebook


def printed(cell) -> str:
    """What a cell printed, and the plain text of what it displayed (a check's panel)."""
    return "\n".join(output.get("text", "") if output.get("output_type") == "stream"
                     else output.get("data", {}).get("text/plain", "") for output in cell.get("outputs", []))


def whose(lines: str) -> tuple[set[str], set[str]]:
    """The names the "Using ..." lines call yours, and those they call the course's."""
    yours, course = set(), set()
    for line in lines.splitlines():
        if line.startswith("Using "):
            for segment in re.findall(r"\byour ([\w, ]+?)(?: \(|:)", line):
                yours |= set(re.findall(r"\w+", segment))
            for segment in re.findall(r"the course's ([\w, ]+?)(?: \(|:)", line):
                course |= set(re.findall(r"\w+", segment))
    return yours, course


@pytest.fixture
def students_kernel(monkeypatch):
    """A student's kernel from `make lab`, in quick mode: a failed check shows "not yet" and the notebook runs on."""
    for variable in ("COURSE_STRICT_CHECKS", "NBGRADER_EXECUTION", "MPLBACKEND"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("COURSE_QUICK", "1")


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_a_passed_answer_runs_downstream_and_an_unfinished_one_does_not(students_kernel, name):
    solved = read(REPO_ROOT / "solutions" / name / f"{name}.ipynb")
    found = exercises(solved)
    correct = {test_id for number, (_, test_id, _, _) in enumerate(found) if number % 2 == 0}  # 1st, 3rd, ...
    notebook = session(name, correct)
    NotebookClient(notebook, timeout=CELL_TIMEOUT_SECONDS, kernel_name="python3",
                   resources={"metadata": {"path": str(REPO_ROOT / "notebooks" / name)}}).execute()
    report = printed(notebook.cells[-1])
    downstream = json.loads(report.split("DOWNSTREAM ", 1)[1])
    cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    passed = {grade_id(cell) for cell in cells if is_test(cell) and printed(cell).startswith("OK  Exercise")}
    said_yours, said_course = whose("\n".join(printed(cell) for cell in cells
                                              if not cell.source.startswith(GRADED)))
    assert passed and passed <= correct, f"{name}: checks passed {sorted(passed)}, answered correctly {sorted(correct)}"
    for _, test_id, _, answers in found:
        if test_id in passed:
            assert downstream.get(test_id, 0) > 0, f"{name}/{test_id}: passed, but no later cell ran the answer"
            assert set(answers) <= said_yours, f"{name}/{test_id}: no line says {answers} are yours"
        else:
            assert downstream.get(test_id, 0) == 0, f"{name}/{test_id}: not passed, yet a later cell ran the answer"
            assert set(answers) <= said_course, f"{name}/{test_id}: no line says the course's {answers} ran"
