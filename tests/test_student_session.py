"""Run All in a student's own session: every cell runs, every check tells the truth in place.

A student's kernel has no NBGRADER_EXECUTION and no COURSE_STRICT_CHECKS, so a failed check shows "not yet"
instead of raising, and JupyterLab's Run All (like nbclient here, which stops at the first error as Lab does)
goes on to the last cell. Each release notebook runs twice, as students have it: untouched (every test cell
must say what is missing and how to start) and with every answer filled in from the solutions (every test cell
must say passed). The matplotlib backend is the kernel's own inline one, as in JupyterLab.
"""

from __future__ import annotations

import re
import time

import nbformat
import pytest
from nbclient import NotebookClient

from grading_helpers import (FIXTURE_RELEASE, FIXTURE_SOLUTIONS, REPO_ROOT, filled_with_solutions, grade_id, is_test,
                             read)
from course_lib.instructor.course import find_assignments

SOURCES = {"course": (REPO_ROOT / "solutions", REPO_ROOT / "notebooks"), "fixture": (FIXTURE_SOLUTIONS, FIXTURE_RELEASE)}
CASES = [(kind, name) for kind, (solutions, _) in SOURCES.items() for name in find_assignments(solutions)]
CELL_TIMEOUT_SECONDS = 300
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
# Notebooks with interactive panels (ipywidgets), each of which must come with a static picture.
PANELS = {"03_convlstm": 1, "04_cfcm_training": 2}


@pytest.fixture
def students_kernel(monkeypatch):
    """The environment a student's kernel gets from `make lab` (quick mode only to keep CI short)."""
    for name in ("COURSE_STRICT_CHECKS", "NBGRADER_EXECUTION", "MPLBACKEND"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COURSE_QUICK", "1")


def run_all(notebook, folder) -> nbformat.NotebookNode:
    """Execute every cell in order in a fresh kernel, stopping at the first error as Run All does."""
    NotebookClient(notebook, timeout=CELL_TIMEOUT_SECONDS, kernel_name="python3",
                   resources={"metadata": {"path": str(folder)}}).execute()
    return notebook


def plain_text(cell) -> str:
    parts = []
    for output in cell.get("outputs", []):
        parts.append(output.get("text", "") or output.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


def progress_cell(notebook):
    cells = [cell for cell in notebook.cells if cell.cell_type == "code" and "show_progress(" in cell.source]
    assert len(cells) == 1, "every notebook ends with one progress cell (show_progress)"
    assert notebook.cells.index(cells[0]) == max(i for i, c in enumerate(notebook.cells) if c.cell_type == "code"), \
        "the progress cell is the notebook's last code cell"
    return cells[0]


@pytest.mark.parametrize("kind, name", CASES, ids=[f"{k}-{n}" for k, n in CASES])
def test_run_all_on_an_untouched_release_reaches_the_end_and_each_check_says_what_is_missing(
        students_kernel, kind, name, tmp_path):
    _, release = SOURCES[kind]
    notebook = read(release / name / f"{name}.ipynb")
    start = time.perf_counter()
    run_all(notebook, release / name)
    print(f"\n{name}: Run All on the untouched release in {time.perf_counter() - start:.1f} s")
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.execution_count is not None for cell in code), "a code cell did not run"
    errors = [grade_id(cell) for cell in code if any(o.output_type == "error" for o in cell.outputs)]
    assert not errors, f"cells {errors} raised in a student's session: Run All would stop there"
    tests = [cell for cell in notebook.cells if is_test(cell)]
    for cell in tests:
        text = plain_text(cell)
        assert text.startswith("NOT YET Exercise"), f"{name}/{grade_id(cell)} shows {text[:300]!r}"
        assert "raised NotImplementedError. Replace `raise NotImplementedError()` with your code" in text, \
            f"{name}/{grade_id(cell)}: an unstarted exercise must say how to start: {text[:400]!r}"
        assert not any(o.get("name") == "stderr" for o in cell.outputs), f"{name}/{grade_id(cell)} wrote to stderr"
    table = plain_text(progress_cell(notebook))
    assert f"0 of " in table and table.count(": not yet:") == len(tests), table
    panels = 0
    for cell in code:
        kinds = [set(output.get("data", {})) for output in cell.outputs]
        for index, (mime_types, output) in enumerate(zip(kinds, cell.outputs)):
            # tqdm's notebook bars are widgets too, but transient, and their text is the bar itself
            if WIDGET_VIEW in mime_types and output.data.get("text/plain", "").startswith("VBox("):
                panels += 1
                assert any("image/png" in earlier for earlier in kinds[:index]), \
                    f"{name}/{grade_id(cell)}: an ipywidgets panel without a static picture before it"
    assert panels == PANELS.get(name, 0), f"{name}: {panels} interactive panels, expected {PANELS.get(name, 0)}"


@pytest.mark.parametrize("kind, name", CASES, ids=[f"{k}-{n}" for k, n in CASES])
def test_run_all_on_a_solved_release_shows_every_check_passed(students_kernel, kind, name):
    solutions, release = SOURCES[kind]
    notebook = filled_with_solutions(release / name / f"{name}.ipynb", solutions / name / f"{name}.ipynb")
    run_all(notebook, release / name)
    tests = [cell for cell in notebook.cells if is_test(cell)]
    for cell in tests:
        text = plain_text(cell)
        assert text.startswith("OK  Exercise") and ": passed" in text.splitlines()[0], \
            f"{name}/{grade_id(cell)} shows {text[:400]!r}"
        html = "".join(o.get("data", {}).get("text/html", "") for o in cell.outputs)
        assert "course-check-passed" in html, f"{name}/{grade_id(cell)}: no passed panel for JupyterLab"
    table = plain_text(progress_cell(notebook))
    assert "not yet" not in table and "not checked" not in table, table
    assert table.count(": passed") == len(tests), table
    everything = "\n".join(plain_text(cell) for cell in notebook.cells if cell.cell_type == "code")
    assert "TrainingCollapsedWarning" not in everything, f"{name}: a quick-mode training run collapsed"
    if name == "02_skip_connections":  # the three fusions, trained in quick mode: each must really learn
        scores = [float(value) for value in re.findall(r"best validation Dice (\d\.\d+)", everything)]
        assert len(scores) == 3 and min(scores) > 0.8, f"notebook 2's quick comparison: best Dice {scores}"
