"""course_lib.grading.diagnosis: why a check failed, as data an instructor can count (kind, cause, detail), written
into the graded notebook where a grade is taken and read back, versioned."""

from __future__ import annotations

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from course_lib.grading import feedback
from course_lib.grading.core import call_learner, require_defined_in_notebook
from course_lib.grading.diagnosis import MIME_TYPE, VERSION, Diagnosis, Kind
from course_lib.grading.feedback import CheckFailed, exercise_check

NOTEBOOK = "98_diagnosis_test"


def _slip(result: float) -> str:
    return {3.0: "you added one instead of doubling", 0.0: "you returned zero"}.get(result, "")


@exercise_check(NOTEBOOK, 1, "doubling", points=2)
def check_double(double, *, value: int = 2) -> str:
    result = call_learner(double, value, exercise="double", call=f"double({value})")
    if result != 2 * value:
        slip = _slip(float(result - value + 2))
        raise AssertionError(f"double({value}) gave {result}, expected {2 * value}."
                             + (f" It looks like {slip}." if slip else " Multiply by two."))
    return "right."


@exercise_check(NOTEBOOK, 2, "the library's own", points=1)
def check_own(function) -> str:
    require_defined_in_notebook(function, exercise="own")
    return "yours."


@exercise_check(NOTEBOOK, 3, "a list", points=1)
def check_list(values) -> str:
    if len(values) != 3:  # handed something without a length, the check itself cannot run
        raise AssertionError(f"{len(values)} values, expected 3.")
    return "three."


@pytest.fixture(autouse=True)
def forget_results():
    yield
    for exercise in [e for e in feedback._RESULTS if e.notebook == NOTEBOOK]:
        del feedback._RESULTS[exercise]


def result_of(check, answer, **kwargs) -> feedback.CheckResult:
    check(answer, **kwargs)
    return feedback._RESULTS[check.exercise]


def test_the_cause_comes_first_whole_and_the_same_whatever_the_numbers(student_session, capsys):
    first = result_of(check_double, lambda v: v + 1, value=2).diagnosis
    second = result_of(check_double, lambda v: v + 1, value=7).diagnosis
    assert first.kind is Kind.WRONG and first.exercise == 1 and first.title == "doubling"
    assert first.cause == "double(…) gave …, expected …. It looks like you added one instead of doubling."
    assert first.detail == "double(2) gave 3, expected 4. It looks like you added one instead of doubling."
    assert second.key == first.key and second.detail != first.detail, "the numbers must not split a cause"
    other = result_of(check_double, lambda v: v * 3).diagnosis
    assert other.cause == "double(…) gave …, expected …. Multiply by two." and other.key != first.key


def test_the_course_helpers_say_what_kind_of_failure_it_is(student_session, capsys):
    def unstarted(value):
        raise NotImplementedError()

    def crashing(value):
        return [][value]

    assert result_of(check_double, unstarted).diagnosis.kind is Kind.NOT_STARTED
    crashed = result_of(check_double, crashing).diagnosis
    assert crashed.kind is Kind.CRASHED and crashed.cause == "the answer raised IndexError"
    own = result_of(check_own, require_defined_in_notebook).diagnosis
    assert own.kind is Kind.LIBRARY_CODE and "course_lib's own" in own.cause
    misused = result_of(check_list, 42).diagnosis
    assert misused.kind is Kind.CHECK_ERROR and "TypeError" in misused.cause
    assert result_of(check_double, lambda v: 2 * v).diagnosis is None


def test_where_a_grade_is_taken_the_diagnosis_is_written_into_the_cell_as_versioned_data(monkeypatch):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    InteractiveShell.instance()
    try:
        with capture_output() as captured, pytest.raises(CheckFailed):
            check_double(lambda v: v + 1)
    finally:
        InteractiveShell.clear_instance()
    records = [output.data[MIME_TYPE] for output in captured.outputs if MIME_TYPE in output.data]
    assert len(records) == 1 and records[0]["version"] == VERSION
    assert all(output.data.get("text/plain") == "" for output in captured.outputs), "the record shows nothing"
    read = Diagnosis.from_record(records[0])
    assert read.kind is Kind.WRONG and read.notebook == NOTEBOOK and "added one" in read.cause


def test_a_record_of_another_version_or_shape_is_refused_with_a_reason():
    record = Diagnosis(Kind.WRONG, "cause", "detail", NOTEBOOK, 1, "doubling").record()
    assert Diagnosis.from_record(record).cause == "cause"
    with pytest.raises(ValueError, match="version 2"):
        Diagnosis.from_record({**record, "version": 2})
    with pytest.raises(ValueError, match="damaged"):
        Diagnosis.from_record({**record, "kind": "surprised"})
