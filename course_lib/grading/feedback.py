"""What an exercise check shows: "passed" or "not yet" with the diagnosis, in place; and where each exercise stands.

A check that raises stops JupyterLab's Run All at the first unsolved exercise. So in a student's own session a
failed check is *shown*, not raised: a panel names the exercise, says what is wrong and how to fix it, and the
notebook runs on. Where a grade is taken (nbgrader's autograde and validate set ``NBGRADER_EXECUTION``) or a
failure must stop the run (the test suite sets ``COURSE_STRICT_CHECKS``), ``settings.strict_checks()`` is true and
the same failure raises :class:`CheckFailed`, whose traceback is the diagnosis alone, so an unsolved exercise
still scores zero; just before, the failure's :class:`~course_lib.grading.diagnosis.Diagnosis` (exercise, kind, cause,
detail) is written into the cell's output as data, for class grading to count. Otter-grader's ``grader.check`` (a
result object displayed where the check ran) is the model.

A checker is a function that raises ``AssertionError`` with the diagnosis or returns the line to show on
success; :func:`exercise_check` turns it into what the test cells call and registers its exercise, so that
:func:`show_progress` can list every exercise of a notebook as passed, not yet, or not checked, and so that the
cells after an exercise run the student's own code once its check has passed, the course's until then
(:func:`yours_or_reference` for one piece, :func:`assemble` for pieces that call one another). The notebook's
"Think" questions (``THINKS``) are answered in writing and graded by hand: the table lists them apart, as read by
the instructor, so that the points a check can give and the points only a person can give are never added up.
"""

from __future__ import annotations

import functools
import html
import importlib
import sys
import traceback
import types
from pathlib import Path
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from course_lib.grading.diagnosis import MIME_TYPE, Diagnosis, Kind, diagnose
from course_lib.grading.isolation import course_pieces
from course_lib.settings import strict_checks

__all__ = ["Exercise", "Think", "CheckResult", "CheckFailed", "Progress", "exercise_check", "progress",
           "show_progress", "yours_or_reference", "assemble", "passed", "checker_modules", "THINKS"]

PASSED_STYLE = "border-left: 6px solid #2e7d32; background: #edf7ee;"
NOT_YET_STYLE = "border-left: 6px solid #e65100; background: #fff4e5;"
PANEL_STYLE = "padding: 6px 12px; margin: 4px 0; font-family: var(--jp-ui-font-family, sans-serif); color: #1a1a1a;"
FIX_ADVICE = "Change your answer cell, run it, then run this cell again."


@dataclass(frozen=True)
class Exercise:
    """One graded exercise of a notebook: ``number`` as the notebook numbers it, its points as nbgrader gives them.

    ``answers`` are the notebook names it defines that later answers may call, each with the course's version;
    ``builds_on`` are the earlier exercises whose answers its own may call (see :meth:`pieces`).
    """

    notebook: str
    number: int
    title: str
    points: float
    answers: tuple[tuple[str, Any], ...] = field(default=(), compare=False, repr=False)
    builds_on: tuple[Exercise, ...] = field(default=(), compare=False, repr=False)

    def pieces(self) -> dict[str, tuple[Exercise, Any]]:
        """{name: (the earlier exercise, the course's version)} of every answer this one builds on, transitively."""
        found: dict[str, tuple[Exercise, Any]] = {}
        for earlier in self.builds_on:
            found |= earlier.pieces()
            found |= {name: (earlier, course) for name, course in earlier.answers}
        return found

    @property
    def heading(self) -> str:
        points = f"{self.points:g} point{'' if self.points == 1 else 's'}"
        return f"Exercise {self.number} · {self.title} ({points})"


@dataclass(frozen=True)
class Think:
    """One "Think" question of a notebook: a written answer that the instructor grades by hand, never a check."""

    number: int
    title: str
    points: float

    @property
    def heading(self) -> str:
        return f"Think {self.number} · {self.title} ({self.points:g} point{'' if self.points == 1 else 's'})"


READ_BY_HAND = "read by your instructor"
# Each notebook's Think questions as their headings number, name and score them (tests/test_grading_feedback.py
# checks this against the written-answer cells of solutions/).
THINKS: dict[str, tuple[Think, ...]] = {
    "01_data_transforms": (Think(1, "predict before you read on", 1), Think(2, "explain", 1)),
    "02_skip_connections": (Think(1, "explain", 1), Think(2, "predict before you train", 1)),
    "03_convlstm": (Think(1, "predict before you read on", 1), Think(2, "predict, then explain", 1)),
    "04_cfcm_training": (Think(1, "explain", 1), Think(2, "predict before you compare", 1)),
}


@dataclass(frozen=True, repr=False)
class CheckResult:
    """The outcome of one check: displayed as a coloured panel in a notebook, as two lines of text elsewhere."""

    exercise: Exercise
    passed: bool
    message: str
    diagnosis: Diagnosis | None = None  # why it failed, as data (None when it passed)

    @property
    def verdict(self) -> str:
        return "passed" if self.passed else "not yet"

    def __str__(self) -> str:
        mark = "OK " if self.passed else "NOT YET"
        advice = "" if self.passed else f"\n{FIX_ADVICE}"
        return f"{mark} {self.exercise.heading}: {self.verdict}\n{self.message}{advice}"

    __repr__ = __str__  # what text-only front ends (and nbgrader's plain-text feedback) show

    def _repr_html_(self) -> str:
        style = PASSED_STYLE if self.passed else NOT_YET_STYLE
        mark = "&#10004;" if self.passed else "&#9998;"
        advice = "" if self.passed else f"<div style='margin-top: 4px; font-style: italic'>{FIX_ADVICE}</div>"
        return (f"<div class='course-check course-check-{'passed' if self.passed else 'not-yet'}' "
                f"style='{style} {PANEL_STYLE}'><b>{mark} {html.escape(self.exercise.heading)}: {self.verdict}</b>"
                f"<div style='white-space: pre-wrap; margin-top: 2px'>{html.escape(self.message)}</div>{advice}</div>")


class CheckFailed(AssertionError):
    """A failed check where a grade is taken. Its traceback is the diagnosis alone, without course_lib's frames."""

    def __init__(self, result: CheckResult) -> None:
        super().__init__(result.message)
        self.result = result

    def _render_traceback_(self) -> list[str]:  # read by IPython instead of the frames
        heading = f"{self.result.exercise.heading}: not yet"
        return [f"\x1b[1;31mCheckFailed\x1b[0m: {heading}", *self.result.message.splitlines(), FIX_ADVICE]


_EXERCISES: dict[str, dict[int, Exercise]] = {}
_RESULTS: dict[Exercise, CheckResult] = {}


def _display(value: Any) -> None:
    """Show ``value`` with IPython's rich display inside a kernel, else print its text (scripts, tests)."""
    shell = None
    if "IPython" in sys.modules:
        from IPython import get_ipython

        shell = get_ipython()
    if shell is not None:
        from IPython.display import display

        display(value)
    else:
        print(value, file=sys.stdout)


def _where(error: BaseException) -> str:
    """' (course_lib/grading/<module>.py, line N)': the checker's own line that raised, where an instructor looks."""
    here = Path(__file__).resolve()
    frames = [frame for frame in traceback.extract_tb(error.__traceback__)
              if Path(frame.filename).resolve().is_relative_to(here.parent)]
    if not frames:
        return ""
    return f" ({Path(frames[-1].filename).resolve().relative_to(here.parents[2])}, line {frames[-1].lineno})"


def _outcome(exercise: Exercise, check: Callable[..., str], args: tuple, kwargs: dict) -> CheckResult:
    try:
        message = check(*args, **kwargs)
    except AssertionError as error:
        return CheckResult(exercise, False, str(error), diagnose(error, exercise.notebook, exercise.number,
                                                                 exercise.title))
    except Exception as error:  # noqa: BLE001 - e.g. the check was handed something it cannot use
        message = (f"the check could not run: {type(error).__name__}: {error}{_where(error)}. Pass it the function or "
                   "class your answer cell defines; if that is what it was given, the check itself is at fault: tell "
                   "your instructor.")
        return CheckResult(exercise, False, message, Diagnosis(
            Kind.CHECK_ERROR, f"the check was handed something it cannot use ({type(error).__name__})", message,
            exercise.notebook, exercise.number, exercise.title))
    return CheckResult(exercise, True, message or "correct.")


def _record(diagnosis: Diagnosis) -> None:
    """Write ``diagnosis`` into the running cell's output as data (inside a kernel only): nothing shows, class
    grading reads it (``course_lib.instructor``)."""
    if "IPython" not in sys.modules:
        return
    from IPython import get_ipython
    from IPython.display import display

    if get_ipython() is not None:
        display({MIME_TYPE: diagnosis.record(), "text/plain": ""}, raw=True)


def _whose(pieces: Mapping[str, tuple[Exercise, Any]], used: set[str]) -> str:
    """One line per earlier answer the check ran the course's version of, while the student's has not passed."""
    lines = []
    for name, (earlier, _) in pieces.items():
        result = _RESULTS.get(earlier)
        if name in used and not (result is not None and result.passed):
            state = "has not been checked yet" if result is None else "has not passed its check yet"
            lines.append(f"Your {name}() {state} (exercise {earlier.number}); this check used the course's {name}() "
                         "for it.")
    return "".join(f"\n{line}" for line in lines)


def exercise_check(notebook: str, number: int, title: str, points: float, *, answers: Mapping[str, Any] | None = None,
                   builds_on: Sequence[Callable[..., None]] = ()) -> Callable[[Callable[..., str]],
                                                                             Callable[..., None]]:
    """Make ``check`` (raises ``AssertionError`` with the diagnosis, returns the success line) a test-cell check.

    The returned function shows the result in place and records it for :func:`show_progress`; where
    ``strict_checks()`` holds, a failure raises :class:`CheckFailed` instead. ``answers`` ({notebook name: the
    course's version}) are what later exercises may call of this one's; ``builds_on`` lists the checks of the
    earlier exercises whose answers this one's may call. Each exercise is judged on its own: while the check runs,
    the answer it is given calls the course's versions of those (``isolation.course_pieces``), and a line says so
    where the student's own has not passed its check yet.
    """
    exercise = Exercise(notebook, number, title, float(points), tuple((answers or {}).items()),
                        tuple(check.exercise for check in builds_on))  # type: ignore[attr-defined]
    for earlier in exercise.builds_on:
        if earlier.notebook != notebook or earlier.number >= number or not earlier.answers:
            raise ValueError(f"{notebook}: exercise {number} cannot build on {earlier.notebook} exercise "
                             f"{earlier.number}: an earlier exercise of the same notebook that declares its answers")
    known = _EXERCISES.setdefault(notebook, {})
    if number in known and known[number] != exercise:
        raise ValueError(f"{notebook}: exercise {number} is registered twice ({known[number].title!r} and {title!r})")
    known[number] = exercise

    def decorate(check: Callable[..., str]) -> Callable[..., None]:
        @functools.wraps(check)
        def run(*args: Any, **kwargs: Any) -> None:
            pieces = exercise.pieces()
            with course_pieces([*args, *kwargs.values()], {name: course for name, (_, course) in pieces.items()}
                               ) as used:
                result = _outcome(exercise, check, args, kwargs)
            if whose := _whose(pieces, used):
                diagnosis = result.diagnosis.with_detail(result.message + whose) if result.diagnosis else None
                result = CheckResult(exercise, result.passed, result.message + whose, diagnosis)
            _RESULTS[exercise] = result
            if not result.passed and strict_checks():
                if result.diagnosis is not None:
                    _record(result.diagnosis)
                raise CheckFailed(result) from None
            _display(result)

        run.exercise = exercise  # type: ignore[attr-defined]
        return run

    return decorate


@dataclass(frozen=True, repr=False)
class Progress:
    """Every exercise of one notebook with the last result its check gave in this session (None: not checked), and
    its Think questions, which only the instructor grades."""

    notebook: str
    rows: tuple[tuple[Exercise, CheckResult | None], ...]
    thinks: tuple[Think, ...] = ()

    @property
    def points_passed(self) -> float:
        return sum(exercise.points for exercise, result in self.rows if result is not None and result.passed)

    @property
    def points_total(self) -> float:
        """The points the checks give (nbgrader's autograded points)."""
        return sum(exercise.points for exercise, _ in self.rows)

    @property
    def points_by_hand(self) -> float:
        """The points of the Think answers, graded by the instructor."""
        return sum(think.points for think in self.thinks)

    @property
    def summary(self) -> str:
        checked = f"{self.points_passed:g} of {self.points_total:g} points' checks passed"
        if not self.thinks:
            return checked
        return f"{checked}; {self.points_by_hand:g} more point{'' if self.points_by_hand == 1 else 's'} for the " \
               f"Think answers, {READ_BY_HAND}"

    @staticmethod
    def _status(result: CheckResult | None) -> str:
        if result is None:
            return "not checked yet: run its test cell"
        return "passed" if result.passed else f"not yet: {result.message.splitlines()[0] if result.message else ''}"

    def _lines(self) -> list[tuple[str, str, str]]:
        """(heading, status, colour) of every row: the exercises, then the Think questions."""
        lines = [(exercise.heading, self._status(result),
                  "#2e7d32" if result is not None and result.passed else "#e65100" if result else "#616161")
                 for exercise, result in self.rows]
        return lines + [(think.heading, READ_BY_HAND, "#616161") for think in self.thinks]

    def __str__(self) -> str:
        return "\n".join([f"{self.notebook}: {self.summary}"]
                         + [f"  {heading}: {status}" for heading, status, _ in self._lines()])

    __repr__ = __str__

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><td style='text-align: left'>{html.escape(heading)}</td>"
                       f"<td style='text-align: left; color: {colour}'>{html.escape(status)}</td></tr>"
                       for heading, status, colour in self._lines())
        return (f"<div class='course-progress'><b>Where you stand in {html.escape(self.notebook)}: "
                f"{html.escape(self.summary)}</b>"
                f"<table><tr><th style='text-align: left'>exercise or question</th>"
                f"<th style='text-align: left'>status</th></tr>{rows}</table></div>")


def checker_modules(notebook: str) -> tuple[str, ...]:
    """The modules of ``course_lib.grading`` that may hold checkers of ``notebook``: those that write its name as a
    string (``@exercise_check("01_data_transforms", ...)``, or ``NOTEBOOK = "01_data_transforms"``).

    No table to keep: a checker registers its exercise where it is declared, and a new checker module is found by
    the notebook's name in it. Read from the source, not imported, so that listing notebook 1's exercises does not
    import the torch that notebook 2's checkers need.
    """
    quoted = (f'"{notebook}"', f"'{notebook}'")
    package = Path(__file__).resolve().parent
    return tuple(f"{__package__}.{path.stem}" for path in sorted(package.glob("*.py"))
                 if path.stem not in ("__init__", Path(__file__).stem)
                 and any(name in path.read_text(encoding="utf-8") for name in quoted))


def progress(notebook: str) -> Progress:
    """Where each exercise of ``notebook`` (e.g. ``"01_data_transforms"``) stands in this session, and its Think
    questions. Every checker module of the notebook (:func:`checker_modules`) is imported first, so that an exercise
    whose check has not run yet is listed too."""
    for module in checker_modules(notebook):
        importlib.import_module(module)
    exercises = _EXERCISES.get(notebook)
    if not exercises:
        raise ValueError(f"no exercises are registered for {notebook!r}; known notebooks: {sorted(_EXERCISES)}")
    return Progress(notebook, tuple((exercises[n], _RESULTS.get(exercises[n])) for n in sorted(exercises)),
                    THINKS.get(notebook, ()))


def _result(check: Callable[..., None]) -> tuple[Exercise, CheckResult | None]:
    exercise: Exercise = check.exercise  # type: ignore[attr-defined]
    return exercise, _RESULTS.get(exercise)


def passed(check: Callable[..., None]) -> bool:
    """Whether the exercise of ``check`` (a function made by :func:`exercise_check`) passed in this session."""
    result = _result(check)[1]
    return result is not None and result.passed


def _why_not(result: CheckResult | None) -> str:
    return "has not been checked yet" if result is None else "has not passed its check yet"


def yours_or_reference(yours: Any, reference: Any, check: Callable[..., None]) -> Any:
    """``yours`` when its exercise's check passed in this session, else ``reference``; a line says which one runs.

    The cells after an exercise use the student's own code only once it is known to be right, so a half-finished
    answer never breaks (or silently skews) what follows, and a finished one is seen at work.
    """
    exercise, result = _result(check)
    name = getattr(yours, "__name__", None) or getattr(reference, "__name__", "the answer")
    if result is not None and result.passed:
        print(f"Using your {name} (exercise {exercise.number} passed its check).")
        return yours
    print(f"Using the course's {name}: yours {_why_not(result)} (exercise {exercise.number}).")
    return reference


def _listing(words: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def _exercises(numbers: list[int]) -> str:
    numbers = sorted(set(numbers))
    return f"exercise{'s' if len(numbers) > 1 else ''} {_listing([str(n) for n in numbers])}"


def _wired_together(functions: dict[str, Any]) -> dict[str, Any]:
    """Each function of ``functions`` copied so that it finds the others under their names instead of its own
    module's (or notebook's) globals of those names; classes and other callables are left as they are."""
    scopes: dict[int, dict[str, Any]] = {}
    wired = {}
    for name, function in functions.items():
        if isinstance(function, types.FunctionType):
            scope = scopes.setdefault(id(function.__globals__), dict(function.__globals__))
            copy = types.FunctionType(function.__code__, scope, function.__name__, function.__defaults__,
                                      function.__closure__)
            copy.__kwdefaults__, copy.__qualname__ = function.__kwdefaults__, function.__qualname__
            copy.__doc__ = function.__doc__
            function = copy
        wired[name] = function
    for scope in scopes.values():
        scope.update(wired)
    return wired


def assemble(*pieces: tuple[Any, Any, Callable[..., None]]) -> list[Any]:
    """Several pieces that call one another by name, each ``(yours, reference, check)``: yours where its check
    passed in this session, else the course's; one line says whose runs. Returned in the order given.

    A piece finds the chosen others under their names (``yours.__name__``), whoever wrote it: your
    ``convlstm_step`` calls the course's ``split_gates`` when yours has not passed, and the course's ``dice_loss``
    calls your ``dice`` when it has. So each unfinished piece is replaced alone, and the rest is still yours. (A
    piece wrapped by a decorator keeps the names it was written with.)
    """
    chosen: dict[str, Any] = {}
    mine: list[tuple[str, int]] = []
    theirs: dict[str, list[tuple[str, int]]] = {}
    for yours, reference, check in pieces:
        exercise, result = _result(check)
        name = yours.__name__
        if result is not None and result.passed:
            chosen[name] = yours
            mine.append((name, exercise.number))
        else:
            chosen[name] = reference
            theirs.setdefault(_why_not(result), []).append((name, exercise.number))
    parts = []
    if mine:
        numbers = [number for _, number in mine]
        parts.append(f"your {_listing([name for name, _ in mine])} ({_exercises(numbers)} passed "
                     f"{'its check' if len(set(numbers)) == 1 else 'their checks'})")
    for why, named in theirs.items():
        numbers = [number for _, number in named]
        plural = {"has not been checked yet": "have not been checked yet",
                  "has not passed its check yet": "have not passed their checks yet"}[why]
        parts.append(f"the course's {_listing([name for name, _ in named])} ({_exercises(numbers)} "
                     f"{why if len(set(numbers)) == 1 else plural})")
    print(f"Using {_listing(parts)}.")
    wired = _wired_together(chosen)
    return [wired[yours.__name__] for yours, _, _ in pieces]


def show_progress(notebook: str) -> None:
    """Display :func:`progress` for ``notebook``: the table that closes each notebook."""
    _display(progress(notebook))
