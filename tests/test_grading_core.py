"""course_lib.grading.core: quiet checkers, readable failures, reproducible comparisons, own-answer check."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

from course_lib.grading import core
from course_lib.grading.core import (assert_matches, call_learner, compare_with_reference, quiet,
                                     require_defined_in_notebook)
from course_lib.settings import quick_mode


def noisy_double(values):
    """A correct answer that warns and writes to stderr on the way (as library code often does)."""
    warnings.warn("something is deprecated", UserWarning)
    np.log(np.zeros(1))  # NumPy RuntimeWarning: divide by zero
    print("50%|#####     |", file=sys.stderr)
    os.write(2, b"[W NNPACK.cpp:64] Could not initialize NNPACK\n")
    return np.asarray(values, dtype=float) * 2


def test_quiet_swallows_warnings_and_both_kinds_of_stderr(capfd):
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with quiet() as captured:
            noisy_double([1.0])
    out, err = capfd.readouterr()
    assert err == "" and seen == [], f"stderr {err!r} or warnings {seen} escaped quiet()"
    assert "50%" in captured.getvalue()
    print("stderr works again", file=sys.stderr)
    assert "stderr works again" in capfd.readouterr().err


def test_compare_with_reference_passes_a_noisy_correct_answer_without_stderr(capfd):
    compare_with_reference(noisy_double, lambda v: v * 2, lambda rng: (rng.normal(size=4),), exercise="double")
    out, err = capfd.readouterr()
    assert err == "" and "OK  double" in out


def test_compare_with_reference_names_case_value_and_hint():
    def off_by_one(values):
        result = np.asarray(values, dtype=float) * 2
        result.reshape(-1)[-1] += 1
        return result

    with pytest.raises(AssertionError) as failure:
        compare_with_reference(off_by_one, lambda v: v * 2, lambda rng: (rng.normal(size=(2, 3)),),
                               exercise="double", hint="multiply every value by two")
    message = str(failure.value)
    for part in ("case 1 of 5", "double(float64 array of shape (2, 3))", "at index (1, 2)", "got ", "expected ",
                 "Hint: multiply every value by two"):
        assert part in message, f"{part!r} missing from: {message}"


def test_compare_with_reference_is_reproducible():
    seen = []

    def record(values):
        seen.append(values.copy())
        return values

    for _ in range(2):
        compare_with_reference(record, lambda v: v, lambda rng: (rng.normal(size=3),), exercise="same", seed=7)
    assert all(np.array_equal(a, b) for a, b in zip(seen[:5], seen[5:]))


def test_learner_cannot_change_the_reference_inputs():
    def in_place(values):
        values *= 2
        return values

    compare_with_reference(in_place, lambda v: v * 2, lambda rng: (rng.normal(size=3),), exercise="in_place")


@pytest.mark.parametrize("raised, words", [(ValueError("rows do not line up"), ["ValueError", "rows do not line up"]),
                                           (NotImplementedError(), ["NotImplementedError", "Replace"]),
                                           (AssertionError("mine"), ["assertion of your own", "mine"])])
def test_learner_exceptions_become_readable_assertions(raised, words):
    def broken(_):
        raise raised

    with pytest.raises(AssertionError) as failure:
        call_learner(broken, 1, exercise="row_means", call="row_means(matrix)")
    message = str(failure.value)
    assert message.startswith("row_means: row_means(matrix)")
    assert all(word in message for word in words), message
    assert failure.value.__cause__ is None and failure.value.__suppress_context__


@pytest.mark.parametrize("got, expected, words", [
    ([1.0, 2.0], np.array([1.0, 2.0, 3.0]), ["shape (2,)", "expected (3,)"]),
    ("text", np.zeros(2), ["got str"]),
    ({"a": 1}, {"a": 1, "b": 2}, ["lacks the key(s) ['b']"]),
    ((np.zeros(2), 1), (np.zeros(2), 2), ["[1]", "got 1", "expected 2"]),
])
def test_assert_matches_says_what_differs(got, expected, words):
    with pytest.raises(AssertionError) as failure:
        assert_matches(got, expected, what="answer")
    assert all(word in str(failure.value) for word in words), str(failure.value)


def test_assert_matches_accepts_tensors_against_tensors():
    torch = pytest.importorskip("torch")
    assert_matches(torch.ones(2, 3), torch.ones(2, 3), what="t")
    with pytest.raises(AssertionError, match="expected float32 tensor"):
        assert_matches(np.ones((2, 3)), torch.ones(2, 3), what="t")


class LibraryBase:
    pass


def own_function(x):
    return x


def test_require_defined_in_notebook_accepts_the_learners_code():
    require_defined_in_notebook(own_function)
    require_defined_in_notebook(lambda x: x)
    require_defined_in_notebook(LibraryBase)
    require_defined_in_notebook(LibraryBase())


@pytest.mark.parametrize("answer", [
    quick_mode,                                    # a library function imported as the answer
    functools.partial(core.describe),              # wrapped in functools.partial
    functools.wraps(core.describe)(lambda v: v),   # wrapped with functools.wraps
    core.quiet,                                    # a decorated library function
], ids=["imported", "partial", "wraps", "decorated"])
def test_require_defined_in_notebook_refuses_library_objects(answer):
    with pytest.raises(AssertionError, match="course_lib's own|inherits"):
        require_defined_in_notebook(answer, exercise="crop")


def test_require_defined_in_notebook_refuses_library_classes_instances_and_subclasses():
    from course_lib.grading.core import _fd_silenced  # noqa: F401 - any library object will do

    class Sneaky(AssertionError):
        pass

    require_defined_in_notebook(Sneaky)  # builtin bases are fine
    import dataclasses

    library_class = dataclasses.make_dataclass("Probe", [])
    library_class.__module__ = "course_lib.data.transforms"
    with pytest.raises(AssertionError, match="course_lib.data.transforms.Probe"):
        require_defined_in_notebook(library_class)
    with pytest.raises(AssertionError, match="course_lib's own"):
        require_defined_in_notebook(library_class())
    subclass = type("MyCrop", (library_class,), {})
    with pytest.raises(AssertionError, match="inherits from course_lib.data.transforms.Probe"):
        require_defined_in_notebook(subclass)
    require_defined_in_notebook(subclass, allowed_bases=[library_class])


def test_importing_the_package_does_not_import_torch():
    code = "import sys, course_lib.grading; print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
