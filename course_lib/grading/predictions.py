"""A Think question's prediction: written before the run that settles it, read back after it, never raising.

A "predict" question asks for its answer before the cell that measures the outcome. The student returns the
prediction from a small function in an answer cell; the cell after the measurement reads it with
:func:`predicted_choice` or :func:`predicted_numbers` and shows it next to the result. A prediction not written yet
(the release's stub raises ``NotImplementedError``), one that raises and one of the wrong form all give ``None`` and
a line that says so, in a student's session and under nbgrader alike: a missing prediction never stops Run All,
and the written answer it goes with is graded by hand.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["predicted_choice", "predicted_numbers"]

_NOT_READ = object()


def _read(predict: Callable[[], Any], question: str, form: str) -> Any:
    """What ``predict()`` returns, or ``_NOT_READ`` after printing why there is nothing to read."""
    try:
        return predict()
    except NotImplementedError:
        print(f"{question}: no prediction yet. Return it ({form}) from the function in the cell under the question, "
              "run that cell, then this one.")
    except Exception as error:  # noqa: BLE001 - whatever the student's function does, the notebook runs on
        print(f"{question}: your prediction function raised {type(error).__name__}: {error}. It should return {form}.")
    return _NOT_READ


def predicted_choice(predict: Callable[[], Any], question: str, choices: Sequence[str]) -> str | None:
    """The choice ``predict()`` returns (one of ``choices``, matched without regard to case or outer spaces), or None
    with a line that says why."""
    form = " or ".join(repr(choice) for choice in choices)
    value = _read(predict, question, form)
    if value is _NOT_READ:
        return None
    matches = [choice for choice in choices if isinstance(value, str) and value.strip().lower() == choice.lower()]
    if not matches:
        print(f"{question}: your prediction is {value!r}; it should be {form}.")
        return None
    return matches[0]


def predicted_numbers(predict: Callable[[], Any], question: str, names: Sequence[str], low: float | None = None,
                      high: float | None = None) -> dict[str, float] | None:
    """The numbers ``predict()`` returns as a dict ``{name: number}`` with exactly ``names`` (each within
    [``low``, ``high``] where given), as floats; or None with a line that says why."""
    bounds = f" between {low:g} and {high:g}" if low is not None and high is not None else ""
    form = "{" + ", ".join(f"{name!r}: <a number{bounds}>" for name in names) + "}"
    value = _read(predict, question, form)
    if value is _NOT_READ:
        return None

    def fits(number: Any) -> bool:
        return (isinstance(number, (int, float)) and not isinstance(number, bool) and math.isfinite(number)
                and (low is None or number >= low) and (high is None or number <= high))

    if not isinstance(value, dict) or set(value) != set(names) or not all(fits(value[n]) for n in names):
        print(f"{question}: your prediction is {value!r}; it should be {form}.")
        return None
    return {name: float(value[name]) for name in names}
