"""Class grading's path: which demonstration cells a submission's graded cells need, and the kernel that skips the
others (course_lib/instructor/grading_path.py), and the hung cell read from nbgrader's log (repair.logged_cell)."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from course_lib.instructor.grading_path import (NOTE, cell_names, cells_to_skip, startup_file, trimmed_imports,
                                               write_skip_list)
from course_lib.instructor.repair import as_graded, logged_cell
from course_lib.settings import repository_root
from grading_helpers import course_notebooks


def graded(source: str, grade_id: str, *, test: bool = False):
    cell = new_code_cell(source)
    cell.metadata["nbgrader"] = {"grade_id": grade_id, "solution": not test, "grade": test, "locked": test}
    return cell


def demo(source: str):
    cell = new_code_cell(source)
    cell.metadata["nbgrader"] = {"grade_id": f"demo-{abs(hash(source))}", "solution": False, "grade": False,
                                 "locked": True}
    return cell


def test_cell_names_reads_before_stores_and_globals_of_functions():
    reads, stores = cell_names("x = x + 1\nfor a in b:\n    print(a, c)\ndef f(q):\n    return q + G\n"
                               "y = [i * k for i in z]\nimport numpy as np\nfrom os import path")
    assert reads == {"x", "b", "c", "G", "k", "z"}
    assert stores == {"x", "a", "f", "y", "np", "path"}
    assert cell_names("%matplotlib inline") is None


def test_only_the_demonstrations_graded_cells_need_are_run():
    notebook = new_notebook(cells=[
        demo("import numpy as np\nSCALE = 2"),                      # 0: the answer reads np
        demo("data = load_everything()\nfigure = draw(data)"),      # 1: nobody needs it
        demo("def helper(v):\n    return v * SCALE"),               # 2: the answer's function calls helper
        graded("def answer(v):\n    return helper(np.asarray(v))", "answer"),
        graded("check(answer)", "test", test=True),
        demo("slow = train(answer)"),                               # 5: after the test, uses the answer
        demo("from somewhere import check"),                        # 6: defines what the test reads (kept)
    ])
    assert cells_to_skip(notebook) == [1, 5]
    notebook.cells.append(new_code_cell("%timeit answer(1)"))
    assert cells_to_skip(notebook) == [], "a cell the analysis cannot read turns the pruning off"


@pytest.mark.parametrize("assignment", ["01_data_transforms", "03_convlstm", "04_cfcm_training"])
def test_the_course_notebooks_keep_only_their_imports(assignment):
    source = repository_root() / "solutions" / assignment / f"{assignment}.ipynb"
    notebook = as_graded(nbformat.read(source, as_version=4), source)
    skipped = set(cells_to_skip(notebook))
    kept = [i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code" and i not in skipped
            and not (cell.metadata["nbgrader"].get("solution") or cell.metadata["nbgrader"].get("grade"))]
    assert len(kept) == 1 and "import" in notebook.cells[kept[0]].source


def test_the_kernel_skips_the_listed_cells(tmp_path):
    from nbclient import NotebookClient

    notebook = new_notebook(cells=[demo("VALUE = 6"), demo("raise SystemExit('a demonstration ran')"),
                                   graded("def answer():\n    return VALUE * 7", "answer"),
                                   graded("print(answer())", "test", test=True)])
    folder = tmp_path / "autograded" / "someone" / "nb"
    folder.mkdir(parents=True)
    assert write_skip_list(tmp_path, "someone", "nb", notebook) == [1]
    ipython_dir = tmp_path / ".ipython"
    startup_file(ipython_dir)
    env = dict(os.environ, IPYTHONDIR=str(ipython_dir), PYTHONPATH=str(repository_root()))
    NotebookClient(notebook, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
                   ).execute(env=env)
    assert notebook.cells[1].outputs[0]["text"].strip() == NOTE
    assert notebook.cells[3].outputs[0]["text"].strip() == "42"
    assert notebook.cells[1].source == "raise SystemExit('a demonstration ran')", "the notebook keeps its source"


def test_the_hung_cell_is_read_from_the_timeout_message():
    notebook = new_notebook(cells=[graded("def answer():\n    while True:\n        pass", "answer"),
                                   graded("check(answer)\n### BEGIN HIDDEN TESTS\ncheck(answer, seed=2)\n"
                                          "### END HIDDEN TESTS", "test", test=True)])
    log = ("    nbclient.exceptions.CellTimeoutError: A cell timed out while it was being executed, after 4 seconds.\n"
           "    Here is a preview of the cell contents:\n    -------------------\n    check(answer)\n"
           "    ### BEGIN HIDDEN TESTS\n    check(answer, seed=2)\n    ### END HIDDEN TESTS\n    -------------------\n")
    assert logged_cell(notebook, log) == 1
    assert logged_cell(notebook, "DeadKernelError: Kernel died") is None


def test_imports_nothing_running_reads_are_left_out_of_the_cells_that_run():
    notebook = new_notebook(cells=[
        demo("import matplotlib.pyplot as plt\nimport numpy as np\nfrom helpers import tool, SIZE\n"
             "from os import path\nscale = path.sep\nplt.close('all')"),
        demo("import json\nfrom collections import Counter\nLIMIT = 3"),
        graded("def answer(v):\n    return np.clip(v, 0, LIMIT)", "answer"),
    ])
    assert cells_to_skip(notebook) == []
    assert trimmed_imports(notebook) == {
        0: "import matplotlib.pyplot as plt\nimport numpy as np\nfrom os import path\nscale = path.sep\nplt.close('all')",
        1: "LIMIT = 3"}, "what the rest of a cell reads stays: plt and path"


def test_an_answer_pasted_from_a_demonstration_runs(tmp_path):
    notebook = new_notebook(cells=[demo("print('a figure')"), graded("print('a figure')", "answer"),
                                   graded("check()", "test", test=True), demo("from grader import check")])
    assert cells_to_skip(notebook) == [0]
    assert write_skip_list(tmp_path, "someone", "nb", notebook) == [], "same source as the answer: it runs"


@pytest.mark.parametrize("assignment", course_notebooks())
def test_no_later_demonstration_rebinds_an_answer(assignment):
    """A demonstration that imports or assigns an answer's name after it replaces the student's work with the
    course's for every cell below (and makes grading run the demonstrations)."""
    source = repository_root() / "solutions" / assignment / f"{assignment}.ipynb"
    notebook = nbformat.read(source, as_version=4)
    answered: dict[str, str] = {}
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        meta = cell.metadata.get("nbgrader", {})
        names = cell_names(cell.source)
        if names is None:
            continue
        if meta.get("solution"):
            answered.update({name: meta["grade_id"] for name in names[1]})
        else:
            rebound = names[1] & set(answered)
            assert not rebound, f"{meta.get('grade_id')} rebinds {sorted(rebound)}, the answer of " \
                                f"{[answered[n] for n in sorted(rebound)]}"
