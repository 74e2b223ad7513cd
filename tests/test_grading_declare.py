"""course_lib.grading.declare: one declaration per exercise, one engine for what every check does."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib.grading import feedback
from course_lib.grading.core import describe
from course_lib.grading.declare import INT, Case, Declaration, Slip, arrays, data_dicts, declare
from course_lib.grading.diagnosis import Kind

NOTEBOOK = "97_declare_test"

check_triple = declare(Declaration(
    NOTEBOOK, 1, "tripling", 2, "triple", reference=lambda x: 3 * x, output=INT,
    cases=lambda seed: [Case(f"triple({x})", (x,)) for x in (seed + 2, seed + 5, -4)],
    slips=(Slip("It looks like you doubled.", lambda x: 2 * x), Slip("It looks like you added three.", lambda x: x + 3)),
    hints={"kind": "Return an int.", "values": "Multiply by three."},
    refuse=lambda seed: [Case("triple(None)", (None,))], refuse_with=(TypeError,),
    refuse_advice="raise TypeError for something that is not a number.",
    success="triples {n} numbers and refuses {refused} (seed {seed})."))


@pytest.fixture(autouse=True)
def forget_results():
    yield
    for exercise in [e for e in feedback._RESULTS if e.notebook == NOTEBOOK]:
        del feedback._RESULTS[exercise]


def result_of(answer, **kwargs) -> feedback.CheckResult:
    check_triple(answer, **kwargs)
    return feedback._RESULTS[check_triple.exercise]


def strict_triple(x):
    if not isinstance(x, int):
        raise TypeError(describe(x))
    return 3 * x


def test_a_right_answer_gets_the_success_line_with_its_numbers(student_session, capsys):
    result = result_of(strict_triple, seed=4)
    assert result.passed and result.message == "triples 3 numbers and refuses 1 (seed 4)."
    assert check_triple.exercise.points == 2 and check_triple.exercise.title == "tripling"


def test_a_slip_is_named_only_when_the_answer_is_that_slip_s(student_session, capsys):
    doubled = result_of(lambda x: 2 * x)
    assert "It looks like you doubled." in doubled.message and "added three" not in doubled.message
    assert doubled.diagnosis.kind is Kind.WRONG
    assert doubled.diagnosis.cause == "returned …, expected …. It looks like you doubled.", "the message, values left out"
    other = result_of(lambda x: 4 * x)
    assert other.message == "triple(2) returned 8, expected 6. Multiply by three." and "looks like" not in other.message
    # at 5, 8 is what adding three gives; but adding three gives 5 at 2, where this answer was right: not that slip
    late = result_of(lambda x: 3 * x if x < 5 else 8)
    assert late.message == "triple(5) returned 8, expected 15. Multiply by three."
    assert result_of(lambda x: 2 * x, seed=7).diagnosis.key == doubled.diagnosis.key, "numbers never split a cause"


def test_the_kind_is_checked_before_the_values(student_session, capsys):
    floated = result_of(lambda x: 3.0 * x)
    assert floated.message == "triple(2) returned float 6.0; expected an int. Return an int."
    assert floated.diagnosis.cause == "returned …; expected an int. Return an int."


def test_an_input_that_must_be_refused_and_is_not_says_what_the_answer_did(student_session, capsys):
    accepting = result_of(lambda x: 3 * x if x is not None else 0)
    assert accepting.message == "triple(None) returned a result; raise TypeError for something that is not a number."
    assert accepting.diagnosis.cause == "returned a result; raise TypeError for something that is not a number."


def test_the_library_s_own_code_and_an_unwritten_answer_are_refused_before_any_case(student_session, capsys):
    assert result_of(describe).diagnosis.kind is Kind.LIBRARY_CODE

    def unwritten(x):
        raise NotImplementedError()

    assert result_of(unwritten).diagnosis.kind is Kind.NOT_STARTED


def test_where_a_grade_is_taken_a_failure_raises(strict_checks):
    with pytest.raises(feedback.CheckFailed, match="doubled"):
        check_triple(lambda x: 2 * x)


check_scale = declare(Declaration(
    NOTEBOOK, 2, "scaling, as a class", 1, "Scale", reference=lambda factor, x: factor * x,
    run=lambda scale_class, factor, x: scale_class(factor)(x), output=INT,
    cases=lambda seed: [Case(f"Scale({factor})({x})", (factor, x)) for factor, x in ((2, seed + 1), (5, -3))],
    refuse=lambda seed: [Case("Scale(0)(4)", (0, 4))], refuse_advice="raise ValueError for a factor of 0.",
    success="scales {n} numbers and refuses {refused} (seed {seed})."))


class Scale:
    def __init__(self, factor):
        if factor == 0:
            raise ValueError("a factor of 0 loses the number")
        self.factor = factor

    def __call__(self, x):
        return self.factor * x


def test_a_class_answer_is_built_through_run_for_its_refusals_as_for_its_cases(student_session, capsys):
    check_scale(Scale)
    assert feedback._RESULTS[check_scale.exercise].message == "scales 2 numbers and refuses 1 (seed 0)."

    class Accepting(Scale):
        def __init__(self, factor):
            self.factor = factor

    check_scale(Accepting)
    assert feedback._RESULTS[check_scale.exercise].message == ("Scale(0)(4) returned a result; raise ValueError for "
                                                               "a factor of 0.")


def test_arrays_compare_dtype_and_values_and_name_the_worst_element():
    exact, close = arrays(), arrays(atol=1e-3)
    want = np.array([[0.0, 1.0], [1.0, 0.0]], np.float32)
    assert exact.same(want.copy(), want) and not exact.same(want.astype(np.float64), want)
    assert exact.differs(want.astype(bool), want) == "has dtype bool, expected float32"
    worse = want + np.array([[0.0, 0.0], [0.5, 0.25]], np.float32)
    assert exact.differs(worse, want) == "gives 1.5 at index (1, 0), expected 1"
    assert close.same(want + 1e-4, want) and not exact.same(want + 1e-4, want)
    with pytest.raises(TypeError):
        exact.read(want.tolist())


check_broken = declare(Declaration(NOTEBOOK, 3, "a check with a fault of its own", 1, "anything",
                                   reference=lambda x: 1 / 0, cases=lambda seed: [Case("anything(1)", (1,))]))


def test_a_fault_in_the_check_itself_says_where_and_whom_to_tell(student_session, capsys):
    check_broken(lambda x: x)
    message = feedback._RESULTS[check_broken.exercise].message
    assert message.startswith("the check could not run: ZeroDivisionError: division by zero (course_lib/grading/"
                              "declare.py, line ")
    assert message.endswith("the check itself is at fault: tell your instructor.")


def _append_reference(data: dict) -> dict:
    data["seen"].append("reference")  # a transform changes its data in place
    return {"count": len(data["seen"])}


check_in_place = declare(Declaration(
    NOTEBOOK, 4, "a transform that changes its data in place", 1, "count_seen", reference=_append_reference,
    cases=lambda seed: [Case("count_seen(data)", ({"seen": []},)), Case("count_seen(other data)", ({"seen": ["a"]},))],
    slips=(Slip("It looks like you counted one too many.", lambda data: {"count": len(data["seen"]) + 2}),)))


def test_the_reference_and_the_slips_change_copies_of_a_case_s_inputs_never_the_case(student_session, capsys):
    def count_seen(data):
        data["seen"].append("answer")
        return {"count": len(data["seen"])}

    check_in_place(count_seen)
    assert feedback._RESULTS[check_in_place.exercise].passed, feedback._RESULTS[check_in_place.exercise].message
    check_in_place(lambda data: {"count": len(data["seen"]) + 2})
    assert feedback._RESULTS[check_in_place.exercise].message == ("count_seen(data) returned {'count': 2}, expected "
                                                                  "{'count': 1}. It looks like you counted one too "
                                                                  "many.")


def test_data_dicts_compare_the_keys_a_transform_changes_and_keep_the_others():
    output = data_dicts(("images",))
    want = {"images": np.stack([np.linspace(0, 1, 6, dtype=np.float32).reshape(2, 3)] * 2), "names": ["a", "b"],
            "extra": "left alone"}
    listed = output.read({**want, "images": list(want["images"])})  # a list of arrays is read as the stacked array is
    assert output.shape(listed) == output.shape(want) and output.same(listed, want)
    with pytest.raises(TypeError):
        output.read([want["images"]])
    renamed = output.read({**want, "names": ("a", "b")})
    assert not output.same(renamed, want)
    assert output.differs(renamed, want) == "changed data['names'], which it should leave as it was"
    brighter = output.read({**want, "images": want["images"] + np.float32(0.5) * (np.arange(2) == 1)[:, None, None]})
    assert output.differs(brighter, want) == "gives in data['images'][1] an array that gives 0.5 at index (0, 0), " \
                                             "expected 0"
    assert output.differs(output.read({"images": want["images"]}), want) == (
        "gives the keys ['images'], expected ['extra', 'images', 'names']")
