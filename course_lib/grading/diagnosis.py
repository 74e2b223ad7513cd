"""Why a check failed, as data: the contract between the checks (which write it) and class grading (which reads it).

A failed check's message is written for one student: it names the failing case and its numbers first, then what is
wrong and the fix. An instructor reading a whole class needs the reverse: the cause, whole, counted over students.
So every failure also becomes a :class:`Diagnosis` with separate fields: the exercise, the ``kind`` of failure (not
started, wrong, crashed, the library's own code, a check that could not run), the ``cause`` in words, the same for
every student with that slip, and the ``detail``, the full message the student saw.

Where the cause comes from:

* the course's helpers in ``core`` raise :class:`Finding` (an ``AssertionError``) with its kind and cause, and so
  does the engine of declared exercises (``declare``), whose cause is the declaration's fixed text (what differs, and
  the advice of the slip or hint that explains it);
* a hook's (or a hand-written checker's) own ``raise AssertionError(f"...")`` is read at its source: the message is
  matched against the f-string of the raise statement that produced it and the text around the placeholders is
  kept. A placeholder keeps its text when it carries a cause (its name holds ``slip``, ``advice``, ``hint``,
  ``diagnosis``, ``guess`` or ``instead``: ``CAUSE_WORDS``) or when that text is a few plain words ("the state's
  hidden"); one that holds the failing case or its numbers becomes "…". The leading "…" (the failing call) is
  dropped, so the cause comes first.

Where a grade is taken, ``feedback`` writes the diagnosis into the test cell's output as a display whose MIME type is
``MIME_TYPE`` and whose payload is :meth:`Diagnosis.record` (versioned by ``VERSION``); ``course_lib.instructor``
reads it back from the graded notebook with :meth:`Diagnosis.from_record`.
"""

from __future__ import annotations

import ast
import enum
import functools
import linecache
import re
from dataclasses import dataclass, replace
from types import TracebackType
from typing import Any

from course_lib.grading.python_source import parse_source

__all__ = ["Kind", "Failure", "Diagnosis", "Finding", "diagnose", "MIME_TYPE", "VERSION", "CAUSE_WORDS"]

MIME_TYPE = "application/vnd.cfcm-course.diagnosis+json"
VERSION = 1
# A placeholder of a checker's f-string keeps its text in the cause when its name holds one of these words.
CAUSE_WORDS = ("slip", "advice", "hint", "diagnosis", "guess", "instead")
ELIDED = "…"
CASE_WORDS = 40  # characters before the first ": " that name a failing case ("CropActualImage, …"), not a cause
PLAIN_WORDS = 40  # characters: a placeholder's text this short, without digits or brackets, reads as words


class Kind(enum.Enum):
    """What sort of failure a diagnosis is: an instructor counts each apart."""

    NOT_STARTED = "not started"  # the answer still raises NotImplementedError
    WRONG = "wrong"  # the check found a mistake in what the answer computes
    CRASHED = "crashed"  # the answer raised an exception (or its own assertion failed)
    LIBRARY_CODE = "library code"  # the answer is the course library's own code
    CHECK_ERROR = "check could not run"  # the check was handed something it cannot use


@dataclass(frozen=True)
class Failure:
    """What went wrong, as every reader of a failure needs it: the kind, the cause (the same for every student with
    that slip) and the full message the student saw. Class grading builds one for a test cell that raised before
    its check could write a :class:`Diagnosis`."""

    kind: Kind
    cause: str
    detail: str

    @property
    def key(self) -> tuple[str, str]:
        """What makes two failures "the same": their kind and their cause with any number in it masked."""
        return self.kind.value, re.sub(r"\d+(\.\d+)?(e[+-]?\d+)?", "#", self.cause)


@dataclass(frozen=True)
class Diagnosis(Failure):
    """A failed check's :class:`Failure` and the exercise it belongs to: what a check writes into the test cell."""

    notebook: str
    exercise: int
    title: str

    def record(self) -> dict[str, Any]:
        """The JSON payload written into the graded notebook."""
        return {"version": VERSION, "notebook": self.notebook, "exercise": self.exercise, "title": self.title,
                "kind": self.kind.value, "cause": self.cause, "detail": self.detail}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Diagnosis:
        """The diagnosis a record holds; ``ValueError`` for a record of another version or shape."""
        if record.get("version") != VERSION:
            raise ValueError(f"a diagnosis record of version {record.get('version')!r}; this course reads version "
                             f"{VERSION} (update the course library)")
        try:
            return cls(Kind(record["kind"]), str(record["cause"]), str(record["detail"]), str(record["notebook"]),
                       int(record["exercise"]), str(record["title"]))
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"a damaged diagnosis record ({type(error).__name__}: {error})") from None

    def with_detail(self, detail: str) -> Diagnosis:
        return replace(self, detail=detail)


class Finding(AssertionError):
    """A failure the course's helpers recognise: its kind and cause travel with the message the student reads."""

    def __init__(self, message: str, kind: Kind, cause: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.cause = cause


def diagnose(error: AssertionError, notebook: str, exercise: int, title: str) -> Diagnosis:
    """The diagnosis of a check that raised ``error``: a :class:`Finding`'s own fields, else the cause read from the
    raise statement of the checker that wrote the message (see the module docstring)."""
    message = str(error)
    if isinstance(error, Finding):
        return Diagnosis(error.kind, error.cause, message, notebook, exercise, title)
    return Diagnosis(Kind.WRONG, _cause_at_raise(error, message), message, notebook, exercise, title)


# ----------------------------------------------------------------------------------------------
# reading a cause from the raise statement that wrote the message
# ----------------------------------------------------------------------------------------------
def _cause_at_raise(error: BaseException, message: str) -> str:
    """The message's cause: its raise site's f-string matched against it; the whole message when that fails."""
    raised = _raising_frame(error)
    node = _message_node(raised.tb_frame.f_code.co_filename, raised.tb_lineno) if raised else None
    if raised is not None and node is not None:
        pattern, holes = _template(node, raised.tb_frame.f_locals)
        match = re.fullmatch(pattern, message, re.S)
        summary = _summary(match, holes) if match else ""
        if summary.strip(f"{ELIDED} .,;:"):  # a message made of values alone has no cause to read
            return summary
    return " ".join(message.split())


def _raising_frame(error: BaseException) -> TracebackType | None:
    """The traceback entry of the frame that raised ``error`` (its line: the raise statement)."""
    tb = error.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb


@functools.lru_cache(maxsize=32)
def _tree(filename: str) -> ast.Module | None:
    source = "".join(linecache.getlines(filename))
    try:
        return parse_source(source) if source else None
    except SyntaxError:
        return None


def _message_node(filename: str, line: int) -> ast.expr | None:
    """The message of the innermost ``raise AssertionError(message)`` or ``assert ..., message`` spanning ``line``."""
    tree = _tree(filename)
    found: list[tuple[int, ast.expr]] = []
    for node in ast.walk(tree) if tree is not None else ():
        if isinstance(node, (ast.Raise, ast.Assert)) and node.lineno <= line <= (node.end_lineno or node.lineno):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and node.exc.args:
                found.append(((node.end_lineno or line) - node.lineno, node.exc.args[0]))
            elif isinstance(node, ast.Assert) and node.msg is not None:
                found.append(((node.end_lineno or line) - node.lineno, node.msg))
    return min(found, key=lambda item: item[0])[1] if found else None


def _named_cause(expression: ast.expr) -> bool:
    """Whether a placeholder is named as a cause: a name, or a called function's name, holding one of CAUSE_WORDS."""
    target = expression.func if isinstance(expression, ast.Call) else expression
    name = target.id if isinstance(target, ast.Name) else target.attr if isinstance(target, ast.Attribute) else ""
    return any(word in name.lower() for word in CAUSE_WORDS)


def _keeps(expression: ast.expr, text: str) -> bool:
    """Whether a placeholder's text belongs to the cause: it is named as one, or it is a few plain words (no digit,
    bracket or quote: not a case or a value)."""
    plain = len(text) <= PLAIN_WORDS and not re.search(r"[\d()\[\]{}'\"`=<>]", text.replace("'s ", " "))
    return _named_cause(expression) or (plain and bool(text.strip()))


def _template(node: ast.expr, names: dict[str, Any]) -> tuple[str, list[ast.expr]]:
    """(a regular expression the message matches, the placeholders in the order of its groups).

    A placeholder that is a plain name of a string in ``names`` (the raising frame's locals) matches that string
    exactly; any other matches as little as it can (at least one character, unless it is named as a cause, which
    may be empty), but never ends inside a number ("3" of "3.47").
    """
    holes: list[ast.expr] = []

    def hole(part: ast.expr) -> str:
        value = part.value if isinstance(part, ast.FormattedValue) else part
        holes.append(value)
        plain = isinstance(part, ast.FormattedValue) and part.conversion == -1 and part.format_spec is None
        known = names.get(value.id) if plain and isinstance(value, ast.Name) else None
        if isinstance(known, str):
            return f"({re.escape(known)})"
        return rf"(.{'*' if _named_cause(value) else '+'}?)(?!(?<=[\d.,])\d)(?!(?<=\d)[.,]\d)"

    def walk(part: ast.expr) -> str:
        if isinstance(part, ast.Constant) and isinstance(part.value, str):
            return re.escape(part.value)
        if isinstance(part, ast.JoinedStr):
            return "".join(walk(value) for value in part.values)
        if isinstance(part, ast.BinOp) and isinstance(part.op, ast.Add):
            return walk(part.left) + walk(part.right)
        if isinstance(part, ast.IfExp):
            return f"(?:{walk(part.body)}|{walk(part.orelse)})"
        return hole(part)

    return walk(node), holes


def _summary(match: re.Match[str], holes: list[ast.expr]) -> str:
    """The matched message with its case and numbers elided and its cause kept, the leading case dropped."""
    spans = sorted(((match.span(group), hole) for group, hole in enumerate(holes, start=1)
                    if match.span(group)[0] >= 0), key=lambda item: item[0])
    pieces, position = [], 0
    for (start, end), hole in spans:
        text = match.string[start:end]
        pieces += [match.string[position:start], text if _keeps(hole, text) else ELIDED]
        position = end
    summary = " ".join("".join([*pieces, match.string[position:]]).split())
    summary = re.sub(rf"{ELIDED}(\s*{ELIDED}|\.\.\.)*", ELIDED, summary)  # runs of elided values read as one
    summary = re.sub(rf"{ELIDED}\s+(?=[.,;:)])", ELIDED, summary)
    case, colon, rest = summary.partition(": ")  # "CropActualImage, …: the label ..." names the case first
    if colon and case.rstrip().endswith(ELIDED) and len(case) <= CASE_WORDS:
        summary = rest
    return re.sub(rf"^{ELIDED}[\s:;,]*", "", summary).strip() or summary
