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
:func:`show_progress` can list every exercise of a notebook as passed, not yet, or not checked.
"""

from __future__ import annotations

import functools
import html
import importlib
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from course_lib.grading.diagnosis import MIME_TYPE, Diagnosis, Kind, diagnose
from course_lib.grading.isolation import course_pieces
from course_lib.settings import strict_checks

__all__ = ["Exercise", "CheckResult", "CheckFailed", "Progress", "exercise_check", "progress", "show_progress",
           "yours_or_reference", "CHECKER_MODULES"]

# Which modules hold each notebook's checkers (imported by ``progress`` so that every exercise is listed, run or not).
CHECKER_MODULES = {
    "01_data_transforms": ("course_lib.grading.transforms", "course_lib.grading.batches"),
    "02_skip_connections": ("course_lib.grading.fusion", "course_lib.grading.networks"),
    "03_convlstm": ("course_lib.grading.convlstm",),
    "04_cfcm_training": ("course_lib.grading.cfcm", "course_lib.grading.training"),
}
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


def _outcome(exercise: Exercise, check: Callable[..., str], args: tuple, kwargs: dict) -> CheckResult:
    try:
        message = check(*args, **kwargs)
    except AssertionError as error:
        return CheckResult(exercise, False, str(error), diagnose(error, exercise.notebook, exercise.number,
                                                                 exercise.title))
    except Exception as error:  # noqa: BLE001 - e.g. the check was handed something it cannot use
        message = (f"the check could not run: {type(error).__name__}: {error}. Pass it the function or class your "
                   "answer cell defines.")
        return CheckResult(exercise, False, message, Diagnosis(
            exercise.notebook, exercise.number, exercise.title, Kind.CHECK_ERROR,
            f"the check was handed something it cannot use ({type(error).__name__})", message))
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
    """Every exercise of one notebook with the last result its check gave in this session (None: not checked)."""

    notebook: str
    rows: tuple[tuple[Exercise, CheckResult | None], ...]

    @property
    def points_passed(self) -> float:
        return sum(exercise.points for exercise, result in self.rows if result is not None and result.passed)

    @property
    def points_total(self) -> float:
        return sum(exercise.points for exercise, _ in self.rows)

    @staticmethod
    def _status(result: CheckResult | None) -> str:
        if result is None:
            return "not checked yet: run its test cell"
        return "passed" if result.passed else f"not yet: {result.message.splitlines()[0] if result.message else ''}"

    def __str__(self) -> str:
        lines = [f"{self.notebook}: {self.points_passed:g} of {self.points_total:g} points' checks passed"]
        lines += [f"  {exercise.heading}: {self._status(result)}" for exercise, result in self.rows]
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        rows = []
        for exercise, result in self.rows:
            colour = "#2e7d32" if result is not None and result.passed else "#e65100" if result else "#616161"
            rows.append(f"<tr><td style='text-align: left'>{html.escape(exercise.heading)}</td>"
                        f"<td style='text-align: left; color: {colour}'>{html.escape(self._status(result))}</td></tr>")
        return (f"<div class='course-progress'><b>Where you stand in {html.escape(self.notebook)}: "
                f"{self.points_passed:g} of {self.points_total:g} points' checks passed</b>"
                f"<table><tr><th style='text-align: left'>exercise</th><th style='text-align: left'>status</th></tr>"
                f"{''.join(rows)}</table></div>")


def progress(notebook: str) -> Progress:
    """Where each exercise of ``notebook`` (e.g. ``"01_data_transforms"``) stands in this session."""
    for module in CHECKER_MODULES.get(notebook, ()):
        importlib.import_module(module)
    exercises = _EXERCISES.get(notebook)
    if not exercises:
        raise ValueError(f"no exercises are registered for {notebook!r}; known notebooks: {sorted(_EXERCISES)}")
    return Progress(notebook, tuple((exercises[n], _RESULTS.get(exercises[n])) for n in sorted(exercises)))


def yours_or_reference(yours: Any, reference: Any, check: Callable[..., None]) -> Any:
    """``yours`` when its exercise's check passed in this session, else ``reference``; a line says which one runs.

    The cells after an exercise use the student's own code only once it is known to be right, so a half-finished
    answer never breaks (or silently skews) what follows, and a finished one is seen at work.
    """
    exercise: Exercise = check.exercise  # type: ignore[attr-defined]
    result = _RESULTS.get(exercise)
    name = getattr(yours, "__name__", None) or getattr(reference, "__name__", "the answer")
    if result is not None and result.passed:
        print(f"Using your {name} (exercise {exercise.number} passed its check).")
        return yours
    why = "has not been checked yet" if result is None else "has not passed its check yet"
    print(f"Using the course's {name}: yours {why} (exercise {exercise.number}).")
    return reference


def show_progress(notebook: str) -> None:
    """Display :func:`progress` for ``notebook``: the table that closes each notebook."""
    _display(progress(notebook))
