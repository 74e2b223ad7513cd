"""Every solutions notebook runs top to bottom in quick mode under nbval (`--nbval-lax --nbval-current-env`).

nbval runs in a pytest subprocess per notebook rather than through `pytest tests --nbval-lax`: that way
`make test` stays `pytest tests`, nbval never collects the fixture's release notebooks (whose stubs raise
NotImplementedError by design) and each notebook gets its own kernel, wall-clock figure and failure report.
Outputs are compared only for cells marked NBVAL_CHECK_OUTPUT (lax mode); an exception in any cell fails.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from grading_helpers import FIXTURE_SOLUTIONS, REPO_ROOT
from nbgrader_course import find_assignments  # noqa: E402 - tools/ is on sys.path via grading_helpers

NOTEBOOKS = [solutions / name / f"{name}.ipynb"
             for solutions in (REPO_ROOT / "solutions", FIXTURE_SOLUTIONS) for name in find_assignments(solutions)]
# Contract: each notebook well under 2 minutes in quick mode on 2 cores; a stuck cell must not stall CI.
CELL_TIMEOUT_SECONDS = 300


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_solution_notebook_runs_top_to_bottom(notebook, tmp_path):
    env = dict(os.environ, COURSE_QUICK=os.environ.get("COURSE_QUICK") or "1", MPLBACKEND="Agg",
               PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH", "")])))
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax", "--nbval-current-env",
               f"--nbval-cell-timeout={CELL_TIMEOUT_SECONDS}", "--rootdir", str(tmp_path), str(notebook)]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    print(f"\n{notebook.relative_to(REPO_ROOT)}: {seconds:.1f} s under nbval")
    assert done.returncode == 0, f"{notebook.relative_to(REPO_ROOT)} failed under nbval:\n{done.stdout[-6000:]}"
