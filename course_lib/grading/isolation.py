"""Each exercise judged on its own: an answer runs with the course's versions of the earlier answers it builds on.

``dice_score`` calls the notebook's ``dice``, ``convlstm_step`` its ``split_gates``, ``cell_update`` and
``hidden_state``. Run as they are, a slip in the earlier exercise would fail the later one too and take its
points. While a check runs, :func:`course_pieces` puts the course's version in place of each earlier answer
wherever the answer reaches it by its own code: under its name in the answer's global namespace (the notebook's,
where a function looks a name up when it runs), and in the default arguments and closure cells of the answer and
of the notebook functions it calls (``def dice_score(p, t, dice=dice)``, a helper made by a factory). Everything
is put back afterwards, even when the check fails. An earlier answer kept anywhere else (in a list, an attribute,
another module) is not reached: the answer then runs with the student's own.
"""

from __future__ import annotations

import contextlib
import dis
import inspect
import types
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from course_lib.grading.core import LIBRARY_PACKAGE, functions_of

__all__ = ["course_pieces"]

Undo = Callable[[], None]


def _global_names(code: types.CodeType) -> set[str]:
    """The global names ``code`` reads (attribute names such as the ``dice`` of ``losses.dice`` are not)."""
    names = {instruction.argval for instruction in dis.get_instructions(code)
             if instruction.opname in ("LOAD_GLOBAL", "LOAD_NAME")}
    for constant in code.co_consts:  # lambdas, comprehensions and functions defined inside
        if isinstance(constant, types.CodeType):
            names |= _global_names(constant)
    return names


def _captured(function: types.FunctionType) -> list[Any]:
    """What ``function`` holds besides its globals: its default arguments and the contents of its closure."""
    held = list(function.__defaults__ or ()) + list((function.__kwdefaults__ or {}).values())
    for cell in function.__closure__ or ():
        with contextlib.suppress(ValueError):  # a cell not filled yet
            held.append(cell.cell_contents)
    return held


def _reached(answers: Iterable[Any], pieces: Mapping[str, Any]) -> list[types.FunctionType]:
    """The answers' functions and the notebook functions they call, found by name or captured, transitively.

    The earlier answers themselves are not followed: the course's versions replace them.
    """
    todo = [function for answer in answers for function in functions_of(answer)]
    reached: dict[int, types.FunctionType] = {}
    while todo:
        function = todo.pop()
        if id(function) in reached or function.__globals__.get("__name__", "").startswith(LIBRARY_PACKAGE):
            continue
        reached[id(function)] = function
        named = [function.__globals__.get(name) for name in _global_names(function.__code__) if name not in pieces]
        for value in named + _captured(function):
            # any object of the student's may turn up here; one that breaks on inspection is simply not followed
            with contextlib.suppress(Exception):
                if getattr(value, "__name__", None) not in pieces:
                    todo += [f for f in functions_of(value) if f.__globals__ is function.__globals__]
    return list(reached.values())


def _put(namespace: dict, name: str, value: Any) -> Undo:
    missing = object()
    before = namespace.get(name, missing)
    namespace[name] = value

    def undo() -> None:
        if before is missing:
            namespace.pop(name, None)
        else:
            namespace[name] = before
    return undo


def _replace_captured(function: types.FunctionType, swap: Callable[[Any], Any]) -> list[Undo]:
    """Replace, through ``swap``, what ``function``'s defaults and closure cells hold; the undos."""
    undo: list[Undo] = []
    defaults, kwdefaults = function.__defaults__, function.__kwdefaults__
    if defaults and any(swap(value) is not value for value in defaults):
        function.__defaults__ = tuple(swap(value) for value in defaults)
        undo.append(lambda: setattr(function, "__defaults__", defaults))
    if kwdefaults and any(swap(value) is not value for value in kwdefaults.values()):
        function.__kwdefaults__ = {key: swap(value) for key, value in kwdefaults.items()}
        undo.append(lambda: setattr(function, "__kwdefaults__", kwdefaults))
    for cell in function.__closure__ or ():
        try:
            held = cell.cell_contents
        except ValueError:
            continue
        if swap(held) is not held:
            cell.cell_contents = swap(held)
            undo.append(lambda cell=cell, held=held: setattr(cell, "cell_contents", held))
    return undo


@contextlib.contextmanager
def course_pieces(answers: Iterable[Any], pieces: Mapping[str, Any]) -> Iterator[set[str]]:
    """Run a block with ``pieces`` ({notebook name: the course's version}) in place wherever ``answers`` reach them.

    Yields the names of the pieces the answers use (read by name or captured), so that a check can say whose ran.
    """
    if not pieces:
        yield set()
        return
    reached = _reached(answers, pieces)
    namespaces = {id(function.__globals__): function.__globals__ for function in reached}
    theirs = {id(namespace[name]): name for namespace in namespaces.values() for name in pieces if name in namespace}

    def piece_for(value: Any) -> str | None:
        """The piece ``value`` is the student's version of: the object a notebook name held, or one so named."""
        name = theirs.get(id(value)) or getattr(value, "__name__", None)
        if name in pieces and (inspect.isfunction(value) or inspect.isclass(value)) and value is not pieces[name]:
            return name
        return None

    def swap(value: Any) -> Any:
        name = piece_for(value)
        return value if name is None else pieces[name]

    used: set[str] = set()
    undo: list[Undo] = []
    try:
        for function in reached:
            read = _global_names(function.__code__) & set(pieces)
            used |= read | {name for value in _captured(function) if (name := piece_for(value))}
            undo += _replace_captured(function, swap)
            namespace = function.__globals__
            undo += [_put(namespace, name, pieces[name]) for name in pieces
                     if (name in namespace or name in read) and namespace.get(name) is not pieces[name]]
        yield used
    finally:
        for step in reversed(undo):
            step()
