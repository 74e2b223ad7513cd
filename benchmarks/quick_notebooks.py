"""Quick mode on a busy machine: each solution notebook run top to bottom, with one core kept busy by another process.

CI, `make test` and the autograder run every notebook in quick mode, often beside other work. This prints the
wall time of each solution notebook executed like nbval runs it (a fresh kernel, quick mode, strict checks),
idle and with a second process spinning on one core, and the slowest cell of each. The target: under 60 s per
notebook on 2 cores under that load. It also reports what quick-mode training printed, so a collapse shows.

    python benchmarks/quick_notebooks.py [--load 1] [--repeat 1] [NOTEBOOK ...]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from common import busy_cores, machine, table
from course_lib.settings import repository_root

REPO_ROOT = repository_root()
TARGET_SECONDS = 60


def run_notebook(path: Path) -> tuple[float, float, str, list[str]]:
    """(wall seconds, slowest cell's seconds, that cell's first line, warnings seen) for one quick-mode run."""
    notebook = nbformat.read(path, as_version=4)
    times: list[tuple[float, str]] = []

    def timed(cell, **_):
        times.append((time.perf_counter(), cell.source.splitlines()[0] if cell.source else ""))

    client = NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}},
                            on_cell_executed=timed)
    start = time.perf_counter()
    client.execute()
    wall = time.perf_counter() - start
    moments = [start] + [moment for moment, _ in times]
    durations = [(moments[i + 1] - moments[i], times[i][1]) for i in range(len(times))]
    slowest, first_line = max(durations)
    warnings = sorted({line.strip()[:120] for cell in notebook.cells for output in cell.get("outputs", [])
                       for line in (output.get("text") or "").splitlines() if "Warning" in line})
    return wall, slowest, first_line, warnings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every solutions/<a>/<a>.ipynb")
    parser.add_argument("--load", type=int, default=1, help="processes spinning on a core meanwhile (default 1)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per notebook and load (the slowest is shown)")
    arguments = parser.parse_args()
    notebooks = arguments.notebooks or sorted((REPO_ROOT / "solutions").glob("*/*.ipynb"))
    os.environ.update(COURSE_QUICK="1", COURSE_STRICT_CHECKS="1", MPLBACKEND="Agg")
    print(machine())
    rows, failures = [], 0
    for load in sorted({0, arguments.load}):
        with busy_cores(load):
            for path in notebooks:
                runs = [run_notebook(path) for _ in range(arguments.repeat)]
                wall, slowest, first_line, warnings = max(runs)
                failures += wall >= TARGET_SECONDS
                rows.append([path.stem, load, wall, slowest, first_line[:50], "; ".join(warnings) or "none"])
                print(f"  {path.stem}, {load} busy core(s): {wall:.1f} s", flush=True)
    print(table(["notebook", "busy cores", "wall s", "slowest cell s", "slowest cell", "warnings"], rows))
    print(f"target: every notebook under {TARGET_SECONDS} s; {failures} run(s) over it")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
