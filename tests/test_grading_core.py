"""course_lib.grading.core: quiet checkers, readable failures, tensor comparisons, own-answer check."""

from __future__ import annotations

import functools
import logging
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

from course_lib.grading import core
from course_lib.grading.core import (call_learner, close, quiet, refusal, require_defined_in_notebook,
                                     worst_difference)
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


def test_call_learner_passes_a_noisy_correct_answer_without_stderr(capfd):
    result = call_learner(noisy_double, [1.0, 2.0], exercise="double")
    out, err = capfd.readouterr()
    assert err == "" and result.tolist() == [2.0, 4.0]


def test_quiet_silences_logging_even_through_a_handler_that_holds_the_real_stderr(capfd):
    logger = logging.getLogger("a_learners_logger")
    handler = logging.StreamHandler(sys.__stderr__)
    logger.addHandler(handler)
    try:
        with quiet():
            logger.warning("debugging my answer")
            logging.warning("and through the root logger")
        logger.warning("logging works again")
    finally:
        logger.removeHandler(handler)
    err = capfd.readouterr().err
    assert "debugging" not in err and "root logger" not in err and "logging works again" in err


def test_refusal_returns_the_error_or_what_happened_instead():
    def strict(value):
        if value < 0:
            raise ValueError("negative")
        return value

    assert isinstance(refusal(strict, -1, exercise="strict", call="strict(-1)"), ValueError)
    assert refusal(strict, 1, exercise="strict", call="strict(1)") == "returned a result"
    assert refusal(lambda v: [][v], 0, exercise="x", call="x(0)").startswith("raised IndexError")


def test_refusal_of_an_unstarted_answer_says_how_to_start():
    def stub(_):
        raise NotImplementedError()

    with pytest.raises(AssertionError, match="Replace `raise NotImplementedError\\(\\)`"):
        refusal(stub, 1, exercise="crop", call="crop(all black)")


def test_close_and_worst_difference_name_the_place_and_both_values():
    torch = pytest.importorskip("torch")
    expected = torch.zeros(2, 3)
    actual = expected.clone()
    actual[1, 2] = 0.5
    assert close(expected, expected.clone()) and not close(actual, expected)
    assert not close(torch.zeros(3), torch.zeros(2)), "tensors of different shapes are never close"
    message = worst_difference(actual, expected)
    assert "0.5 at index (1, 2)" in message and "yours 0.5, expected 0" in message
    assert "at index" not in worst_difference(torch.tensor(1.0), torch.tensor(2.0)), "0-d tensors have no index"


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


def _disguised_class():
    from course_lib.data.transforms import CropActualImage

    copy = type("CropActualImage", (), dict(vars(CropActualImage)))  # the class dict copied into a new class
    copy.__module__, copy.__qualname__ = "__main__", "CropActualImage"
    return copy


def _disguised_function():
    import types

    from course_lib.losses import dice

    copy = types.FunctionType(dice.__code__, dict(dice.__globals__), "dice")  # the library's code object
    copy.__module__ = "__main__"
    return copy


def _copied_method():
    from course_lib.data.transforms import CropActualImage

    class Mine:
        __call__ = CropActualImage.__call__

    return Mine


def _renamed_library_class():
    import course_lib.data.transforms as transforms

    class Renamed(transforms.ResizeImage):  # a subclass whose base was renamed into __main__ (below)
        pass

    return Renamed


@pytest.mark.parametrize("make", [_disguised_class, _disguised_function, _copied_method, _renamed_library_class],
                         ids=["class-dict-copy", "code-object-copy", "copied-method", "subclass"])
def test_identity_comes_from_the_code_not_from_names(make):
    answer = make()
    with pytest.raises(AssertionError, match="course_lib's own|inherits"):
        require_defined_in_notebook(answer, exercise="crop")


def test_a_library_object_with_its_module_rewritten_is_still_refused():
    from course_lib.data.transforms import CropActualImage

    names = CropActualImage.__module__, CropActualImage.__qualname__
    CropActualImage.__module__, CropActualImage.__qualname__ = "__main__", "Mine"  # the disguise of issue 16
    try:
        with pytest.raises(AssertionError, match="course_lib's own code"):
            require_defined_in_notebook(CropActualImage, exercise="crop")
        with pytest.raises(AssertionError, match="course_lib's own code"):
            require_defined_in_notebook(CropActualImage(), exercise="crop")
    finally:
        CropActualImage.__module__, CropActualImage.__qualname__ = names
