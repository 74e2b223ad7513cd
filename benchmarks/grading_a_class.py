"""Grading a class of the real notebooks: seconds per student with 1 and 2 workers, and whether each got its due.

A made-up class submits all four notebooks each, solved, with one thing that used to cost a correct submission
its grade or that must not earn one:

* full:      every answer right;
* pasted:    notebook 4's first answer and test cells copied and pasted by JupyterLab (same grade ids);
* renamed:   notebook 2's first answer cell's grade id renamed;
* noisy:     notebook 3's functions print to stderr, log and warn every time they are called;
* disguised: notebook 1's crop answer is the library's class under the exercise's name, ``__module__`` rewritten;
* deafhang:  notebook 1's crop answer ignores SIGINT and loops forever when called.

It runs class grading (``course_lib.instructor.class_grading.grade_class``, what ``tools/grade_class.py`` runs) as
the README's command does, without recording the class in the checkout's gradebook, once per worker count, and
prints the wall seconds, the seconds per student, and per student the points against the points deserved.

    python benchmarks/grading_a_class.py [--workers 1 2] [--paths all grading] [--timeout 40] [--students ...]

``--baseline CHECKOUT`` first grades the class with another checkout's code (a clone of main: before a change and
after it in one run). ``--paths all grading`` grades the class twice per worker count, every cell run (as before) and on the grading path
(``grade_class``'s default: the demonstration cells no graded cell needs skipped), and says whether any graded
cell's score, grading or failure differs between the runs.

``--profile`` instead runs each solved notebook once per path, cell by cell, as autograde runs it (a fresh kernel,
the hidden tests put back, ``NBGRADER_EXECUTION`` set, one math thread as with 2 workers on 2 cores), and prints where
its time goes: the kernel's start, the setup and import cells, the demonstration cells (the slowest named), the
answers and the checks.

    python benchmarks/grading_a_class.py --profile --paths all grading [--repeat 1]
"""

from __future__ import annotations

import argparse
import copy
import csv
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from common import table  # benchmarks/common.py: a script's own folder is on Python's import path
from course_lib.instructor.cells import filled_with_solutions, grade_id, is_solution, is_test, write_submission
from course_lib.instructor.class_grading import grade_class
from course_lib.instructor.grading_path import startup_file, write_skip_list
from course_lib.instructor.repair import as_graded
from course_lib.instructor.status import CellState
from course_lib.settings import data_root, repository_root

REPO_ROOT = repository_root()

ASSIGNMENTS = sorted(p.name for p in (REPO_ROOT / "solutions").iterdir() if p.is_dir() and p.name[0] != ".")
NOISE = "print('debug: called', file=sys.stderr); logging.warning('still debugging'); warnings.warn('my own warning')"
HANG = ("import signal\n\nclass CropActualImage:\n    def __call__(self, data):\n"
        "        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the grader's interrupt changes nothing\n"
        "        while True:\n            pass\n")
DISGUISE = ("from course_lib.data.transforms import CropActualImage\n"
            "CropActualImage.__module__ = '__main__'\nCropActualImage.__qualname__ = 'CropActualImage'\n")


def solved(assignment: str) -> nbformat.NotebookNode:
    return filled_with_solutions(REPO_ROOT / "notebooks" / assignment / f"{assignment}.ipynb",
                                 REPO_ROOT / "solutions" / assignment / f"{assignment}.ipynb")


def first_answer(notebook: nbformat.NotebookNode) -> int:
    return next(i for i, cell in enumerate(notebook.cells) if is_solution(cell) and grade_id(cell))


def pasted(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    index = first_answer(notebook)
    test = next(i for i in range(index, len(notebook.cells)) if is_test(notebook.cells[i]))
    for offset, cell in enumerate(copy.deepcopy(notebook.cells[index:test + 1])):
        cell["id"] = f"pasted-{offset}"
        notebook.cells.insert(test + 1 + offset, cell)
    return notebook


def renamed(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    notebook.cells[first_answer(notebook)].metadata.nbgrader["grade_id"] += "-mine"
    return notebook


def noisy(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Every function of every answer cell first prints to stderr, logs and warns."""
    for cell in notebook.cells:
        if is_solution(cell):
            body = re.sub(r"^(\s*)def (.*):\s*$", lambda m: f"{m.group(0)}\n{m.group(1)}    {NOISE}", cell.source,
                          flags=re.M)
            cell.source = "import logging, sys, warnings\n" + body
    return notebook


def replaced(answer: str, source: str):
    """The answer cell whose grade id is ``answer`` given ``source`` instead."""
    def change(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
        next(cell for cell in notebook.cells if is_solution(cell) and grade_id(cell) == answer).source = source
        return notebook
    return change


# student: (assignment changed, change, the exercises (test grade ids) that must score zero)
STUDENTS = {
    "full": (None, None, set()),
    "pasted": ("04_cfcm_training", pasted, set()),
    "renamed": ("02_skip_connections", renamed, set()),
    "noisy": ("03_convlstm", noisy, set()),
    "disguised": ("01_data_transforms", replaced("crop-answer", DISGUISE), {"crop-test"}),
    "deafhang": ("01_data_transforms", replaced("crop-answer", HANG), {"crop-test"}),
}


def make_class(folder: Path, students: list[str]) -> None:
    for student in students:
        changed, change, _ = STUDENTS[student]
        for assignment in ASSIGNMENTS:
            notebook = solved(assignment)
            if assignment == changed:
                notebook = change(notebook)
            write_submission(folder, student, assignment, notebook)


def deserved(cells: list[dict], student: str) -> tuple[float, float, float]:
    """(points received, points deserved, points of written answers awaiting manual grading) over all of the
    student's notebooks; the written answers are the instructor's to grade, so they count in neither of the first."""
    rows = [row for row in cells if row["student_id"] == student]
    awaiting = [row for row in rows if row["grading"] == CellState.AWAITING.value]
    rows = [row for row in rows if row["grading"] != CellState.AWAITING.value]
    zero = STUDENTS[student][2]
    received = sum(float(row["score"] or 0) for row in rows)
    due = sum(0.0 if row["grade_id"] in zero else float(row["max_score"]) for row in rows)
    return received, due, sum(float(row["max_score"]) for row in awaiting)


KINDS = ("kernel start", "setup and imports", "demonstration", "answers", "checks")


def cell_kind(notebook: nbformat.NotebookNode, index: int) -> str:
    """What a code cell is for, in the profile: the setup cell (the first) and the cells of imports before the first
    answer are "setup and imports"."""
    cell = notebook.cells[index]
    if is_test(cell):
        return "checks"
    if is_solution(cell):
        return "answers"
    code = [i for i, c in enumerate(notebook.cells) if c.cell_type == "code"]
    lines = [line for line in cell.source.splitlines() if line.strip() and not line.startswith("#")]
    imports = index < first_answer(notebook) and bool(lines) and re.match(r"(import|from) ", lines[0])
    return "setup and imports" if index == code[0] or imports else "demonstration"


def profile_notebook(assignment: str, path: str) -> tuple[dict[str, float], list[tuple[float, str]]]:
    """({kind: seconds}, [(seconds, name)] of the demonstration cells) for one solved notebook run as autograde runs
    it, cell by cell, every cell (``path`` "all") or on class grading's path ("grading", through its kernel hook)."""
    from nbclient import NotebookClient

    source = REPO_ROOT / "solutions" / assignment / f"{assignment}.ipynb"
    notebook = as_graded(solved(assignment), source)
    seconds = dict.fromkeys(KINDS, 0.0)
    demos = []
    with tempfile.TemporaryDirectory(prefix="cfcm-profile-") as scratch:
        folder = Path(scratch) / "autograded" / "someone" / assignment  # where nbgrader runs a notebook
        folder.mkdir(parents=True)
        env = dict(os.environ, NBGRADER_EXECUTION="autograde", IPYTHONDIR=str(Path(scratch) / ".ipython"))
        if path == "grading":
            startup_file(Path(env["IPYTHONDIR"]))
            write_skip_list(Path(scratch), "someone", assignment, notebook)
        client = NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": folder}})
        start = time.perf_counter()
        with client.setup_kernel(env=env):
            seconds["kernel start"] = time.perf_counter() - start
            for index, cell in enumerate(notebook.cells):
                if cell.cell_type != "code":
                    continue
                begin = time.perf_counter()
                client.execute_cell(cell, index)
                took = time.perf_counter() - begin
                kind = cell_kind(notebook, index)
                seconds[kind] += took
                if kind == "demonstration":
                    name = cell.metadata.get("nbgrader", {}).get("grade_id") or cell.source.splitlines()[0]
                    demos.append((took, f"{assignment[:2]} {name[:40]}"))
    return seconds, demos


def profile(repeat: int, paths: list[str]) -> None:
    """Print where each notebook's autograde time goes, on each of ``paths`` (the fastest of ``repeat`` runs)."""
    os.environ.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", MPLBACKEND="Agg")
    rows, demos = [], []
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    for path in paths:
        totals = [0.0] * (len(KINDS) + 1)
        for assignment in ASSIGNMENTS:
            runs = [profile_notebook(assignment, path) for _ in range(repeat)]
            seconds, slow = min(runs, key=lambda run: sum(run[0].values()))
            values = [seconds[k] for k in KINDS] + [sum(seconds.values())]
            totals = [a + b for a, b in zip(totals, values)]
            rows.append([path, assignment] + [f"{v:.1f}" for v in values])
            demos += [(took, path, name) for took, name in slow]
        rows.append([path, "all four"] + [f"{t:.1f}" for t in totals])
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print(table(["cells run", "notebook"] + [f"{k} s" for k in KINDS] + ["total s"], rows))
    print(table(["demonstration cell", "cells run", "s"],
                [[name, path, f"{took:.1f}"] for took, path, name in sorted(demos)[::-1][:10]]))


PATHS = {"all": True, "grading": False}  # --paths: every cell run (as before), or the grading path (all_cells=False)


def graded_cells(cells: list[dict], root: Path = REPO_ROOT) -> dict[tuple[str, str, str], tuple[str, ...]]:
    """{(student, assignment, grade id): (score, how it was graded, why it failed)}: what must not depend on the path
    (a diagnosis that names a file of the checkout's course_lib says <checkout> instead of where it is)."""
    return {(r["student_id"], r["assignment"], r["grade_id"]): (r["score"], r["grading"], r["failure"], r["cause"],
                                                                 r["diagnosis"].replace(str(root), "<checkout>"))
            for r in cells}


def grade_once(submitted: Path, out: Path, workers: int, path: str, arguments) -> tuple[list, list, dict]:
    """Grade the class once: (the summary row, the per-student rows, the graded cells)."""
    load = os.getloadavg()[0]
    start = time.perf_counter()
    report = grade_class(submitted, out, workers=workers, timeout=arguments.timeout, progress=False,
                         all_cells=PATHS[path])
    wall = time.perf_counter() - start
    cells = list(csv.DictReader(report.cell_grades_csv.open()))
    statuses = {(r["student_id"], r["assignment"]): r["status"] for r in csv.DictReader(report.grades_csv.open())}
    right, verdicts = 0, []
    for student in arguments.students:
        received, due, awaiting = deserved(cells, student)
        right += received == due
        changed = STUDENTS[student][0] or ASSIGNMENTS[0]
        verdicts.append([workers, path, student, f"{received:g}", f"{due:g}", "yes" if received == due else "NO",
                         f"{awaiting:g}", statuses.get((student, changed), "missing")[:70]])
    steps = {name: sum(step.seconds for step in report.steps if step.step == name) for name in ("autograde",
                                                                                                "generate_feedback")}
    row = [workers, path, len(arguments.students), f"{wall:.0f}", f"{wall / len(arguments.students):.1f}",
           f"{steps['autograde']:.0f}", f"{steps['generate_feedback']:.0f}", f"{right}/{len(arguments.students)}",
           len(report.not_graded), f"{load:.1f}"]
    return row, verdicts, graded_cells(cells)


# Runs another checkout's copy of this script with that checkout's course_lib (this venv's editable install of
# this checkout is taken off the import path): the code before a change, graded in the same run as the code after.
BASELINE = ("import runpy, sys\n"
            "sys.meta_path[:] = [f for f in sys.meta_path if not type(f).__module__.startswith('__editable__')]\n"
            "root = sys.argv.pop(1)\nsys.path[:0] = [root, root + '/benchmarks']\n"
            "sys.argv[0] = root + '/benchmarks/grading_a_class.py'\nrunpy.run_path(sys.argv[0], run_name='__main__')\n")


def baseline(checkout: Path, workers: int, arguments) -> tuple[list, dict]:
    """Grade the same class with ``checkout``'s code (its script, its class grading): (the summary row, the graded
    cells). The kernels import this checkout's course_lib below the instructor's layer, the same code in both when
    the change is in ``course_lib/instructor``."""
    out = arguments.out / f"baseline-{workers}"
    load = os.getloadavg()[0]
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", BASELINE, str(checkout), "--workers", str(workers), "--timeout",
                           str(arguments.timeout), "--students", *arguments.students, "--out", str(out)],
                          capture_output=True, text=True, env=dict(os.environ, CFCM_DATA_ROOT=str(data_root())))
    wall = time.perf_counter() - start
    print(done.stdout)
    cells = list(csv.DictReader((out / f"workers-{workers}" / "cell_grades.csv").open()))
    right = sum(deserved(cells, student)[0] == deserved(cells, student)[1] for student in arguments.students)
    row = [workers, f"baseline {checkout.name}", len(arguments.students), f"{wall:.0f}",
           f"{wall / len(arguments.students):.1f}", "", "", f"{right}/{len(arguments.students)}", "", f"{load:.1f}"]
    return row, graded_cells(cells, checkout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--timeout", type=int, default=40, help="seconds per cell (the issue's class used 40)")
    parser.add_argument("--students", nargs="+", default=list(STUDENTS), choices=list(STUDENTS))
    parser.add_argument("--paths", nargs="+", default=["grading"], choices=list(PATHS),
                        help="'all': every cell run, as before; 'grading': the demonstrations no graded cell needs "
                             "skipped (the default). Both: before and after in one run, and their grades compared")
    parser.add_argument("--baseline", type=Path, default=None, metavar="CHECKOUT",
                        help="first grade the class with another checkout's code (e.g. a clone of main), same run")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "build" / "grade_class")
    parser.add_argument("--profile", action="store_true", help="time each notebook's cells by kind instead")
    parser.add_argument("--repeat", type=int, default=1, help="with --profile: runs per notebook (the fastest shown)")
    arguments = parser.parse_args()
    if arguments.profile:
        return profile(arguments.repeat, arguments.paths)
    rows, verdicts, graded = [], [], {}
    with tempfile.TemporaryDirectory(prefix="cfcm-class-") as scratch:
        submitted = Path(scratch) / "submitted"
        make_class(submitted, arguments.students)
        for workers in arguments.workers:
            if arguments.baseline is not None:
                row, graded[workers, "baseline"] = baseline(arguments.baseline.resolve(), workers, arguments)
                rows.append(row)
                print(f"  {workers} worker(s), baseline: {row[3]} s, load {os.getloadavg()[0]:.1f} after", flush=True)
            for path in arguments.paths:
                row, verdict, graded[workers, path] = grade_once(submitted, arguments.out / f"workers-{workers}-{path}",
                                                                 workers, path, arguments)
                rows.append(row)
                verdicts += verdict
                print(f"  {workers} worker(s), {path} cells: {row[3]} s, load {os.getloadavg()[0]:.1f} after",
                      flush=True)
    print(f"{len(ASSIGNMENTS)} notebooks per student, --timeout {arguments.timeout}, grade_class.py as the README runs it")
    print(table(["workers", "cells run", "students", "wall s", "s per student", "autograde s (all workers)",
                 "feedback s (all workers)", "graded right", "not graded", "load before"], rows))
    print(table(["workers", "cells run", "student", "points", "deserved", "right", "awaiting manual",
                 "status of the changed notebook"], verdicts))
    first = next(iter(graded.values()))
    differ = {key: sorted(k for k in set(first) | set(cells) if first.get(k) != cells.get(k))
              for key, cells in graded.items()}
    print(f"graded cells compared with the first run ({len(first)} cells): "
          + "; ".join(f"{w} worker(s), {p}: {len(d)} differ {d[:3]}" for (w, p), d in differ.items()))


if __name__ == "__main__":
    main()
