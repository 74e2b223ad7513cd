"""Every solutions notebook runs top to bottom in quick mode under nbval (`--nbval-lax --nbval-current-env`).

nbval runs in a pytest subprocess per notebook rather than through `pytest tests --nbval-lax`: that way
`make test` stays `pytest tests`, nbval never collects the fixture's release notebooks (whose stubs raise
NotImplementedError by design) and each notebook gets its own kernel, wall-clock figure and failure report.
Outputs are compared only for cells marked NBVAL_CHECK_OUTPUT (lax mode); an exception in any cell fails.

In a student's session a failed exercise check only shows "not yet" (so Run All goes on), which nbval would
not notice. So the run sets COURSE_STRICT_CHECKS, as nbgrader's NBGRADER_EXECUTION does: a solution whose
own check fails raises and fails CI. The last test proves that on a deliberately broken solution.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from grading_helpers import FIXTURE_SOLUTIONS, REPO_ROOT, grade_id
from course_lib.instructor.course import find_assignments

NOTEBOOKS = [solutions / name / f"{name}.ipynb"
             for solutions in (REPO_ROOT / "solutions", FIXTURE_SOLUTIONS) for name in find_assignments(solutions)]
# Contract: each notebook well under 2 minutes in quick mode on 2 cores; a stuck cell must not stall CI.
CELL_TIMEOUT_SECONDS = 300


def run_nbval(notebook: Path, scratch: Path) -> subprocess.CompletedProcess:
    """The solution notebook under nbval, in quick mode and with strict exercise checks."""
    env = dict(os.environ, COURSE_QUICK=os.environ.get("COURSE_QUICK") or "1", COURSE_STRICT_CHECKS="1",
               MPLBACKEND="Agg",
               PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH", "")])))
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax", "--nbval-current-env",
               f"--nbval-cell-timeout={CELL_TIMEOUT_SECONDS}", "--rootdir", str(scratch), str(notebook)]
    return subprocess.run(command, cwd=scratch, env=env, capture_output=True, text=True)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_solution_notebook_runs_top_to_bottom(notebook, tmp_path):
    start = time.perf_counter()
    done = run_nbval(notebook, tmp_path)
    seconds = time.perf_counter() - start
    print(f"\n{notebook.relative_to(REPO_ROOT)}: {seconds:.1f} s under nbval")
    assert done.returncode == 0, f"{notebook.relative_to(REPO_ROOT)} failed under nbval:\n{done.stdout[-6000:]}"


def test_a_solution_whose_own_check_fails_fails_ci(tmp_path):
    notebook = nbformat.read(FIXTURE_SOLUTIONS / "00_fixture" / "00_fixture.ipynb", as_version=4)
    for cell in notebook.cells:
        if grade_id(cell) == "row_means":
            cell.source = "def row_means(matrix):\n    return matrix.mean(axis=0)  # the wrong axis"
    broken = tmp_path / "00_fixture.ipynb"
    nbformat.write(notebook, broken)
    done = run_nbval(broken, tmp_path)
    assert done.returncode != 0, f"nbval passed a solution whose own check fails:\n{done.stdout[-3000:]}"
    assert "CheckFailed" in done.stdout and "row means" in done.stdout, done.stdout[-3000:]
