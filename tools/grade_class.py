#!/usr/bin/env python3
"""Grade a whole class on every core of one machine, then merge the grades into one CSV.

nbgrader autogrades one notebook at a time and its sqlite gradebook takes one writer. This tool builds
one course directory with the release and the gradebook (`generate_assignment` of every assignment in
solutions/), clones it once per worker, deals the students out to the workers, and lets each worker run
the real `nbgrader autograde`, `generate_feedback` and `export` on its share in its own directory. The
workers' results are merged:

    OUT/grades.csv        one row per student and assignment (nbgrader export's columns)
    OUT/cell_grades.csv   one row per student, assignment and graded cell (which exercise lost points)
    OUT/autograded/<student>/<assignment>/...   OUT/feedback/<student>/<assignment>/<assignment>.html
    OUT/logs/worker-<k>.log                     nbgrader's output, for anything that went wrong

Input is nbgrader's submitted layout, SUBMITTED/<student>/<assignment>/<assignment>.ipynb (what
`nbgrader collect` or `nbgrader zip_collect` produce):

    python tools/grade_class.py SUBMITTED --out OUT [--workers N] [--timeout SECONDS] [--no-feedback]

Each kernel gets cores / workers math threads, so N workers never oversubscribe the machine.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from nbgrader_course import REPO_ROOT, CourseDir, NbgraderError, find_assignments  # noqa: E402

CELL_GRADE_COLUMNS = ["student_id", "assignment", "notebook", "grade_id", "score", "max_score"]


@dataclass
class StepTime:
    """How long one worker took for one nbgrader step on its students."""

    worker: int
    step: str
    assignment: str
    students: int
    seconds: float


@dataclass
class ClassReport:
    """Where the merged results are, how long it took, and what failed (empty when all went well)."""

    out_dir: Path
    grades_csv: Path
    cell_grades_csv: Path
    seconds: float
    workers: int
    steps: list[StepTime] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


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


def build_course(root: Path, solutions_dir: Path, assignments: list[str]) -> CourseDir:
    """A course directory at ``root`` whose gradebook knows ``assignments`` (release generated)."""
    course = CourseDir.create(root, solutions_dir, assignments)
    for name in assignments:
        course.generate(name)
    return course


def _deal(students: list[str], workers: int) -> list[list[str]]:
    """Round-robin shares, so students with similar ids (often similar sizes) spread over the workers."""
    return [share for share in (students[k::workers] for k in range(workers)) if share]


def _cell_grades(db_url: str) -> list[dict]:
    from nbgrader.api import Gradebook

    rows = []
    with Gradebook(db_url) as gradebook:
        for assignment in gradebook.assignments:
            for submission in gradebook.assignment_submissions(assignment.name):
                for notebook in submission.notebooks:
                    for grade in notebook.grades:
                        rows.append({"student_id": submission.student.id, "assignment": assignment.name,
                                     "notebook": notebook.name, "grade_id": grade.name, "score": grade.score,
                                     "max_score": grade.max_score})
    return rows


def _grade_share(index: int, template: CourseDir, scratch: Path, submitted_dir: Path, share: list[str],
                 submissions: dict[str, list[str]], out_dir: Path, threads: int, timeout: float | None,
                 feedback: bool, tick) -> tuple[list[StepTime], list[str], list[dict], list[dict]]:
    """One worker: clone the course, grade its students assignment by assignment, export, copy results out."""
    course = template.clone(scratch / f"worker-{index}", threads=threads)
    for student in share:
        for name in submissions[student]:
            shutil.copytree(submitted_dir / student / name, course.root / "submitted" / student / name)
    steps: list[StepTime] = []
    failures: list[str] = []
    log_path = out_dir / "logs" / f"worker-{index}.log"
    options = [f"--Execute.timeout={int(timeout)}"] if timeout else []
    assignments = sorted({name for student in share for name in submissions[student]})
    with log_path.open("w", encoding="utf-8") as log:
        def step(name: str, assignment: str, *args: str) -> None:
            students = sum(assignment in submissions[s] for s in share) if assignment else len(share)
            start = time.perf_counter()
            done = course.run(*args, check=False)
            steps.append(StepTime(index, name, assignment, students, time.perf_counter() - start))
            log.write(f"$ nbgrader {' '.join(args)}\n{done.stdout}{done.stderr}\n")
            if done.returncode != 0:
                failures.append(f"worker {index}: `nbgrader {' '.join(args)}` exited {done.returncode} "
                                f"(students {', '.join(share)}); see {log_path}")

        for name in assignments:
            step("autograde", name, "autograde", name, "--force", *options)
            tick()
            if feedback:
                step("generate_feedback", name, "generate_feedback", name, "--force")
        export = course.root / "grades.csv"
        step("export", "", "export", f"--to={export}")
    for folder in ("autograded", "feedback"):
        if (course.root / folder).is_dir():
            shutil.copytree(course.root / folder, out_dir / folder, dirs_exist_ok=True)
    grades = list(csv.DictReader(export.open(encoding="utf-8"))) if export.is_file() else []
    return steps, failures, grades, _cell_grades(course.db_url)


def _write_csv(path: Path, rows: list[dict], columns: list[str]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def grade_class(submitted_dir: Path, out_dir: Path, *, solutions_dir: Path = REPO_ROOT / "solutions",
                workers: int | None = None, timeout: float | None = None, feedback: bool = True,
                progress: bool = True, course: CourseDir | None = None) -> ClassReport:
    """Autograde every submission under ``submitted_dir`` with ``workers`` parallel nbgrader runs.

    ``timeout`` overrides the per-cell limit of nbgrader_config.py. ``course`` reuses a course directory
    whose assignments are already generated (its gradebook must hold every submitted assignment);
    otherwise one is built from ``solutions_dir``. Returns a ClassReport; ``failures`` lists the nbgrader
    steps that did not exit cleanly (their students may lack grades: see the logs).
    """
    from tqdm.auto import tqdm

    start = time.perf_counter()
    submitted_dir, out_dir = Path(submitted_dir).resolve(), Path(out_dir).resolve()
    submissions = find_submissions(submitted_dir)
    if not submissions:
        raise FileNotFoundError(f"no submissions in {submitted_dir}: expected <student>/<assignment>/<notebook>.ipynb")
    known = set(find_assignments(solutions_dir if course is None else course.root / "solutions"))
    unknown = sorted({a for names in submissions.values() for a in names} - known)
    if unknown:
        raise ValueError(f"submissions for {unknown} have no source in {solutions_dir}: check the folder names")
    cores = os.cpu_count() or 1
    workers = max(1, min(workers or cores, len(submissions)))
    threads = max(1, cores // workers)
    shares = _deal(sorted(submissions), workers)
    (out_dir / "logs").mkdir(parents=True, exist_ok=True)
    report = ClassReport(out_dir, out_dir / "grades.csv", out_dir / "cell_grades.csv", 0.0, len(shares))
    with tempfile.TemporaryDirectory(prefix="cfcm-grade-") as scratch_name:
        scratch = Path(scratch_name)
        if course is None:
            assignments = sorted({a for names in submissions.values() for a in names})
            course = build_course(scratch / "template", solutions_dir, assignments)
        total = sum(len(names) for names in submissions.values())
        bar = tqdm(total=sum(len({a for s in share for a in submissions[s]}) for share in shares),
                   desc=f"grading {len(submissions)} students ({total} notebooks, {len(shares)} workers)",
                   unit="step", disable=not progress)
        with ThreadPoolExecutor(max_workers=len(shares)) as pool:
            futures = [pool.submit(_grade_share, k, course, scratch, submitted_dir, share, submissions, out_dir,
                                   threads, timeout, feedback, lambda: bar.update(1))
                       for k, share in enumerate(shares)]
            grades: list[dict] = []
            cells: list[dict] = []
            for future in futures:
                steps, failures, share_grades, share_cells = future.result()
                report.steps += steps
                report.failures += failures
                grades += share_grades
                cells += share_cells
        bar.close()
    grades.sort(key=lambda row: (row["student_id"], row["assignment"]))
    cells.sort(key=lambda row: (row["student_id"], row["assignment"], row["notebook"], row["grade_id"]))
    columns = list(grades[0]) if grades else ["assignment", "student_id", "score", "max_score"]
    _write_csv(report.grades_csv, grades, columns)
    _write_csv(report.cell_grades_csv, cells, CELL_GRADE_COLUMNS)
    report.seconds = time.perf_counter() - start
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("submitted", type=Path, help="folder of <student>/<assignment>/<notebook>.ipynb")
    parser.add_argument("--out", type=Path, required=True, help="where grades.csv, feedback/ ... are written")
    parser.add_argument("--solutions", type=Path, default=REPO_ROOT / "solutions", help="assignment sources")
    parser.add_argument("--workers", type=int, default=None, help="parallel graders (default: all cores)")
    parser.add_argument("--timeout", type=float, default=None, help="per-cell limit in seconds (default: config)")
    parser.add_argument("--no-feedback", action="store_true", help="skip the feedback HTML")
    args = parser.parse_args(argv)
    try:
        report = grade_class(args.submitted, args.out, solutions_dir=args.solutions, workers=args.workers,
                             timeout=args.timeout, feedback=not args.no_feedback)
    except (FileNotFoundError, ValueError, NbgraderError) as error:
        print(f"grade_class: {error}", file=sys.stderr)
        return 1
    autograde = [s for s in report.steps if s.step == "autograde"]
    notebooks = sum(s.students for s in autograde)
    print(f"graded {notebooks} notebooks with {report.workers} workers in {report.seconds:.1f} s "
          f"(autograde {sum(s.seconds for s in autograde) / max(1, notebooks):.1f} s per notebook per worker)")
    print(f"grades: {report.grades_csv}\nper exercise: {report.cell_grades_csv}")
    for failure in report.failures:
        print(f"problem: {failure}", file=sys.stderr)
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
