"""Make a student's notebook gradable before nbgrader sees it, and say what was changed.

What students and JupyterLab do to notebooks that nbgrader cannot take, and what it costs without repair:

* a graded cell copied and pasted (the same grade id twice): nbgrader's DeduplicateIds empties the metadata of
  all but the last copy, then OverwriteCells fails with ``KeyError: 'grade_id'`` and the whole notebook scores 0;
* a grade id renamed, or a cell's nbgrader metadata removed: the same KeyError, or the answer graded as missing;
* a file that is not a notebook at all.

``repair_submission`` compares the submission with the release notebook: copies of cells that carry nbgrader
metadata become plain cells (the first one keeps it); an answer, test or task cell whose grade id is missing is
restored when its cell can be matched unambiguously (by the notebook's cell id, then by position); unknown grade
ids are dropped. Each change is one line for the log and the grade sheet. ``hanging_cell`` and ``stop_cell``
serve the second repair, after a grading run: finding the cell that hung or killed the kernel, and replacing the
answer responsible with one that raises ``TimeoutError``, so that only its exercise loses its points.
"""

from __future__ import annotations

import ast
import copy
import os
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from course_lib.grading.python_source import parse_source
from course_lib.instructor.cells import grade_id

MAX_REASON = 200  # characters of an error message kept in a status line


@dataclass
class Repair:
    """The notebook to grade (None when the file cannot be graded), what was changed, and why not, if not."""

    notebook: nbformat.NotebookNode | None
    changes: list[str] = field(default_factory=list)
    problem: str | None = None


def _is_graded(cell) -> bool:
    """An answer, test or task cell: the ones whose loss costs points."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return bool(meta.get("grade") or meta.get("solution") or meta.get("task"))


def one_line(text: str) -> str:
    """A message as one short line (for CSV cells and problem lines)."""
    line = " ".join(str(text).split())
    return line if len(line) <= MAX_REASON else line[:MAX_REASON - 3] + "..."


def read_submission(path: Path) -> tuple[nbformat.NotebookNode | None, str | None]:
    """(the notebook, None), or (None, why it cannot be read as one)."""
    try:
        return nbformat.read(path, as_version=4), None
    except Exception as error:  # noqa: BLE001 - not JSON, not a notebook, unreadable: all a reason not to grade
        return None, f"the file is not a readable notebook ({type(error).__name__}: {one_line(error)})"


def _make_plain(cell) -> None:
    cell.metadata.pop("nbgrader", None)


def _deduplicate(notebook, changes: list[str]) -> None:
    seen: set[str] = set()
    for index, cell in enumerate(notebook.cells):
        meta = cell.get("metadata", {}).get("nbgrader")
        if meta is None:
            continue
        name = meta.get("grade_id")
        if not name:
            _make_plain(cell)
            changes.append(f"cell {index + 1} had nbgrader metadata without a grade id: made a plain cell")
        elif name in seen:
            _make_plain(cell)
            changes.append(f"cell {index + 1} is a copy of cell '{name}' (copy and paste): made a plain cell, "
                           "the first one is graded")
        else:
            seen.add(name)


def _match(notebook, release_cell, release_index: int, known: set[str]):
    """The submission cell that ``release_cell`` became, when exactly one fits: same cell id, else same place."""
    def free(cell) -> bool:
        return cell.cell_type == release_cell.cell_type and grade_id(cell) not in known

    by_id = [cell for cell in notebook.cells if release_cell.get("id") and cell.get("id") == release_cell.get("id")]
    if len(by_id) == 1 and free(by_id[0]):
        return by_id[0], "by cell id"
    if release_index < len(notebook.cells) and free(notebook.cells[release_index]):
        return notebook.cells[release_index], "by position"
    return None, ""


def _restore_missing(notebook, release, changes: list[str]) -> None:
    known = {grade_id(cell) for cell in release.cells if grade_id(cell)}
    present = {grade_id(cell) for cell in notebook.cells if grade_id(cell)}
    for index, cell in enumerate(release.cells):
        name = grade_id(cell)
        if not _is_graded(cell) or name in present:
            continue
        found, how = _match(notebook, cell, index, known)
        if found is None:
            changes.append(f"cell '{name}' is missing and no cell matches it: nbgrader grades it as unanswered")
            continue
        previous = grade_id(found)
        found.metadata["nbgrader"] = copy.deepcopy(cell.metadata["nbgrader"])
        what = f"its grade id was '{previous}'" if previous else "its nbgrader metadata had been removed"
        changes.append(f"cell '{name}' restored ({what}; matched {how})")
        present.add(name)
    for index, cell in enumerate(notebook.cells):
        if grade_id(cell) and grade_id(cell) not in known:
            changes.append(f"cell {index + 1}'s grade id '{grade_id(cell)}' is not in the assignment: made a plain "
                           "cell")
            _make_plain(cell)


def repair_submission(path: Path, release: Path) -> Repair:
    """The submission at ``path`` made gradable against the ``release`` notebook; see the module docstring."""
    notebook, problem = read_submission(path)
    if notebook is None:
        return Repair(None, [], problem)
    changes: list[str] = []
    _deduplicate(notebook, changes)
    _restore_missing(notebook, nbformat.read(release, as_version=4), changes)
    return Repair(notebook, changes)


def as_graded(notebook, source: Path):
    """``notebook`` as nbgrader runs it: test and read-only cells put back from the ``source`` notebook (hidden
    tests included), as nbgrader's OverwriteCells does, by grade id."""
    originals = {grade_id(cell): cell for cell in nbformat.read(source, as_version=4).cells if grade_id(cell)}
    graded = copy.deepcopy(notebook)
    for index, cell in enumerate(graded.cells):
        original = originals.get(grade_id(cell))
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if original is not None and not meta.get("solution") and (meta.get("grade") or meta.get("locked")):
            graded.cells[index] = copy.deepcopy(original)
    return graded


PREVIEW = "Here is a preview of the cell contents:"  # nbclient's timeout message, which nbgrader logs


def _preview(source: str) -> str:
    """What nbclient's timeout message quotes of a cell (``CellTimeoutError.error_from_timeout_and_cell``)."""
    lines = source.strip().split("\n")
    return source.strip() if len(lines) < 11 else f"{lines[:5]}\n...\n{lines[-5:]}"


def _lines(text: str) -> str:
    return "\n".join(line.strip() for line in text.splitlines())


def logged_cell(notebook, log: str) -> int | None:
    """The cell that timed out, read from nbgrader's log of this notebook: the one code cell whose preview the
    timeout message quotes, or None (no such message, or several cells match: ``hanging_cell`` then finds it)."""
    if PREVIEW not in log:
        return None
    quoted = _lines(log[log.index(PREVIEW):])  # nbgrader's log indents the message
    found = [index for index, cell in enumerate(notebook.cells)
             if cell.cell_type == "code" and cell.source.strip() and _lines(_preview(cell.source)) in quoted]
    return found[0] if len(found) == 1 else None


def hanging_cell(notebook, folder: Path, timeout: float, env: dict[str, str] | None = None) -> int | None:
    """Run ``notebook`` as the autograder would (``NBGRADER_EXECUTION``, ``timeout`` per cell, the kernel in
    ``env``: the grading course's, default this process's); the index of the cell that timed out without answering
    the interrupt or killed the kernel, or None when every cell ended."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    running: list[int] = []
    # nbgrader's own Execute settings, so that what gives up here is what gave up there
    client = NotebookClient(copy.deepcopy(notebook), timeout=int(timeout), kernel_name="python3",
                            interrupt_on_timeout=True, allow_errors=True, raise_on_iopub_timeout=True,
                            error_on_timeout={"ename": "CellTimeoutError", "evalue": "",
                                              "traceback": ["CellTimeoutError: No reply from kernel before timeout"]},
                            shutdown_kernel="immediate", resources={"metadata": {"path": str(folder)}},
                            on_cell_execute=lambda cell, cell_index: running.append(cell_index))
    try:
        client.execute(env=dict(env or os.environ, NBGRADER_EXECUTION="autograde"))  # for the kernel it starts
    except (CellTimeoutError, DeadKernelError, RuntimeError):
        return running[-1] if running else None
    return None


def _defined_names(source: str) -> list[str]:
    """The functions and classes an answer cell defines at its top level (those later cells call)."""
    try:
        tree = parse_source(source)
    except SyntaxError:
        return []
    return [node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef,
                                                                 ast.AsyncFunctionDef))]


def stop_cell(notebook, index: int, timeout: float, what: str) -> str | None:
    """Replace the answer responsible for cell ``index`` hanging or killing the kernel (``what`` it did: "ran past
    40 s", "stopped the kernel") by one that raises ``TimeoutError``: the cell itself when it is an answer, else the
    answer before it. Say what was done, or None when no answer is to blame."""
    answers = [i for i in range(index, -1, -1) if notebook.cells[i].get("metadata", {}).get("nbgrader",
                                                                                            {}).get("solution")]
    if not answers or notebook.cells[answers[0]].cell_type != "code":
        return None
    cell = notebook.cells[answers[0]]
    names = _defined_names(cell.source) or ["_stopped_answer"]
    message = f"while being graded, this answer {what}, so it was stopped"
    cell.source = "\n\n".join(f"def {name}(*args, **kwargs):\n    raise TimeoutError({message!r})" for name in names)
    hung = "this cell" if answers[0] == index else f"cell {index + 1}, which calls it,"
    return (f"answer cell '{grade_id(cell)}' was stopped: {hung} {what}; it was replaced by one that raises "
            "TimeoutError, so only its exercise scores 0")
