"""Python source parsed one thread at a time.

Class grading reads notebooks in worker threads (``instructor.class_grading``). CPython 3.11 keeps the depth
counter of its AST conversion in a state that the interpreter's threads share, and a threaded program can then fail
with ``SystemError: AST constructor recursion depth mismatch`` (CPython issue gh-106905 and the reports around it).
This course's test suite did, once, on 3.11.7, while two grading workers parsed cells at the same time.
Every parse of a student's or a checker's source goes through :func:`parse_source`, which holds one lock.
"""

from __future__ import annotations

import ast
import threading

__all__ = ["parse_source"]

_ONE_AT_A_TIME = threading.Lock()


def parse_source(source: str) -> ast.Module:
    """``ast.parse(source)``, never in two threads at once (see the module docstring); raises ``SyntaxError`` as it."""
    with _ONE_AT_A_TIME:
        return ast.parse(source)
