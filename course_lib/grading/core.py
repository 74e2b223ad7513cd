"""Shared helpers for the per-notebook checkers in ``course_lib.grading``.

nbgrader gives a test cell zero points when it raises *or* writes anything to stderr, and full points
otherwise. The helpers here make both outcomes deliberate:

* ``quiet()`` silences warnings and stderr (Python's ``sys.stderr`` and the process's file descriptor 2)
  while learner or library code runs inside a checker, so a correct answer is never zeroed by noise;
* ``call_learner`` runs the learner's code quietly and turns any exception into an ``AssertionError``
  whose message names the exercise, the call and the error, so the feedback is readable;
* ``compare_with_reference`` and ``assert_matches`` compare a learner's function with the reference on
  random inputs drawn from a fixed seed (a grade is reproducible) and say which input, which value,
  expected versus got, and a hint;
* ``require_defined_in_notebook`` refuses a graded answer that is the course library's own object.

Nothing here imports torch: tensors are recognised through ``sys.modules`` so that the notebook-1
checkers stay light.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile
import traceback
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "LIBRARY_PACKAGE",
    "quiet",
    "call_learner",
    "require_defined_in_notebook",
    "describe",
    "assert_matches",
    "compare_with_reference",
    "passed",
]

LIBRARY_PACKAGE = "course_lib"
_LIBRARY_DIR = Path(__file__).resolve().parent.parent


# ----------------------------------------------------------------------------------------------
# silence
# ----------------------------------------------------------------------------------------------
@contextlib.contextmanager
def _fd_silenced(fd: int) -> Iterator[None]:
    """Point file descriptor ``fd`` at a scratch file for the duration (C/C++ libraries write there directly)."""
    try:
        saved = os.dup(fd)
    except OSError:  # no such descriptor (e.g. some embedded interpreters): nothing to silence
        yield
        return
    with tempfile.TemporaryFile() as sink:
        try:
            os.dup2(sink.fileno(), fd)
            yield
        finally:
            os.dup2(saved, fd)
            os.close(saved)


@contextlib.contextmanager
def quiet() -> Iterator[io.StringIO]:
    """Run a block with warnings ignored and stderr swallowed; yields what was written to ``sys.stderr``.

    stdout is left alone: prints are harmless for nbgrader and learners may debug with them.
    """
    captured = io.StringIO()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with contextlib.redirect_stderr(captured), _fd_silenced(2):
            yield captured


# ----------------------------------------------------------------------------------------------
# calling learner code
# ----------------------------------------------------------------------------------------------
def _learner_line(error: BaseException) -> str:
    """'line N of <your cell>' for the deepest frame outside this library, or '' when there is none."""
    frames = [frame for frame in traceback.extract_tb(error.__traceback__)
              if not Path(frame.filename).resolve().is_relative_to(_LIBRARY_DIR)
              and "site-packages" not in frame.filename]
    if not frames:
        return ""
    frame = frames[-1]
    code = f": `{frame.line.strip()}`" if frame.line else ""
    return f" (in {frame.name}, line {frame.lineno}{code})"


def call_learner(function: Callable[..., Any], *args: Any, exercise: str, call: str | None = None,
                 **kwargs: Any) -> Any:
    """``function(*args, **kwargs)`` run quietly; any exception becomes an ``AssertionError`` naming ``exercise``.

    ``call`` describes the call in the message (e.g. ``"crop(image of shape (12, 9))"``).
    """
    what = call or f"{getattr(function, '__name__', 'your code')}(...)"
    try:
        with quiet():
            return function(*args, **kwargs)
    except NotImplementedError:
        raise AssertionError(f"{exercise}: {what} raised NotImplementedError. Replace "
                             "`raise NotImplementedError()` with your code, run that cell, then this one.") from None
    except AssertionError as error:
        raise AssertionError(f"{exercise}: {what} failed an assertion of your own{_learner_line(error)}: "
                             f"{error}") from None
    except Exception as error:  # noqa: BLE001 - every crash of learner code is reported as a failed check
        raise AssertionError(f"{exercise}: {what} raised {type(error).__name__}{_learner_line(error)}: "
                             f"{error}") from None


# ----------------------------------------------------------------------------------------------
# is the answer the learner's own?
# ----------------------------------------------------------------------------------------------
def _from_library(module: str | None) -> bool:
    return bool(module) and (module == LIBRARY_PACKAGE or module.startswith(LIBRARY_PACKAGE + "."))


def require_defined_in_notebook(obj: Any, *, exercise: str | None = None,
                                allowed_bases: Sequence[type] = ()) -> None:
    """Fail when a graded answer is course_lib's own function/class/instance rather than the learner's.

    It raises ``AssertionError`` when ``obj`` (or, for an instance, its class) was defined in a
    ``course_lib`` module, when its code lives in the course_lib folder, when it wraps such an object
    (``functools.wraps``/``partial``), or when a class inherits from a course_lib class other than
    ``allowed_bases`` (so ``class Crop(CropActualImage): pass`` is refused).

    What it does NOT guarantee: a function written in the notebook that merely *calls* the library
    (``def crop(d): return CropActualImage()(d)``), or source copied from course_lib into the notebook,
    passes this check. It stops the one-line shortcut ``from course_lib... import X as answer``, not a
    determined copier; reading the submission (or comparing it with the library's source) is the only
    full answer, as in any course that ships its reference code.
    """
    import functools
    import inspect

    name = exercise or getattr(obj, "__name__", type(obj).__name__)
    advice = (f"{name}: your answer is course_lib's own {{what}}. Write it yourself in the notebook "
              "(the library's version is there for the later cells, not for the exercise).")
    target = obj.func if isinstance(obj, functools.partial) else obj
    target = inspect.unwrap(target) if callable(target) else target
    if inspect.isclass(target) or inspect.isfunction(target) or inspect.ismethod(target):
        candidate = target
    else:
        candidate = type(target)
    module = getattr(candidate, "__module__", None)
    if _from_library(module):
        raise AssertionError(advice.format(what=f"{module}.{getattr(candidate, '__qualname__', candidate)}"))
    code = getattr(getattr(candidate, "__func__", candidate), "__code__", None)
    if code is not None and Path(code.co_filename).resolve().is_relative_to(_LIBRARY_DIR):
        raise AssertionError(advice.format(what=f"function from {code.co_filename}"))
    if inspect.isclass(candidate):
        allowed = set(allowed_bases)
        for base in candidate.__mro__[1:]:
            if base not in allowed and _from_library(base.__module__):
                raise AssertionError(f"{name}: your class inherits from {base.__module__}.{base.__qualname__}, "
                                     "which already solves the exercise. Write the class without that base.")


# ----------------------------------------------------------------------------------------------
# comparing values
# ----------------------------------------------------------------------------------------------
def _is_tensor(value: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(value, torch.Tensor)


def _as_numpy(value: Any) -> np.ndarray:
    if _is_tensor(value):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def describe(value: Any) -> str:
    """A short description for messages: 'float32 array of shape (2, 3)', 'tensor ...', 'int 3'."""
    if _is_tensor(value):
        return f"{str(value.dtype).removeprefix('torch.')} tensor of shape {tuple(value.shape)}"
    if isinstance(value, np.ndarray):
        return f"{value.dtype} array of shape {value.shape}"
    if isinstance(value, (list, tuple)):
        return f"{type(value).__name__} of length {len(value)}"
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) < 40 else text[:37] + '...'}"


def assert_matches(got: Any, expected: Any, *, what: str, hint: str = "", rtol: float = 1e-5,
                   atol: float = 1e-6) -> None:
    """Assert ``got`` equals ``expected`` (arrays/tensors to tolerance, sequences and dicts item by item).

    The message names ``what``, the kind of mismatch (type, shape, value), the first differing index with
    both values, and ends with ``hint``.
    """
    tail = f" Hint: {hint}" if hint else ""
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            raise AssertionError(f"{what}: got {describe(got)}, expected a dict.{tail}")
        missing = [key for key in expected if key not in got]
        if missing:
            raise AssertionError(f"{what}: the result lacks the key(s) {missing}.{tail}")
        for key, value in expected.items():
            assert_matches(got[key], value, what=f"{what}[{key!r}]", hint=hint, rtol=rtol, atol=atol)
        return
    if isinstance(expected, (list, tuple)) and not isinstance(got, (np.ndarray, str)) and not _is_tensor(got):
        if not isinstance(got, (list, tuple)) or len(got) != len(expected):
            raise AssertionError(f"{what}: got {describe(got)}, expected {describe(expected)}.{tail}")
        for index, (item, want) in enumerate(zip(got, expected)):
            assert_matches(item, want, what=f"{what}[{index}]", hint=hint, rtol=rtol, atol=atol)
        return
    if isinstance(expected, (np.ndarray, float, int, np.number)) or _is_tensor(expected):
        if _is_tensor(expected) and not _is_tensor(got):
            raise AssertionError(f"{what}: got {describe(got)}, expected {describe(expected)}.{tail}")
        try:
            actual = _as_numpy(got).astype(np.float64)
        except (TypeError, ValueError):
            raise AssertionError(f"{what}: got {describe(got)}, expected {describe(expected)}.{tail}") from None
        wanted = _as_numpy(expected).astype(np.float64)
        if actual.shape != wanted.shape:
            raise AssertionError(f"{what}: got shape {actual.shape}, expected {wanted.shape}.{tail}")
        close = np.isclose(actual, wanted, rtol=rtol, atol=atol, equal_nan=True)
        if not close.all():
            index = tuple(int(i) for i in np.argwhere(~close)[0])
            where = f" at index {index}" if index else ""
            raise AssertionError(f"{what}: {int((~close).sum())} of {close.size} values differ; first{where}: "
                                 f"got {actual[index]:.6g}, expected {wanted[index]:.6g}.{tail}")
        return
    if got != expected:
        raise AssertionError(f"{what}: got {describe(got)}, expected {describe(expected)}.{tail}")


def _describe_inputs(args: Sequence[Any]) -> str:
    return ", ".join(describe(arg) for arg in args)


def compare_with_reference(candidate: Callable[..., Any], reference: Callable[..., Any],
                           make_inputs: Callable[[np.random.Generator], Sequence[Any]], *, exercise: str,
                           seed: int = 0, n_cases: int = 5, hint: str = "", rtol: float = 1e-5,
                           atol: float = 1e-6) -> None:
    """Compare ``candidate(*inputs)`` with ``reference(*inputs)`` on ``n_cases`` random inputs.

    ``make_inputs(rng)`` draws one case from a ``numpy.random.Generator`` seeded with ``seed``, so the same
    submission always gets the same grade. Each call gets its own copy of the inputs (a learner that
    modifies its arguments in place cannot change the reference's inputs). Prints one line on success.
    """
    import copy

    rng = np.random.default_rng(seed)
    for case in range(n_cases):
        inputs = list(make_inputs(rng))
        with quiet():
            expected = reference(*copy.deepcopy(inputs))
        call = f"{exercise}({_describe_inputs(inputs)})"
        got = call_learner(candidate, *copy.deepcopy(inputs), exercise=exercise, call=call)
        assert_matches(got, expected, what=f"case {case + 1} of {n_cases}, {call}", hint=hint, rtol=rtol, atol=atol)
    passed(f"{exercise}: matches the reference on {n_cases} random cases (seed {seed}).")


def passed(message: str) -> None:
    """Print a success line to stdout (never stderr: nbgrader would score the cell zero)."""
    print(f"OK  {message}", file=sys.stdout)
