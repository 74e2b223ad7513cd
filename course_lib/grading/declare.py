"""An exercise declared once, checked by one engine.

A :class:`Declaration` says what an exercise is (its notebook, number, title and points, the name its answer has),
what it is graded against (the ``reference``, the ``cases`` drawn from a seed, how an ``output`` is compared), what
usually goes wrong (its ``slips``: each a wrong variant of the reference with the advice it earns) and which inputs the
answer must refuse. :func:`declare` makes of it the check the test cells call, ``check(answer, *, seed=0)``, and does
the rest once for every exercise: the answer must be the student's own (``require_defined_in_notebook``), every call
of it runs quietly (``call_learner``), the answer, the reference and each slip get copies of the case's inputs, the
answer's output is compared with the reference's by kind, shape and values, a slip is named only when the answer's
outputs are that slip's (the variant is recomputed on the same inputs and compared alike, in the failing case and in
every other), the success line is written, and
``feedback.exercise_check`` shows the result (or raises it where a grade is taken) and runs the course's pieces for the
earlier exercises it ``builds_on``. An answer that is a class runs through ``run`` (build it, then apply it); an
exercise with several answers (``"dice_score, dice_loss"``) says in each case and slip which one it concerns.

A check that is a property rather than a comparison (a shuffle, a random shift, a schedule of steps) keeps a ``hook``:
a function of the answer(s) and the seed that raises ``AssertionError`` with its diagnosis, as a hand-written checker
does (class grading reads its cause from the raise statement, ``diagnosis``). The engine's own failures are
:class:`~course_lib.grading.diagnosis.Finding` objects whose cause is the declaration's fixed text, the same for every
student with that slip. Nothing here imports torch: notebook 1's checks stay light.

The shape of a declaration borrows from otter-grader's test files (cases with points and a success message) and
PrairieLearn's graders (comparators that say what differs: type, shape, then values).
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from numbers import Integral
from typing import Any

import numpy as np

from course_lib.grading.core import call_learner, close, describe, quiet, refusal, require_defined_in_notebook, \
    worst_difference
from course_lib.grading.diagnosis import Finding, Kind
from course_lib.grading.feedback import exercise_check

__all__ = ["Case", "Output", "Slip", "Declaration", "declare", "arrays", "data_dicts", "tensors", "INT", "EXACT"]

Hint = str | Callable[[Any, Any], str]  # fixed advice, or advice read from (the answer's output, the reference's)


@dataclass(frozen=True)
class Case:
    """One call of the answer: how a message names it, and what it is given."""

    call: str
    args: tuple = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    hints: Mapping[str, Hint] = field(default_factory=dict)  # advice for this case alone, before the declaration's
    answer: int = 0  # which of the answers it calls, where the exercise has several


@dataclass(frozen=True)
class Output:
    """How an answer's output is compared with the reference's: ``read`` turns it into the form compared (raising
    ``TypeError`` or ``ValueError`` when it is not of ``kind``), then its ``shape`` and its values (``same``)."""

    kind: str
    read: Callable[[Any], Any]
    same: Callable[[Any, Any], bool]
    shape: Callable[[Any], Any] = lambda value: None
    differs: Callable[[Any, Any], str] = lambda got, want: f"returned {got!r}, expected {want!r}"


def _tensor(value: Any) -> Any:
    if type(value).__module__.split(".")[0] != "torch" or not hasattr(value, "detach"):
        raise TypeError(type(value).__name__)
    return value.detach().float()


def _agree(got: Any, want: Any, rtol: float, atol: float) -> bool:
    """Tensors of one shape that agree to tolerance, NaN where the other is NaN (a slip may give NaN too)."""
    nan = got.isnan()
    return bool((nan == want.isnan()).all()) and close(got.masked_fill(nan, 0), want.masked_fill(nan, 0), rtol, atol)


def tensors(rtol: float = 1e-4, atol: float = 1e-5) -> Output:
    """Tensors of one shape that agree to tolerance; a difference names its worst element."""
    return Output("a torch.Tensor", _tensor, lambda got, want: _agree(got, want, rtol, atol),
                  lambda value: tuple(value.shape), lambda got, want: f"differs: {worst_difference(got, want)}")


def _array(value: Any) -> np.ndarray:
    if not isinstance(value, np.ndarray):
        raise TypeError(type(value).__name__)
    return value


def _array_difference(got: np.ndarray, want: np.ndarray) -> str:
    got64, want64 = got.astype(np.float64), want.astype(np.float64)
    if got.dtype != want.dtype and np.allclose(got64, want64, equal_nan=True):
        return f"has dtype {got.dtype}, expected {want.dtype}"  # the values are right, to the other dtype's rounding
    gap = np.nan_to_num(np.abs(got64 - want64), nan=np.inf)
    where = tuple(int(index) for index in np.unravel_index(np.argmax(gap), gap.shape))
    return f"gives {float(got[where]):g} at index {where}, expected {float(want[where]):g}"


def arrays(rtol: float = 0.0, atol: float = 0.0) -> Output:
    """NumPy arrays of one shape and dtype whose values agree to tolerance (exactly by default); a difference names
    the worst element, or the dtype where only that differs."""
    return Output("a numpy array", _array, lambda got, want: got.dtype == want.dtype and np.allclose(
        got.astype(np.float64), want.astype(np.float64), rtol, atol, equal_nan=True), lambda value: value.shape,
        _array_difference)


def _unchanged(got: Any, want: Any) -> bool:
    """Whether a value a transform leaves alone came back as it was: arrays by dtype, shape and values, lists and
    tuples item by item (a list stays a list), anything else by ==."""
    if isinstance(got, np.ndarray) or isinstance(want, np.ndarray):
        return isinstance(got, np.ndarray) and isinstance(want, np.ndarray) and got.dtype == want.dtype \
            and got.shape == want.shape and np.array_equal(got, want)
    if isinstance(want, (list, tuple)):
        return type(got) is type(want) and len(got) == len(want) and all(map(_unchanged, got, want))
    return bool(got == want)


def data_dicts(keys: Sequence[str] = ("images",), rtol: float = 0.0, atol: float = 1e-6) -> Output:
    """A transform's data dictionary: each of ``keys`` holds one array per case (a list, or a stacked array),
    compared case by case as :func:`arrays` compares; every other key must come back as the reference's."""
    each = arrays(rtol, atol)

    def read(data: Any) -> dict:
        if not isinstance(data, dict) or not all(isinstance(data.get(key), (list, tuple, np.ndarray)) for key in keys):
            raise TypeError(type(data).__name__)
        return {**data, **{key: [np.asarray(item) for item in data[key]] for key in keys}}

    def same(got: dict, want: dict) -> bool:
        return set(got) == set(want) and all(
            all(map(each.same, got[key], want[key])) if key in keys else _unchanged(got[key], want[key]) for key in want)

    def differs(got: dict, want: dict) -> str:
        if set(got) != set(want):
            return f"gives the keys {sorted(got)}, expected {sorted(want)}"
        for key in want:
            if key not in keys and not _unchanged(got[key], want[key]):
                return f"changed data[{key!r}], which it should leave as it was"
            for index, (one, other) in enumerate(zip(got[key], want[key]) if key in keys else ()):
                if not each.same(one, other):
                    return f"gives in data[{key!r}][{index}] an array that {_array_difference(one, other)}"
        return "differs"

    return Output("the data dictionary", read, same,
                  lambda data: tuple((key, tuple(np.shape(item) for item in data[key])) for key in keys), differs)


def _integer(value: Any) -> int:
    if not isinstance(value, Integral) or isinstance(value, bool):
        raise TypeError(type(value).__name__)
    return int(value)


INT = Output("an int", _integer, lambda got, want: got == want, differs=lambda got, want: f"returned {got:,}, "
                                                                                         f"expected {want:,}")
EXACT = Output("the reference's kind of value", lambda value: value, lambda got, want: got == want)


@dataclass(frozen=True)
class Slip:
    """A usual mistake: ``variant`` computes what it gives from a case's inputs (None where it does not apply: there it
    gives the reference's output), and ``advice`` is what the student reads, and what the class report counts, when the
    answer gives the same."""

    advice: str
    variant: Callable[..., Any]
    answer: int = 0  # which of the answers it is a slip of, where the exercise has several


@dataclass(frozen=True)
class Declaration:
    """One exercise, declared once (see the module docstring)."""

    notebook: str
    number: int
    title: str
    points: float
    name: str  # the answer's name in the notebook ("dice"; several: "dice_score, dice_loss")
    reference: Callable[..., Any] | tuple = None  # the course's version(s), called with a case's inputs
    run: Callable[..., Any] | None = None  # how a case runs the answer, run(answer, *inputs); None: answer(*inputs)
    cases: Callable[..., Sequence[Case]] = lambda seed, **options: ()  # the cases drawn from a seed (and options)
    output: Output = EXACT
    slips: Sequence[Slip] = ()
    hints: Mapping[str, Hint] = field(default_factory=dict)  # advice where no slip matches: "kind", "shape", "values"
    refuse: Callable[[int], Sequence[Case]] = lambda seed: ()  # inputs the answer must refuse (through run, as cases)
    refuse_with: tuple[type[BaseException], ...] = (ValueError,)
    refuse_advice: str | Callable[[str], str] = "raise ValueError."  # or advice read from what the answer did
    hook: Callable[..., str | None] | None = None  # a property check of the answer(s) and the seed (and options)
    success: str = "matches the reference in {n} cases (seed {seed})."
    answers: Mapping[str, Any] = field(default_factory=dict)  # what later exercises may call, with the course's own
    builds_on: Sequence[Callable[..., None]] = ()


def _hint(hint: Hint | None, got: Any, want: Any) -> str:
    return (hint(got, want) if callable(hint) else hint) or ""


def _runnable(declaration: Declaration, answer: Any) -> Callable[..., Any]:
    """The answer as a case calls it: through ``run`` where it is a class to build first."""
    return answer if declaration.run is None else functools.partial(declaration.run, answer)


def _inputs(case: Case) -> tuple[tuple, dict[str, Any]]:
    """Copies of a case's inputs: the answer, the reference and each slip may change theirs in place (a transform
    does) without changing what the next one is given."""
    return copy.deepcopy((case.args, dict(case.kwargs)))


def _output_of(declaration: Declaration, answer: Any, case: Case) -> Any:
    args, kwargs = _inputs(case)
    return call_learner(_runnable(declaration, answer), *args, exercise=declaration.name.split(", ")[case.answer],
                        call=case.call, **kwargs)


def _same(output: Output, got: Any, want: Any) -> bool:
    """Whether two outputs (already read) agree in shape and values."""
    return output.shape(got) == output.shape(want) and output.same(got, want)


_UNREAD = object()  # an output not of the kind the exercise asks for (or a slip that cannot run on a case)


def _variant(slip: Slip, case: Case) -> Any:
    try:
        args, kwargs = _inputs(case)
        with quiet():
            return slip.variant(*args, **kwargs)
    except Exception:  # noqa: BLE001 - a slip that cannot be made of this case explains nothing here
        return _UNREAD


def _read(output: Output, value: Any) -> Any:
    try:
        return output.read(value)
    except (TypeError, ValueError, AttributeError):
        return _UNREAD


def _slip_advice(declaration: Declaration, answer: Any, got: Any, cases: Sequence[Case], index: int) -> str:
    """The advice of the first slip that the answer's outputs are: its output ``got`` for ``cases[index]``, and its
    output in every other case where it gives one of the right kind (where the slip does not apply, its variant is
    None and it gives the reference's output). In the earlier cases the answer gave the reference's output."""
    output, outputs = declaration.output, {index: got}

    def answer_at(at: int) -> Any:
        if at not in outputs:
            try:
                outputs[at] = _reference(declaration, cases[at]) if at < index else \
                    _read(output, _output_of(declaration, answer, cases[at]))
            except AssertionError:  # it crashed there: no evidence either way
                outputs[at] = _UNREAD
        return outputs[at]

    def gives(slip: Slip, at: int) -> bool:
        if answer_at(at) is _UNREAD:
            return at != index
        wanted = _variant(slip, cases[at])
        return wanted is not _UNREAD and _same(output, answer_at(at), _reference(declaration, cases[at])
                                               if wanted is None else wanted)

    order = [index, *(at for at in range(len(cases)) if at != index and cases[at].answer == cases[index].answer)]
    return next((slip.advice for slip in declaration.slips if slip.answer == cases[index].answer
                 and _variant(slip, cases[index]) is not None and all(gives(slip, at) for at in order)), "")


def _reference(declaration: Declaration, case: Case) -> Any:
    args, kwargs = _inputs(case)
    with quiet():
        reference = declaration.reference
        return (reference[case.answer] if isinstance(reference, tuple) else reference)(*args, **kwargs)


def _elided(text: str) -> str:
    """``text`` with its values left out, the words kept: what the class report counts as one cause, as for a
    hand-written checker's message (``diagnosis``)."""
    text = re.sub(r"\([^()a-zA-Z]*\)|\[[^\[\]a-zA-Z]*\]|-?\d[\d.,e+-]*\d|-?\d", "…", text)
    text = re.sub(r" \(.*\)$", " …", text) if text.startswith("raised") else text  # the error's own words
    return re.sub(r"…(?:[\s,]*…)+", "…", text)


def _compare(declaration: Declaration, answer: Any, cases: Sequence[Case], index: int) -> None:
    """Fail, naming what differs and why, where the answer's output for ``cases[index]`` is not the reference's."""
    output, case = declaration.output, cases[index]
    raw = _output_of(declaration, answer, case)
    want = _reference(declaration, case)
    got = _read(output, raw)
    if got is _UNREAD:
        found, what, hint = f"returned {describe(raw)}; expected {output.kind}", f"returned …; expected {output.kind}", \
            "kind"
    elif output.shape(got) != output.shape(want):
        found, what, hint = f"has shape {output.shape(got)}, expected {output.shape(want)}", \
            "has shape …, expected …", "shape"
    elif not output.same(got, want):
        found = output.differs(got, want)
        what, hint = _elided(found), "values"
    else:
        return
    advice = (got is not _UNREAD and _slip_advice(declaration, answer, got, cases, index)) \
        or _hint(case.hints.get(hint) or declaration.hints.get(hint), raw if got is _UNREAD else got, want)
    advice = f" {advice}" if advice else ""
    raise Finding(f"{case.call} {found}.{advice}", Kind.WRONG, f"{what}.{advice}")


def _refuses(declaration: Declaration, answer: Any, cases: Iterable[Case]) -> int:
    """Fail where the answer accepts an input it must refuse; how many it refused."""
    count = 0
    for case in cases:
        instead = refusal(_runnable(declaration, answer), *_inputs(case)[0], exercise=declaration.name,
                          call=case.call, expected=declaration.refuse_with)
        if isinstance(instead, str):
            advice = declaration.refuse_advice
            advice = advice(instead) if callable(advice) else advice
            raise Finding(f"{case.call} {instead}; {advice}", Kind.WRONG, f"{_elided(instead)}; {advice}")
        count += 1
    return count


def declare(declaration: Declaration) -> Callable[..., None]:
    """The check the test cells call, ``check(answer, ..., *, seed=0, **options)``, registered with its exercise."""

    @exercise_check(declaration.notebook, declaration.number, declaration.title, declaration.points,
                    answers=declaration.answers, builds_on=declaration.builds_on)
    def check(*answers: Any, seed: int = 0, **options: Any) -> str:
        for answer, name in zip(answers, declaration.name.split(", ")):
            require_defined_in_notebook(answer, exercise=name)
        cases = list(declaration.cases(seed, **options))
        for index in range(len(cases)):
            _compare(declaration, answers[cases[index].answer], cases, index)
        refused = _refuses(declaration, answers[0], declaration.refuse(seed))
        line = declaration.hook(*answers, seed=seed, **options) if declaration.hook else None
        return line or declaration.success.format(n=len(cases), refused=refused, seed=seed)

    return check
