"""Shared helpers for the per-notebook checkers in ``course_lib.grading``.

nbgrader gives a test cell zero points when it raises *or* writes anything to stderr, and full points
otherwise. The helpers here make both outcomes deliberate:

* ``quiet()`` silences warnings, logging and stderr (Python's ``sys.stderr`` and the process's file
  descriptor 2) while learner or library code runs inside a checker, so a correct answer is never zeroed
  by noise, the learner's own debugging output included;
* ``call_learner`` runs the learner's code quietly and turns any exception into an ``AssertionError``
  whose message names the exercise, the call and the error, so the feedback is readable; ``refusal`` does
  the same for a call that is meant to raise;
* ``close`` and ``worst_difference`` compare tensors and say where they differ most;
* ``require_defined_in_notebook`` refuses a graded answer that is the course library's own object.

What a check then shows the student is ``course_lib.grading.feedback``'s business. Nothing here imports
torch: tensors are recognised through ``sys.modules`` so that the notebook-1 checkers stay light.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
import tempfile
import traceback
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from course_lib.grading.diagnosis import Finding, Kind

__all__ = [
    "LIBRARY_PACKAGE",
    "quiet",
    "call_learner",
    "refusal",
    "require_defined_in_notebook",
    "unwrapped",
    "functions_of",
    "describe",
    "close",
    "worst_difference",
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
def _logging_off() -> Iterator[None]:
    """No log record is emitted for the duration (a handler may hold the real stderr, beyond redirection)."""
    previous = logging.root.manager.disable
    logging.disable(logging.CRITICAL)
    try:
        yield
    finally:
        logging.disable(previous)


@contextlib.contextmanager
def quiet() -> Iterator[io.StringIO]:
    """Run a block with warnings and logging off and stderr swallowed; yields what was written to ``sys.stderr``.

    stdout is left alone: prints are harmless for nbgrader and learners may debug with them.
    """
    captured = io.StringIO()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with contextlib.redirect_stderr(captured), _fd_silenced(2), _logging_off():
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


def _not_started(function: Any, error: NotImplementedError, exercise: str, what: str) -> Finding:
    """The advice for an unstarted answer; when the stub that raised is a helper of the answer's (an earlier
    exercise's function, say), the advice names that helper."""
    tb = error.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    code = tb.tb_frame.f_code if tb is not None else None
    import functools

    held = function.args if isinstance(function, functools.partial) else ()  # the answer a checker's adapter runs
    own = {f.__code__ for item in (function, *held) for f in functions_of(item)}
    if (code is None or code in own or code.co_name in (exercise, "<lambda>") or _in_library(code.co_filename)
            or "site-packages" in code.co_filename):
        return Finding(f"{exercise}: {what} raised NotImplementedError. Replace `raise NotImplementedError()` with "
                       "your code, run that cell, then this one.", Kind.NOT_STARTED, "the answer is not written yet")
    helper = code.co_qualname
    return Finding(f"{exercise}: {what} called {helper}(), which raised NotImplementedError: {helper} is not written "
                   f"yet. Replace `raise NotImplementedError()` in {helper} with your code, run its cell, then this one.",
                   Kind.NOT_STARTED, f"a function it calls, {helper}(), is not written yet")


def call_learner(function: Callable[..., Any], *args: Any, exercise: str, call: str | None = None,
                 **kwargs: Any) -> Any:
    """``function(*args, **kwargs)`` run quietly; any exception becomes an ``AssertionError`` naming ``exercise``.

    ``call`` describes the call in the message (e.g. ``"crop(image of shape (12, 9))"``).
    """
    what = call or f"{getattr(function, '__name__', 'your code')}(...)"
    try:
        with quiet():
            return function(*args, **kwargs)
    except NotImplementedError as error:
        raise _not_started(function, error, exercise, what) from None
    except AssertionError as error:
        raise Finding(f"{exercise}: {what} failed an assertion of your own{_learner_line(error)}: {error}",
                      Kind.CRASHED, "an assertion of the answer's own failed") from None
    except Exception as error:  # noqa: BLE001 - every crash of learner code is reported as a failed check
        raise Finding(f"{exercise}: {what} raised {type(error).__name__}{_learner_line(error)}: {error}",
                      Kind.CRASHED, f"the answer raised {type(error).__name__}") from None


def refusal(function: Callable[..., Any], *args: Any, exercise: str, call: str,
            expected: tuple[type[BaseException], ...] = (ValueError,)) -> BaseException | str:
    """The error ``function(*args)`` raised when it is one of ``expected`` (a refusal of bad input, as asked);
    otherwise a description of what the call did instead ("returned a result", "raised TypeError (...)").

    An unstarted answer (``NotImplementedError``) fails with the same advice as ``call_learner`` gives.
    """
    try:
        with quiet():
            function(*args)
    except expected as error:
        return error
    except NotImplementedError as error:
        raise _not_started(function, error, exercise, call) from None
    except Exception as error:  # noqa: BLE001 - any other failure is reported as what the answer did
        return f"raised {type(error).__name__} ({error}){_learner_line(error)}"
    return "returned a result"


# ----------------------------------------------------------------------------------------------
# is the answer the learner's own?
# ----------------------------------------------------------------------------------------------
def _from_library(module: str | None) -> bool:
    return bool(module) and (module == LIBRARY_PACKAGE or module.startswith(LIBRARY_PACKAGE + "."))


def _in_library(filename: str) -> bool:
    return Path(filename).resolve().is_relative_to(_LIBRARY_DIR)


def unwrapped(obj: Any) -> Iterator[Any]:
    """``obj`` and everything it wraps: partials, ``__wrapped__`` chains, bound and static/class methods."""
    import functools
    import inspect

    seen: set[int] = set()
    while id(obj) not in seen:
        seen.add(id(obj))
        yield obj
        if isinstance(obj, (functools.partial, functools.partialmethod)):
            obj = obj.func
        elif isinstance(obj, (staticmethod, classmethod)) or inspect.ismethod(obj):
            obj = obj.__func__
        elif isinstance(obj, property):
            obj = obj.fget
        elif hasattr(obj, "__wrapped__"):
            obj = obj.__wrapped__
        else:
            return


def functions_of(obj: Any) -> list[Any]:
    """The plain functions that run when ``obj`` is called: itself through any wrapper; a class's own methods (for an
    instance, its class's)."""
    import inspect

    found = []
    for item in unwrapped(obj):
        if inspect.isfunction(item):
            found.append(item)
        elif inspect.isclass(item):
            for member in vars(item).values():
                found += [method for method in unwrapped(member) if inspect.isfunction(method)]
    if not found and callable(obj) and not inspect.isclass(obj):
        found = functions_of(type(obj))
    return found


def _library_code(obj: Any) -> str | None:
    """The course_lib file whose code ``obj`` runs (a function's, or one of a class's own methods), or None."""
    import inspect

    for item in unwrapped(obj):
        code = getattr(item, "__code__", None)
        if code is not None and _in_library(code.co_filename):
            return code.co_filename
        if inspect.isclass(item):
            for member in vars(item).values():
                if not inspect.isclass(member) and (found := _library_code(member)):
                    return found
    return None


def require_defined_in_notebook(obj: Any, *, exercise: str | None = None,
                                allowed_bases: Sequence[type] = ()) -> None:
    """Fail when a graded answer is course_lib's own function/class/instance rather than the learner's.

    Identity is read from the code, not from names: it raises ``AssertionError`` when ``obj`` (for an
    instance, its class) runs code from the course_lib folder, itself or through anything it wraps
    (``functools.partial``, ``functools.wraps``/``__wrapped__``, bound, static and class methods, properties), when
    one of a class's own methods comes from there (methods copied into a class of the learner's), or when a
    class inherits from a course_lib class other than ``allowed_bases``. Renaming ``__module__`` or
    ``__qualname__`` changes none of that.

    What it does NOT guarantee: a function written in the notebook that merely *calls* the library
    (``def crop(d): return CropActualImage()(d)``), or source copied from course_lib into the notebook,
    passes this check. It stops the one-line shortcut ``from course_lib... import X as answer`` and its
    disguises, not a determined copier; reading the submission (or comparing it with the library's source) is
    the only full answer, as in any course that ships its reference code.
    """
    import inspect

    name = exercise or getattr(obj, "__name__", type(obj).__name__)
    advice = (f"{name}: your answer is course_lib's own {{what}}. Write it yourself in the notebook "
              "(the library's version is there for the later cells, not for the exercise).")
    # the function or class that does the work: through any wrapper; for an instance, its class
    candidate = next((item for item in unwrapped(obj) if inspect.isclass(item) or inspect.isfunction(item)),
                     type(obj))
    module = getattr(candidate, "__module__", None)
    copied = "the answer is course_lib's own code, not the student's"
    if _from_library(module):
        raise Finding(advice.format(what=f"{module}.{getattr(candidate, '__qualname__', candidate)}"),
                      Kind.LIBRARY_CODE, copied)
    if inspect.isclass(candidate):
        allowed = set(allowed_bases)
        for base in candidate.__mro__[1:]:
            if base not in allowed and (_from_library(base.__module__) or _library_code(base)):
                raise Finding(f"{name}: your class inherits from {base.__module__}.{base.__qualname__}, which "
                              "already solves the exercise. Write the class without that base.", Kind.LIBRARY_CODE,
                              "the answer's class inherits from course_lib's own solution")
    found = _library_code(candidate)
    if found is not None:
        raise Finding(advice.format(what=f"code (from {found})"), Kind.LIBRARY_CODE, copied)


# ----------------------------------------------------------------------------------------------
# describing and comparing values
# ----------------------------------------------------------------------------------------------
def _is_tensor(value: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(value, torch.Tensor)


def describe(value: Any) -> str:
    """A short description for messages: 'float32 array of shape (2, 3)', 'tensor ...', 'int 3'."""
    if _is_tensor(value):
        return f"{str(value.dtype).removeprefix('torch.')} tensor of shape {tuple(value.shape)}"
    if isinstance(value, np.ndarray):
        return f"{value.dtype} array of shape {value.shape}"
    if isinstance(value, (list, tuple)):
        return f"{type(value).__name__} of length {len(value)}"
    if isinstance(value, dict):
        return f"dict with keys {', '.join(map(str, value))}"
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) < 40 else text[:37] + '...'}"


def close(actual: Any, expected: Any, rtol: float = 1e-4, atol: float = 1e-5) -> bool:
    """True when two tensors of one shape agree to tolerance (the one comparison every checker uses)."""
    import torch

    return tuple(actual.shape) == tuple(expected.shape) and bool(
        torch.allclose(actual.detach().float(), expected.detach().float(), rtol=rtol, atol=atol))


def worst_difference(actual: Any, expected: Any) -> str:
    """Where two tensors of one shape differ most, with both values, for a failure message."""
    import torch

    actual, expected = actual.detach().float(), expected.detach().float()
    difference = (actual - expected).abs()
    position = tuple(int(index) for index in torch.unravel_index(torch.argmax(difference), difference.shape))
    where = f" at index {position}" if position else ""
    return (f"the largest difference is {float(difference.max()):.4g}{where} "
            f"(yours {float(actual[position]):.6g}, expected {float(expected[position]):.6g})")
