"""Grade a whole class on every core of one machine (or one shard of it on each of many), and record it in the
instructor's gradebook.

One course directory is built with the release and a gradebook (``generate_assignment`` of every assignment), cloned
once per worker; the students are dealt out to the workers (``workers.Worker``), each grading its share with the
real nbgrader, in one run for all its notebooks and one for their feedback (a run costs seconds to start); the
demonstration cells no graded cell needs are not run (``grading_path``). Their gradebooks are then joined into the
class's own (``OUT/gradebook.db``) and, unless told otherwise, copied into the instructor's (``gradebook.register``,
``gradebook.copy_submissions``), the one formgrader shows, together with the graded notebooks and feedback pages: the
written answers are then graded by hand there, and ``tools/gradebook.py export`` turns both into final grades.
Written in OUT:

    grades.csv            one row per student and notebook: score, status, points awaiting a hand grade
    cell_grades.csv       one row per student and graded cell: score, how it was graded, why a test failed
    exercise_stats.csv    one row per exercise; class_report.html: what to teach again (``report``)
    gradebook.db          the class's gradebook (a shard's, for ``merge``)
    autograded/, feedback/<student>/<assignment>/<assignment>.html, logs/worker-<k>.log

``shard=(K, N)`` grades the students whose name hashes to K of N (deterministic, so N machines or a Slurm job array
split a class without talking to each other); ``merge`` joins the shards' outputs into one.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from course_lib.instructor.course import GRADEBOOK, CourseDir, checkout, find_assignments
from course_lib.instructor.gradebook import copy_submissions, gradebook_url, register, remove_submissions
from course_lib.instructor.report import write_report
from course_lib.instructor.status import NotebookStatus
from course_lib.instructor.tables import (NotebookRow, Notes, annotate, notebook_rows, read_gradebook, read_notes,
                                         write_sheets)
from course_lib.instructor.workers import StepTime, Worker

__all__ = ["ClassReport", "grade_class", "merge", "publish", "find_submissions", "in_shard"]


@dataclass
class ClassReport:
    """Where the results are, how long it took, and what failed (empty when all went well)."""

    out_dir: Path
    grades_csv: Path
    cell_grades_csv: Path
    seconds: float
    workers: int
    steps: list[StepTime] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    statuses: dict[tuple[str, str], NotebookStatus] = field(default_factory=dict)  # (student, assignment)
    recorded_in: Path | None = None  # the course directory whose gradebook now holds the class

    @property
    def not_graded(self) -> list[tuple[str, str]]:
        return sorted(key for key, status in self.statuses.items() if not status.graded)


def find_submissions(submitted_dir: Path) -> dict[str, list[str]]:
    """{student: [assignments]} for SUBMITTED/<student>/<assignment>/*.ipynb."""
    submitted_dir = Path(submitted_dir)
    if not submitted_dir.is_dir():
        raise FileNotFoundError(f"{submitted_dir} is not a folder: expected <student>/<assignment>/<notebook>.ipynb "
                                "inside (run `nbgrader zip_collect` or `nbgrader collect` first)")
    found: dict[str, list[str]] = {}
    for student in sorted(p for p in submitted_dir.iterdir() if p.is_dir() and not p.name.startswith(".")):
        assignments = sorted(a.name for a in student.iterdir() if a.is_dir() and any(a.glob("*.ipynb")))
        if assignments:
            found[student.name] = assignments
    return found


def in_shard(student: str, shard: tuple[int, int] | None) -> bool:
    """Whether ``student`` belongs to shard K of N (by a hash of the name: stable as the class list changes)."""
    if shard is None:
        return True
    k, n = shard
    return zlib.crc32(student.encode()) % n == k - 1


def _deal(students: list[str], workers: int) -> list[list[str]]:
    """Round-robin shares, so students with similar ids (often similar sizes) spread over the workers."""
    return [share for share in (students[k::workers] for k in range(workers)) if share]


def _grade_share(worker: Worker, submitted_dir: Path, share: list[str], submissions: dict[str, list[str]],
                 feedback: bool, tick: Callable[[], object]) -> Worker:
    """One worker's whole job: prepare every submission, autograde them all in one nbgrader run (with retries) and
    write their feedback in one more: an nbgrader run costs seconds to start, as much as a notebook to grade."""
    assignments = sorted({name for student in share for name in submissions[student]})
    students = {assignment: [s for s in share if assignment in submissions[s]] for assignment in assignments}
    worker.grade({assignment: [s for s in names if worker.prepare(submitted_dir, s, assignment)]
                  for assignment, names in students.items()})
    worker.feedback(students, feedback)
    for _ in assignments:
        tick()
    return worker


def publish(out_dir: Path, db_url: str, notes: Notes, solutions_dir: Path,
            keys: set[tuple[str, str]] | None = None) -> list[NotebookRow]:
    """The class's sheets (grades.csv, cell_grades.csv) and report in ``out_dir``, from the gradebook at ``db_url``
    (the submissions in ``keys``, or all) and what the grading run knew (``notes``); the sheet's notebook rows."""
    cells, people, stamps = read_gradebook(db_url, keys)
    annotate(cells, notes)
    notebooks = notebook_rows(cells, notes, people, stamps)
    write_sheets(out_dir, notebooks, cells)
    write_report(out_dir, notebooks, cells, solutions_dir)
    return notebooks


def _record(out_dir: Path, course_dir: Path, solutions_dir: Path, assignments: list[str]) -> str:
    """Copy the class in ``out_dir`` into the course directory's gradebook and folders; that gradebook's URL."""
    register(course_dir, solutions_dir, assignments)
    copy_submissions(gradebook_url(out_dir), gradebook_url(course_dir))
    for folder in ("autograded", "feedback"):
        if (out_dir / folder).is_dir():
            shutil.copytree(out_dir / folder, Path(course_dir) / folder, dirs_exist_ok=True)
    return gradebook_url(course_dir)


def _run_workers(template: CourseDir, scratch: Path, out_dir: Path, submitted_dir: Path,
                 submissions: dict[str, list[str]], options: dict) -> list[Worker]:
    """Deal the students out to ``options['workers']`` workers and let them grade; the finished workers."""
    from tqdm.auto import tqdm

    cores = os.cpu_count() or 1
    shares = _deal(sorted(submissions), options["workers"])
    total = sum(len(names) for names in submissions.values())
    bar = tqdm(total=sum(len({a for s in share for a in submissions[s]}) for share in shares),
               desc=f"grading {len(submissions)} students ({total} notebooks, {len(shares)} workers)", unit="step",
               disable=not options["progress"])
    crew = [Worker(k, template, scratch, out_dir, max(1, cores // len(shares)), options["timeout"],
                   options["all_cells"]) for k in range(len(shares))]
    with ThreadPoolExecutor(max_workers=len(shares)) as pool:
        futures = [pool.submit(_grade_share, worker, submitted_dir, share, submissions, options["feedback"],
                               lambda: bar.update(1)) for worker, share in zip(crew, shares)]
        done = [future.result() for future in futures]
    bar.close()
    return done


def grade_class(submitted_dir: Path, out_dir: Path, *, solutions_dir: Path | None = None,
                workers: int | None = None, timeout: float | None = None, feedback: bool = True,
                progress: bool = True, course: CourseDir | None = None, shard: tuple[int, int] | None = None,
                record_in: Path | None = None, all_cells: bool = False) -> ClassReport:
    """Autograde every submission under ``submitted_dir`` (or shard K of N) with ``workers`` parallel nbgrader runs.

    ``timeout`` overrides the per-cell limit of nbgrader_config.py. ``course`` reuses a course directory whose
    assignments are already generated; otherwise one is built from ``solutions_dir`` (default: the checkout's).
    ``record_in``: the course directory whose gradebook (the one formgrader shows) receives the class.
    ``all_cells`` runs every demonstration cell too (by default those no graded cell needs are skipped:
    ``grading_path``; the grades are the same). Returns a ClassReport: ``statuses`` has every notebook's status,
    ``failures`` names the notebooks that could not be graded. Eleven parameters: the class, where results go, and
    the nine choices an instructor makes, keyword-only.
    """
    start = time.perf_counter()
    submitted_dir, out_dir = Path(submitted_dir).resolve(), Path(out_dir).resolve()
    solutions_dir = Path(solutions_dir or checkout() / "solutions")
    submissions = {s: names for s, names in find_submissions(submitted_dir).items() if in_shard(s, shard)}
    if not submissions:
        where = f" for shard {shard[0]}/{shard[1]}" if shard else ""
        raise FileNotFoundError(f"no submissions in {submitted_dir}{where}: expected <student>/<assignment>/"
                                "<notebook>.ipynb")
    sources = solutions_dir if course is None else course.root / "solutions"  # outlives the scratch course
    names = sorted({a for n in submissions.values() for a in n})
    unknown = sorted(set(names) - set(find_assignments(sources)))
    if unknown:
        raise ValueError(f"submissions for {unknown} have no source in {sources}: check the folder names")
    (out_dir / "logs").mkdir(parents=True, exist_ok=True)
    report = ClassReport(out_dir, out_dir / "grades.csv", out_dir / "cell_grades.csv", 0.0, 0)
    options = {"workers": max(1, min(workers or os.cpu_count() or 1, len(submissions))), "timeout": timeout,
               "feedback": feedback, "progress": progress, "all_cells": all_cells}
    with tempfile.TemporaryDirectory(prefix="cfcm-grade-") as scratch:
        template = course or CourseDir.create(Path(scratch) / "template", solutions_dir, names)
        if course is None:  # every assignment in one nbgrader run: each run costs seconds to start
            template.run("generate_assignment", "*" if len(names) > 1 else names[0], "--force")
        crew = _run_workers(template, Path(scratch), out_dir, submitted_dir, submissions, options)
        shutil.copy2(template.root / GRADEBOOK, out_dir / GRADEBOOK)
        remove_submissions(gradebook_url(out_dir))
        failures = {}
        for worker in crew:
            failures |= worker.finish()
            copy_submissions(worker.course.db_url, gradebook_url(out_dir))
            report.steps += worker.steps
            report.failures += worker.failures
            report.statuses.update(worker.statuses)
    report.workers = len(crew)
    db_url = _record(out_dir, record_in, sources, names) if record_in is not None else gradebook_url(out_dir)
    report.recorded_in = record_in
    publish(out_dir, db_url, Notes(report.statuses, failures), sources, set(report.statuses))
    report.seconds = time.perf_counter() - start
    return report


def merge(shard_dirs: list[Path], out_dir: Path, solutions_dir: Path | None = None,
          record_in: Path | None = None) -> int:
    """Join the outputs of ``--shard`` runs into one gradebook, one set of sheets, feedback folders and one report
    (recorded in the gradebook of ``record_in`` when given); the number of notebooks that were not graded."""
    solutions_dir = Path(solutions_dir or checkout() / "solutions")
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    notes = [read_notes(folder) for folder in shard_dirs]
    statuses = {key: status for note in notes for key, status in note.statuses.items()}
    names = sorted({assignment for _, assignment in statuses})
    register(out_dir, solutions_dir, names)
    for folder in map(Path, shard_dirs):
        if not (folder / GRADEBOOK).is_file():
            raise FileNotFoundError(f"{folder / GRADEBOOK} does not exist: is {folder} the --out of a grade_class "
                                    "run of this version?")
        copy_submissions(gradebook_url(folder), gradebook_url(out_dir))
        for sub in ("autograded", "feedback", "logs"):
            if (folder / sub).is_dir():
                target = out_dir / sub if sub != "logs" else out_dir / "logs" / folder.name
                shutil.copytree(folder / sub, target, dirs_exist_ok=True)
    db_url = _record(out_dir, record_in, solutions_dir, names) if record_in is not None else gradebook_url(out_dir)
    merged = Notes(statuses, {key: failure for note in notes for key, failure in note.failures.items()})
    publish(out_dir, db_url, merged, solutions_dir, set(statuses))
    return sum(not status.graded for status in statuses.values())
