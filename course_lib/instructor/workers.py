"""One worker of class grading: a clone of the course directory that grades its share of students, losing nothing.

nbgrader autogrades one notebook at a time and its sqlite gradebook takes one writer, so each worker grades in a
course directory of its own (``CourseDir.clone``), assignment by assignment, with the real ``nbgrader autograde``
and ``generate_feedback``. Around nbgrader it makes sure that no notebook is lost and no zero is silent:

* before grading, each submission is checked against the release and repaired where nbgrader would fail on it
  (``repair``); a file that is not a notebook is not graded, and says so;
* a notebook that nbgrader gives up on because one cell hung past the time limit (ignoring the interrupt) or killed
  the kernel is graded again with the answer responsible replaced by one that raises ``TimeoutError``, so only
  that exercise scores zero (at most ``MAX_RETRIES`` times);
* the demonstration cells no graded cell needs are not run (``grading_path``; ``all_cells`` runs them all);
* every notebook ends with a status (``status.NotebookStatus``), and a notebook that could not be graded gets a
  feedback page saying why.
"""

from __future__ import annotations

import html
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

from course_lib.grading.diagnosis import Failure
from course_lib.instructor.course import RELEASE_DIRNAME, CourseDir
from course_lib.instructor.diagnoses import failures
from course_lib.instructor.grading_path import startup_file, write_skip_list
from course_lib.instructor.repair import (as_graded, hanging_cell, logged_cell, one_line, repair_submission,
                                         stop_cell)
from course_lib.instructor.status import NotebookStatus

__all__ = ["Worker", "StepTime", "DEFAULT_TIMEOUT", "MAX_RETRIES"]

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


class Worker:
    """One worker's course clone and log, grading its share of students assignment by assignment."""

    def __init__(self, index: int, template: CourseDir, scratch: Path, out_dir: Path, threads: int,
                 timeout: float | None, all_cells: bool = False) -> None:
        self.index = index
        self.course = template.clone(scratch / f"worker-{index}", threads=threads)
        self.all_cells = all_cells
        if not all_cells:  # every kernel of this clone's nbgrader skips the cells its notebook's list names
            startup_file(Path(self.course.env["IPYTHONDIR"]))
        self.out_dir = out_dir
        self.timeout = timeout
        self.options = [f"--Execute.timeout={int(timeout)}"] if timeout else []
        self.steps: list[StepTime] = []
        self.failures: list[str] = []  # problem lines: a student's notebook that could not be graded
        self.changes: dict[tuple[str, str], list[str]] = {}  # what was repaired, per (student, assignment)
        self.problems: dict[tuple[str, str], str] = {}  # why it could not be graded
        self.log = (out_dir / "logs" / f"worker-{index}.log").open("w", encoding="utf-8")

    @property
    def statuses(self) -> dict[tuple[str, str], NotebookStatus]:
        """The status of every notebook this worker took."""
        return {key: NotebookStatus.not_graded(self.problems[key]) if key in self.problems
                else NotebookStatus.repaired(changes) for key, changes in self.changes.items()}

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
            self.problems[(student, assignment)] = repair.problem or "it could not be read"
            return False
        nbformat.write(repair.notebook, target / f"{assignment}.ipynb")
        if not self.all_cells:
            source = self.course.root / "solutions" / assignment / f"{assignment}.ipynb"
            skipped = write_skip_list(self.course.root, student, assignment, as_graded(repair.notebook, source))
            self.log.write(f"grading path {student}/{assignment}: {len(skipped)} demonstration cells not run\n")
        for change in repair.changes:
            self.log.write(f"repair {student}/{assignment}: {change}\n")
        return True

    def failed_students(self, output: str, assignment: str) -> dict[str, str]:
        """{student: the error's last line} for every submission of ``assignment`` nbgrader gave up on."""
        return {match["student"]: _error_line(output, match["student"], assignment)
                for match in FAILED.finditer(output) if match["assignment"] == assignment}

    def grade(self, students: dict[str, list[str]]) -> None:
        """Autograde ``students`` ({assignment: students}) in one nbgrader run; retry, per notebook, what hung or
        killed the kernel."""
        names = [assignment for assignment, who in students.items() if who]
        if not names:
            return
        done = self.nbgrader("autograde", "*" if len(names) > 1 else names[0], sum(map(len, students.values())),
                             "autograde", "*" if len(names) > 1 else names[0], "--force", *self.options)
        for assignment in names:
            for student, reason in self.failed_students(done.stdout + done.stderr, assignment).items():
                self.retry(student, assignment, reason, done.stdout + done.stderr)

    def retry(self, student: str, assignment: str, reason: str, output: str) -> None:
        """Stop the answer that hung (up to MAX_RETRIES times) and grade again; else mark it not graded. The cell
        that hung is read from nbgrader's ``output`` when it quotes it, else found by running the notebook again."""
        key = (student, assignment)
        source = self.course.root / "solutions" / assignment / f"{assignment}.ipynb"
        timeout = self.timeout or DEFAULT_TIMEOUT
        for _ in range(MAX_RETRIES):
            if not re.search(KERNEL_LOST, reason):
                break
            path = self.submitted(student, assignment)
            notebook = nbformat.read(path, as_version=4)
            graded = as_graded(notebook, source)
            index = logged_cell(graded, _error_block(output, student, assignment))
            if index is None:
                index = hanging_cell(graded, path.parent, timeout, self.course.env)
            killed = re.search(r"DeadKernel|Kernel died|ZMQError", reason)
            change = stop_cell(notebook, index, timeout, "stopped the kernel" if killed else
                               f"ran past {timeout:g} s") if index is not None else None
            if change is None:
                break
            self.changes[key].append(change)
            self.log.write(f"repair {student}/{assignment}: {change}\n")
            nbformat.write(notebook, path)
            done = self.nbgrader("autograde", assignment, 1, "autograde", assignment, "--student", student, "--force",
                                 *self.options)
            output = done.stdout + done.stderr
            failed = self.failed_students(output, assignment)
            if student not in failed:
                return
            reason = failed[student]
        self.problems[key] = f"nbgrader stopped on it ({reason})"
        self.failures.append(f"{student}/{assignment}: not graded: {reason} (see {self.log.name})")

    def feedback(self, students: dict[str, list[str]], enabled: bool) -> None:
        """Feedback pages for ``students`` ({assignment: students}): nbgrader's for the graded notebooks, in one
        run, and one saying why for each notebook that could not be graded."""
        graded = [(s, a) for a, who in students.items() for s in who if self.autograded(s, a).is_file()]
        if enabled and graded:
            names = sorted({a for _, a in graded})
            target = "*" if len(names) > 1 else names[0]
            self.nbgrader("generate_feedback", target, len(graded), "generate_feedback", target, "--force")
        for assignment, who in students.items():
            for student in who:
                status = self.statuses[(student, assignment)]
                if not status.graded:
                    _not_graded_page(self.out_dir / "feedback" / student / assignment / f"{assignment}.html",
                                     student, assignment, status)

    def finish(self) -> dict[tuple[str, str, str], Failure]:
        """Copy the graded notebooks and feedback pages out; the failures of every test cell, read from them."""
        for folder in ("autograded", "feedback"):
            if (self.course.root / folder).is_dir():
                shutil.copytree(self.course.root / folder, self.out_dir / folder, dirs_exist_ok=True)
        found = {}
        for (student, assignment), status in self.statuses.items():
            path = self.autograded(student, assignment)
            if status.graded and path.is_file():
                found |= {(student, assignment, grade_id): failure for grade_id, failure in failures(path).items()}
        self.log.close()
        return found


def _error_block(output: str, student: str, assignment: str) -> str:
    """What nbgrader logged after the error on this student's assignment ("" when it logged none)."""
    marker = "There was an error processing assignment: "
    blocks = [block for block in output.split(marker)[1:] if f"/{student}/{assignment}" in block.splitlines()[0]]
    return blocks[0] if blocks else ""


def _error_line(output: str, student: str, assignment: str) -> str:
    """The last line of the traceback nbgrader logged for this student's assignment."""
    block = _error_block(output, student, assignment)
    if not block:
        return "nbgrader reported an error (see the log)"
    lines = [line.strip() for line in block.splitlines()[1:] if line.strip() and not line.startswith("[")]
    errors = [line for line in lines if re.match(r"^[\w.]+(Error|Exception|Interrupt)\b", line)]
    return one_line(errors[-1] if errors else (lines[-1] if lines else "unknown error"))


def _not_graded_page(path: Path, student: str, assignment: str, status: NotebookStatus) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    reason = html.escape("; ".join(status.notes) or "unknown")
    path.write_text(f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(assignment)}: not "
                    f"graded</title></head><body><h1>{html.escape(assignment)}: not graded</h1><p>Student: "
                    f"{html.escape(student)}</p><p>This notebook could not be graded: {reason}.</p><p>Nothing was "
                    "scored; please ask your instructor, and submit the notebook again as a file saved from "
                    "Jupyter.</p></body></html>", encoding="utf-8")
