#!/usr/bin/env python3
"""Grade a whole class on every core of one machine (or one shard of it on each of many), with nothing lost.

nbgrader autogrades one notebook at a time and its sqlite gradebook takes one writer. This tool builds one course
directory with the release and the gradebook (`generate_assignment` of every assignment in solutions/), clones it
once per worker, deals the students out to the workers, and lets each worker run the real `nbgrader autograde`,
`generate_feedback` and `export` on its share in its own directory. Around nbgrader it makes sure that no
notebook is lost and no zero is silent:

* before grading, each submission is checked against the release and repaired where nbgrader would fail on it
  (a pasted copy of a graded cell, a renamed grade id: ``submission_repair.py``); a file that is not a notebook
  is not graded, and says so;
* a notebook that nbgrader gives up on because one cell hung past the time limit (ignoring the interrupt) or
  killed the kernel is graded again with the answer responsible replaced by one that raises ``TimeoutError``,
  so only that exercise scores zero (at most ``MAX_RETRIES`` times);
* every student and notebook gets a status, in both CSVs: ``graded``, ``repaired: ...`` or
  ``not graded: <reason>``; a notebook that could not be graded gets a feedback page saying why; problem lines
  name the student and the notebook; the exit status is 0 only when every notebook was graded or repaired;
* what the class got wrong: ``class_report.py`` counts, per exercise, the points, the full marks and the zeros,
  and the diagnoses the checkers gave most often.

    OUT/grades.csv            one row per student and assignment (nbgrader export's columns, plus status and the
                              points of written answers awaiting manual grading, not yet in the score)
    OUT/cell_grades.csv       one row per student, assignment and graded cell (plus status and diagnosis; a written
                              answer awaiting manual grading has no score yet)
    OUT/exercise_stats.csv    one row per exercise: mean points, share with full marks and with zero, top diagnoses
    OUT/class_report.html     the same for an instructor to look at (self-contained, opens offline)
    OUT/autograded/<student>/<assignment>/...   OUT/feedback/<student>/<assignment>/<assignment>.html
    OUT/logs/worker-<k>.log   nbgrader's output, for anything that went wrong

Input is nbgrader's submitted layout, SUBMITTED/<student>/<assignment>/<assignment>.ipynb (what `nbgrader collect`
or `nbgrader zip_collect` produce):

    python tools/grade_class.py SUBMITTED --out OUT [--workers N] [--timeout SECONDS] [--no-feedback] [--shard K/N]
    python tools/grade_class.py --merge OUT-1 OUT-2 ... --out OUT

Each kernel gets cores / workers math threads, so N workers never oversubscribe the machine. ``--shard K/N`` grades
the students whose name hashes to K of N (deterministic, so N machines or a Slurm job array split a class without
talking to each other); ``--merge`` joins the shards' outputs into one set of CSVs and one report.
"""

from __future__ import annotations

import argparse
import csv
import html
import os
import re
import shutil
import sys
import tempfile
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))

from class_report import AWAITING, write_report  # noqa: E402
from nbgrader_course import RELEASE_DIRNAME, REPO_ROOT, CourseDir, NbgraderError, find_assignments  # noqa: E402
from submission_repair import as_graded, hanging_cell, one_line, repair_submission, stop_cell  # noqa: E402

CELL_GRADE_COLUMNS = ["student_id", "assignment", "notebook", "grade_id", "score", "max_score", "status", "diagnosis"]
DEFAULT_TIMEOUT = 180  # nbgrader_config.py's c.Execute.timeout: what a hang is measured against
MAX_RETRIES = 3  # hung or killed cells replaced per notebook before giving up on it
# What nbgrader says when an answer hung or took the kernel down. A kernel killed mid-call (os._exit, a hang
# that ignores the interrupt) can also surface as a ZMQError from the client's closed sockets on a busy machine.
KERNEL_LOST = r"CellTimeoutError|DeadKernelError|UnresponsiveKernel|Kernel died|ZMQError"
FAILED = re.compile(r"There was an error processing assignment '(?P<assignment>[^']+)' for student "
                    r"'(?P<student>[^']+)'")


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
    statuses: dict[tuple[str, str], str] = field(default_factory=dict)  # (student, assignment) -> status

    @property
    def not_graded(self) -> list[tuple[str, str]]:
        return sorted(key for key, status in self.statuses.items() if status.startswith("not graded"))


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
                        # A written answer (a "think" cell) the student changed waits for the instructor: nbgrader
                        # then holds no score for it yet, so the sheet leaves it blank rather than say 0.
                        awaiting = bool(grade.needs_manual_grade) and grade.manual_score is None
                        rows.append({"student_id": submission.student.id, "assignment": assignment.name,
                                     "notebook": notebook.name, "grade_id": grade.name,
                                     "score": "" if awaiting else grade.score, "max_score": grade.max_score,
                                     "awaiting": awaiting})
    return rows


def _diagnoses(autograded: Path) -> dict[str, str]:
    """{test cell grade id: the first line of what its failure said} for one autograded notebook."""
    found = {}
    notebook = nbformat.read(autograded, as_version=4)
    for cell in notebook.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if meta.get("grade") and errors:
            error = errors[0]
            text = str(error.get("evalue", "")).strip().splitlines() or [""]
            found[meta["grade_id"]] = one_line(text[0] if error.get("ename") == "CheckFailed"
                                               else f"{error.get('ename')}: {text[0]}")
    return found


class Worker:
    """One worker's course clone and log, grading its share of students assignment by assignment."""

    def __init__(self, index: int, template: CourseDir, scratch: Path, out_dir: Path, threads: int,
                 timeout: float | None) -> None:
        self.index = index
        self.course = template.clone(scratch / f"worker-{index}", threads=threads)
        self.out_dir = out_dir
        self.timeout = timeout
        self.options = [f"--Execute.timeout={int(timeout)}"] if timeout else []
        self.steps: list[StepTime] = []
        self.failures: list[str] = []
        self.changes: dict[tuple[str, str], list[str]] = {}  # what was repaired, per (student, assignment)
        self.problems: dict[tuple[str, str], str] = {}  # why it could not be graded
        self.log = (out_dir / "logs" / f"worker-{index}.log").open("w", encoding="utf-8")

    @property
    def statuses(self) -> dict[tuple[str, str], str]:
        """``graded``, ``repaired: ...`` or ``not graded: ...`` for every notebook this worker took."""
        statuses = {}
        for key, changes in self.changes.items():
            if key in self.problems:
                statuses[key] = f"not graded: {self.problems[key]}"
            else:
                statuses[key] = "repaired: " + "; ".join(changes) if changes else "graded"
        return statuses

    def nbgrader(self, step: str, assignment: str, students: int, *args: str):
        start = time.perf_counter()
        done = self.course.run(*args, check=False)
        self.steps.append(StepTime(self.index, step, assignment, students, time.perf_counter() - start))
        self.log.write(f"$ nbgrader {' '.join(args)}\n{done.stdout}{done.stderr}\n")
        self.log.flush()
        return done

    def submitted(self, student: str, assignment: str) -> Path:
        return self.course.root / "submitted" / student / assignment / f"{assignment}.ipynb"

    def autograded(self, student: str, assignment: str) -> Path:
        return self.course.root / "autograded" / student / assignment / f"{assignment}.ipynb"

    def prepare(self, submitted_dir: Path, student: str, assignment: str) -> bool:
        """Copy one submission in, repaired; False (with its status) when it cannot be graded at all."""
        source = submitted_dir / student / assignment
        target = self.course.root / "submitted" / student / assignment
        shutil.copytree(source, target)
        release = self.course.root / RELEASE_DIRNAME / assignment / f"{assignment}.ipynb"
        repair = repair_submission(target / f"{assignment}.ipynb", release)
        self.changes[(student, assignment)] = repair.changes
        if repair.notebook is None:
            shutil.rmtree(target)
            self.problems[(student, assignment)] = repair.problem
            return False
        nbformat.write(repair.notebook, target / f"{assignment}.ipynb")
        for change in repair.changes:
            self.log.write(f"repair {student}/{assignment}: {change}\n")
        return True

    def failed_students(self, output: str, assignment: str) -> dict[str, str]:
        """{student: the error's last line} for every submission of ``assignment`` nbgrader gave up on."""
        failed = {}
        for match in FAILED.finditer(output):
            if match["assignment"] == assignment:
                failed[match["student"]] = _error_line(output, match["student"], assignment)
        return failed

    def grade(self, assignment: str, students: list[str]) -> None:
        """Autograde ``students`` on ``assignment``; retry, per student, what hung or killed the kernel."""
        done = self.nbgrader("autograde", assignment, len(students), "autograde", assignment, "--force", *self.options)
        for student, reason in self.failed_students(done.stdout + done.stderr, assignment).items():
            self.retry(student, assignment, reason)

    def retry(self, student: str, assignment: str, reason: str) -> None:
        """Stop the answer that hung (up to MAX_RETRIES times) and grade again; else mark it not graded."""
        key = (student, assignment)
        source = self.course.root / "solutions" / assignment / f"{assignment}.ipynb"
        timeout = self.timeout or DEFAULT_TIMEOUT
        for _ in range(MAX_RETRIES):
            if not re.search(KERNEL_LOST, reason):
                break
            path = self.submitted(student, assignment)
            notebook = nbformat.read(path, as_version=4)
            index = hanging_cell(as_graded(notebook, source), path.parent, timeout)
            what = "stopped the kernel" if re.search(r"DeadKernel|Kernel died|ZMQError", reason) else f"ran past {timeout:g} s"
            change = stop_cell(notebook, index, timeout, what) if index is not None else None
            if change is None:
                break
            self.changes[key].append(change)
            self.log.write(f"repair {student}/{assignment}: {change}\n")
            nbformat.write(notebook, path)
            done = self.nbgrader("autograde", assignment, 1, "autograde", assignment, "--student", student, "--force",
                                 *self.options)
            failed = self.failed_students(done.stdout + done.stderr, assignment)
            if student not in failed:
                return
            reason = failed[student]
        self.problems[key] = f"nbgrader stopped on it ({reason})"
        self.failures.append(f"{student}/{assignment}: not graded: {reason} (see {self.log.name})")

    def feedback(self, assignment: str, students: list[str], enabled: bool) -> None:
        graded = [s for s in students if self.autograded(s, assignment).is_file()]
        if enabled and graded:
            self.nbgrader("generate_feedback", assignment, len(graded), "generate_feedback", assignment, "--force")
        for student in students:
            status = self.statuses[(student, assignment)]
            if status.startswith("not graded"):
                _not_graded_page(self.out_dir / "feedback" / student / assignment / f"{assignment}.html", student,
                                 assignment, status)

    def results(self) -> tuple[list[dict], list[dict]]:
        """(nbgrader export's rows, the gradebook's cell rows), each with its status and diagnosis."""
        export = self.course.root / "grades.csv"
        self.nbgrader("export", "", 0, "export", f"--to={export}")
        for folder in ("autograded", "feedback"):
            if (self.course.root / folder).is_dir():
                shutil.copytree(self.course.root / folder, self.out_dir / folder, dirs_exist_ok=True)
        grades = list(csv.DictReader(export.open(encoding="utf-8"))) if export.is_file() else []
        statuses = self.statuses
        cells = _cell_grades(self.course.db_url)
        awaiting: dict[tuple[str, str], float] = {}
        diagnoses: dict[tuple[str, str], dict[str, str]] = {}  # each autograded notebook read once
        for row in cells:
            key = (row["student_id"], row["assignment"])
            row["status"] = statuses.get(key, "graded")
            if row["status"].startswith("not graded"):
                row["score"] = ""  # nbgrader's gradebook says 0.0: that would be a silent zero
            elif row["awaiting"]:
                row["status"] += f"; {AWAITING}"
                awaiting[key] = awaiting.get(key, 0.0) + float(row["max_score"])
            del row["awaiting"]
            if key not in diagnoses:
                path = self.autograded(*key)
                diagnoses[key] = _diagnoses(path) if path.is_file() else {}
            row["diagnosis"] = diagnoses[key].get(row["grade_id"], "")
        graded_keys = {(row["student_id"], row["assignment"]) for row in grades}
        for row in grades:
            key = (row["student_id"], row["assignment"])
            row["status"] = statuses.get(key, "graded")
            if row["status"].startswith("not graded"):
                row["score"] = ""  # nbgrader's export says 0.0: that would be a silent zero
            row["awaiting_manual_points"] = awaiting.get(key, 0.0)
        for (student, assignment), status in statuses.items():
            if (student, assignment) not in graded_keys:
                grades.append({"assignment": assignment, "student_id": student, "score": "", "max_score": "",
                               "status": status})
        self.log.close()
        return grades, cells


def _error_line(output: str, student: str, assignment: str) -> str:
    """The last line of the traceback nbgrader logged for this student's assignment."""
    marker = "There was an error processing assignment: "
    blocks = [block for block in output.split(marker)[1:] if f"/{student}/{assignment}" in block.splitlines()[0]]
    if not blocks:
        return "nbgrader reported an error (see the log)"
    lines = [line.strip() for line in blocks[0].splitlines()[1:] if line.strip() and not line.startswith("[")]
    errors = [line for line in lines if re.match(r"^[\w.]+(Error|Exception|Interrupt)\b", line)]
    return one_line(errors[-1] if errors else (lines[-1] if lines else "unknown error"))


def _not_graded_page(path: Path, student: str, assignment: str, status: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(assignment)}: not "
                    f"graded</title></head><body><h1>{html.escape(assignment)}: not graded</h1><p>Student: "
                    f"{html.escape(student)}</p><p>This notebook could not be graded: "
                    f"{html.escape(status.removeprefix('not graded: '))}.</p><p>Nothing was scored; please ask your "
                    "instructor, and submit the notebook again as a file saved from Jupyter.</p></body></html>",
                    encoding="utf-8")


def _grade_share(worker: Worker, submitted_dir: Path, share: list[str], submissions: dict[str, list[str]],
                 feedback: bool, tick) -> Worker:
    """One worker's whole job: prepare, autograde (with retries), feedback, results."""
    for assignment in sorted({name for student in share for name in submissions[student]}):
        students = [s for s in share if assignment in submissions[s]]
        gradable = [s for s in students if worker.prepare(submitted_dir, s, assignment)]
        if gradable:
            worker.grade(assignment, gradable)
        worker.feedback(assignment, students, feedback)
        tick()
    return worker


def _write_csv(path: Path, rows: list[dict], columns: list[str]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def write_outputs(out_dir: Path, grades: list[dict], cells: list[dict], solutions_dir: Path) -> None:
    """grades.csv, cell_grades.csv, exercise_stats.csv and class_report.html from the merged rows."""
    grades.sort(key=lambda row: (row["student_id"], row["assignment"]))
    cells.sort(key=lambda row: (row["student_id"], row["assignment"], row["notebook"], row["grade_id"]))
    columns = list(dict.fromkeys(key for row in grades for key in row)) or ["assignment", "student_id", "score",
                                                                             "max_score", "status"]
    _write_csv(out_dir / "grades.csv", grades, columns)
    _write_csv(out_dir / "cell_grades.csv", cells, CELL_GRADE_COLUMNS)
    write_report(out_dir, grades, cells, solutions_dir)


def grade_class(submitted_dir: Path, out_dir: Path, *, solutions_dir: Path = REPO_ROOT / "solutions",
                workers: int | None = None, timeout: float | None = None, feedback: bool = True,
                progress: bool = True, course: CourseDir | None = None,
                shard: tuple[int, int] | None = None) -> ClassReport:
    """Autograde every submission under ``submitted_dir`` (or shard K of N) with ``workers`` parallel nbgrader runs.

    ``timeout`` overrides the per-cell limit of nbgrader_config.py. ``course`` reuses a course directory whose
    assignments are already generated; otherwise one is built from ``solutions_dir``. Returns a ClassReport:
    ``statuses`` has every notebook's status, ``failures`` names the notebooks that could not be graded. Nine
    parameters: the class, where results go, and the seven choices an instructor makes; all keyword-only.
    """
    from tqdm.auto import tqdm

    start = time.perf_counter()
    submitted_dir, out_dir = Path(submitted_dir).resolve(), Path(out_dir).resolve()
    submissions = {s: names for s, names in find_submissions(submitted_dir).items() if in_shard(s, shard)}
    if not submissions:
        raise FileNotFoundError(f"no submissions in {submitted_dir}" + (f" for shard {shard[0]}/{shard[1]}" if shard
                                                                      else "") + ": expected <student>/<assignment>/"
                                "<notebook>.ipynb")
    sources = solutions_dir if course is None else course.root / "solutions"  # outlives the scratch course
    unknown = sorted({a for names in submissions.values() for a in names} - set(find_assignments(sources)))
    if unknown:
        raise ValueError(f"submissions for {unknown} have no source in {solutions_dir}: check the folder names")
    cores = os.cpu_count() or 1
    workers = max(1, min(workers or cores, len(submissions)))
    shares = _deal(sorted(submissions), workers)
    (out_dir / "logs").mkdir(parents=True, exist_ok=True)
    report = ClassReport(out_dir, out_dir / "grades.csv", out_dir / "cell_grades.csv", 0.0, len(shares))
    with tempfile.TemporaryDirectory(prefix="cfcm-grade-") as scratch_name:
        scratch = Path(scratch_name)
        if course is None:
            course = build_course(scratch / "template", solutions_dir, sorted({a for n in submissions.values()
                                                                               for a in n}))
        total = sum(len(names) for names in submissions.values())
        bar = tqdm(total=sum(len({a for s in share for a in submissions[s]}) for share in shares),
                   desc=f"grading {len(submissions)} students ({total} notebooks, {len(shares)} workers)",
                   unit="step", disable=not progress)
        crew = [Worker(k, course, scratch, out_dir, max(1, cores // workers), timeout) for k in range(len(shares))]
        with ThreadPoolExecutor(max_workers=len(shares)) as pool:
            futures = [pool.submit(_grade_share, worker, submitted_dir, share, submissions, feedback,
                                   lambda: bar.update(1)) for worker, share in zip(crew, shares)]
            done = [future.result() for future in futures]
        bar.close()
        grades, cells = [], []
        for worker in done:
            share_grades, share_cells = worker.results()
            grades += share_grades
            cells += share_cells
            report.steps += worker.steps
            report.failures += worker.failures
            report.statuses.update(worker.statuses)
    write_outputs(out_dir, grades, cells, sources)
    report.seconds = time.perf_counter() - start
    return report


def merge(shard_dirs: list[Path], out_dir: Path, solutions_dir: Path = REPO_ROOT / "solutions") -> int:
    """Join the outputs of ``--shard`` runs into one set of CSVs, feedback folders and one report; the number of
    notebooks that were not graded."""
    grades, cells = [], []
    out_dir.mkdir(parents=True, exist_ok=True)
    for folder in shard_dirs:
        for name, rows in (("grades.csv", grades), ("cell_grades.csv", cells)):
            path = Path(folder) / name
            if not path.is_file():
                raise FileNotFoundError(f"{path} does not exist: is {folder} the --out of a grade_class run?")
            rows += list(csv.DictReader(path.open(encoding="utf-8")))
        for sub in ("autograded", "feedback", "logs"):
            if (Path(folder) / sub).is_dir():
                target = out_dir / sub if sub != "logs" else out_dir / "logs" / Path(folder).name
                shutil.copytree(Path(folder) / sub, target, dirs_exist_ok=True)
    write_outputs(out_dir, grades, cells, solutions_dir)
    return sum(row.get("status", "").startswith("not graded") for row in grades)


def _shard(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d+)/(\d+)", text)
    if not match or not 1 <= int(match[1]) <= int(match[2]):
        raise argparse.ArgumentTypeError(f"--shard takes K/N with 1 <= K <= N, e.g. 2/8; got {text!r}")
    return int(match[1]), int(match[2])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("submitted", type=Path, nargs="?", help="folder of <student>/<assignment>/<notebook>.ipynb")
    parser.add_argument("--out", type=Path, required=True, help="where grades.csv, feedback/ ... are written")
    parser.add_argument("--solutions", type=Path, default=REPO_ROOT / "solutions", help="assignment sources")
    parser.add_argument("--workers", type=int, default=None, help="parallel graders (default: all cores)")
    parser.add_argument("--timeout", type=float, default=None, help="per-cell limit in seconds (default: config)")
    parser.add_argument("--no-feedback", action="store_true", help="skip the feedback HTML")
    parser.add_argument("--shard", type=_shard, default=None, help="grade only shard K of N, e.g. 2/8")
    parser.add_argument("--merge", type=Path, nargs="+", default=None, metavar="DIR",
                        help="join these grade_class outputs (one per shard) into --out instead of grading")
    args = parser.parse_args(argv)
    try:
        if args.merge:
            missing = merge(args.merge, args.out, args.solutions)
            print(f"merged {len(args.merge)} shard(s) into {args.out}: {missing} notebook(s) not graded")
            return 1 if missing else 0
        if args.submitted is None:
            parser.error("give the folder of submissions (or --merge DIR ...)")
        report = grade_class(args.submitted, args.out, solutions_dir=args.solutions, workers=args.workers,
                             timeout=args.timeout, feedback=not args.no_feedback, shard=args.shard)
    except (FileNotFoundError, ValueError, NbgraderError) as error:
        print(f"grade_class: {error}", file=sys.stderr)
        return 2
    autograde = [s for s in report.steps if s.step == "autograde"]
    notebooks = len(report.statuses)
    repaired = sum(status.startswith("repaired") for status in report.statuses.values())
    print(f"graded {notebooks - len(report.not_graded)} of {notebooks} notebooks ({repaired} repaired) with "
          f"{report.workers} workers in {report.seconds:.1f} s "
          f"(autograde {sum(s.seconds for s in autograde) / max(1, notebooks):.1f} s per notebook per worker)")
    print(f"grades: {report.grades_csv}\nper exercise: {report.cell_grades_csv}\nreport: "
          f"{report.out_dir / 'class_report.html'}")
    for failure in report.failures:
        print(f"problem: {failure}", file=sys.stderr)
    if report.not_graded:
        print(f"{len(report.not_graded)} notebook(s) not graded: "
              + ", ".join(f"{s}/{a}" for s, a in report.not_graded), file=sys.stderr)
    return 1 if report.not_graded else 0


if __name__ == "__main__":
    sys.exit(main())
