"""Checks for notebook 3's exercises: the gate split, the cell update, the hidden state, one step, a sequence, the cost.

The reference is ``course_lib.nn.ConvLSTMCell``. To grade the cell update and the hidden state on their
own, the checks build a reference cell whose convolution is a 1x1 identity on the input (and zero on the
hidden state): fed the four gate groups as its input, it applies exactly the library's equations to them.
Every check tries every setting that is graded: several shapes, activations (ReLU, tanh, sigmoid) and
forget biases; the hidden tests run the same checks with other seeds. Inputs are random from a fixed
seed, so a grade is reproducible. A failure says which case differs, how, and the likely fix (a cause is
named only once the answer is shown to have it); a success returns one line; nothing goes to stderr.
"""

from __future__ import annotations

from collections.abc import Callable
from numbers import Integral
from typing import Any, NamedTuple

import torch

from course_lib.grading.core import (call_learner, close, describe, refusal, require_defined_in_notebook,
                                     worst_difference)
from course_lib.grading.feedback import exercise_check
from course_lib.nn import ConvLSTMCell, unroll

__all__ = ["check_split_gates", "check_cell_update", "check_hidden_state", "check_convlstm_step", "check_unroll",
           "check_convlstm_parameters"]

NOTEBOOK = "03_convlstm"
GATE_ORDER = ("i (input gate)", "j (update)", "f (forget gate)", "o (output gate)")
Activation = Callable[[torch.Tensor], torch.Tensor]
# sigmoid(+-SATURATE) is 1 or 0 to float32 precision: used to make the reference cell pass its state through.
SATURATE = 60.0
ACTIVATIONS: tuple[Activation, ...] = (torch.relu, torch.tanh, torch.sigmoid)
# (batch, channels, size) tried by the split, the cell update and the hidden state
SHAPES = ((2, 3, 5), (3, 5, 4), (1, 1, 7))
# (forget_bias, activation) tried by the cell update: CFCM's setting, the textbook's tanh, and two more biases
CELL_SETTINGS = ((1.0, torch.relu), (0.5, torch.tanh), (2.0, torch.relu), (0.0, torch.sigmoid))


class StepSetting(NamedTuple):
    """One cell the whole-step exercise is tried on, and how many steps it runs."""

    in_channels: int
    hidden_channels: int
    size: int
    kernel_size: int
    steps: int
    forget_bias: float
    activation: Activation


STEP_SETTINGS = (StepSetting(2, 3, 6, 3, 3, 1.0, torch.relu), StepSetting(5, 2, 5, 5, 4, 1.0, torch.relu),
                 StepSetting(3, 2, 4, 1, 3, 0.0, torch.tanh), StepSetting(1, 4, 5, 3, 2, 2.0, torch.sigmoid))


def _generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _random(generator: torch.Generator, *shape: int) -> torch.Tensor:
    return torch.randn(*shape, generator=generator)


def _name(activation: Activation) -> str:
    return f"torch.{activation.__name__}" if hasattr(activation, "__name__") else repr(activation)


def _as_tensor(value: Any, what: str, shape: tuple[int, ...]) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise AssertionError(f"{what} is a {type(value).__name__}; expected a torch.Tensor of shape {shape}.")
    if tuple(value.shape) != shape:
        raise AssertionError(f"{what} has shape {tuple(value.shape)}, expected {shape}.")
    return value.detach().float()


def _gate_reader(channels: int, forget_bias: float, activation: Activation) -> ConvLSTMCell:
    """A library ConvLSTMCell whose convolution passes its input (the four gate groups) through unchanged."""
    cell = ConvLSTMCell(4 * channels, channels, kernel_size=1, forget_bias=forget_bias, activation=activation)
    with torch.no_grad():
        cell.conv.weight.zero_()
        cell.conv.weight[:, : 4 * channels, 0, 0] = torch.eye(4 * channels)
        if cell.conv.bias is not None:
            cell.conv.bias.zero_()
    return cell.eval()


@torch.no_grad()
def _reference_step(features: torch.Tensor, cell: torch.Tensor, forget_bias: float,
                    activation: Activation) -> tuple[torch.Tensor, torch.Tensor]:
    """(new cell, new hidden) that the library's ConvLSTMCell computes from gate logits ``features``."""
    channels = cell.shape[1]
    reader = _gate_reader(channels, forget_bias, activation)
    _, (new_cell, new_hidden) = reader(features, (cell, torch.zeros_like(cell)))
    return new_cell, new_hidden


# ----------------------------------------------------------------------------------------------
# the course's version of each piece, run in place of the student's by the checks of the exercises built on it
# ----------------------------------------------------------------------------------------------
def course_split_gates(features: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """The four gate groups (i, j, f, o) of (N, 4C, H, W) features, as ConvLSTMCell splits its convolution's output."""
    if features.shape[1] % 4:
        raise ValueError(f"features must have a multiple of 4 channels (four gate groups); got {features.shape[1]}")
    return tuple(torch.chunk(features, 4, dim=1))


def course_cell_update(cell: torch.Tensor, i: torch.Tensor, j: torch.Tensor, f: torch.Tensor,
                       forget_bias: float = 1.0, activation: Activation = torch.relu) -> torch.Tensor:
    """The library cell's new cell state from the gate logits i, j and f (o plays no part in it)."""
    return _reference_step(torch.cat([i, j, f, torch.zeros_like(i)], dim=1), cell, forget_bias, activation)[0]


def course_hidden_state(new_cell: torch.Tensor, o: torch.Tensor, activation: Activation = torch.relu) -> torch.Tensor:
    """The library cell's new hidden state from the new cell and the output gate's logits o.

    With i -> -inf, j = 0 and f -> +inf the reference cell keeps ``new_cell`` as its cell and applies the output gate.
    """
    passthrough = torch.cat([torch.full_like(o, -SATURATE), torch.zeros_like(o), torch.full_like(o, SATURATE), o], 1)
    return _reference_step(passthrough, new_cell, 0.0, activation)[1]


def course_convlstm_step(conv: torch.nn.Conv2d, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor],
                         forget_bias: float = 1.0, activation: Activation = torch.relu) -> Any:
    """One step of a library ConvLSTMCell that has ``conv`` as its convolution: (hidden, (cell, hidden))."""
    hidden_channels = conv.out_channels // 4
    cell = ConvLSTMCell(conv.in_channels - hidden_channels, hidden_channels, kernel_size=conv.kernel_size[0],
                        forget_bias=forget_bias, activation=activation)
    cell.conv = conv
    return cell(x, state)


# ----------------------------------------------------------------------------------------------
# exercise 1: the gate split
# ----------------------------------------------------------------------------------------------
def _check_split_once(split_gates: Callable[[torch.Tensor], Any], seed: int, batch: int, channels: int,
                      size: int) -> None:
    shape = (batch, channels, size, size)
    # Group k filled with the value k: a wrong order shows up as the wrong constant.
    labelled = torch.cat([torch.full(shape, float(k)) for k in range(4)], dim=1)
    parts = call_learner(split_gates, labelled, exercise="split_gates",
                         call=f"split_gates(features of shape {tuple(labelled.shape)})")
    if not isinstance(parts, (tuple, list)) or len(parts) != 4:
        raise AssertionError(f"split_gates returned {type(parts).__name__}"
                             f"{' of length ' + str(len(parts)) if isinstance(parts, (tuple, list)) else ''}; "
                             "expected a tuple of four tensors (i, j, f, o).")
    for position, part in enumerate(parts):
        part = _as_tensor(part, f"split_gates(features of shape {tuple(labelled.shape)})[{position}]", shape)
        values = torch.unique(part)
        if values.numel() != 1 or int(values[0]) != position:
            found = ", ".join(GATE_ORDER[int(v)] for v in values if 0 <= int(v) < 4)
            raise AssertionError(f"split_gates(...)[{position}] should be the channels {position * channels}.."
                                 f"{(position + 1) * channels - 1}, group {GATE_ORDER[position]}, but it holds "
                                 f"channels of {found}. The convolution's 4*C channels are four consecutive groups"
                                 " of C in the order i, j, f, o: split along dim=1 into equal parts.")
    features = _random(_generator(seed), batch, 4 * channels, size, size)
    parts = call_learner(split_gates, features.clone(), exercise="split_gates", call="split_gates(random features)")
    for position, part in enumerate(parts):
        expected = features[:, position * channels:(position + 1) * channels]
        part = _as_tensor(part, f"split_gates(...)[{position}]", shape)
        if not close(part, expected):
            raise AssertionError(f"split_gates on random features: group {GATE_ORDER[position]} differs: "
                                 f"{worst_difference(part, expected)}.")
    bad = _random(_generator(seed + 1), batch, 4 * channels + 2, size, size)
    call = f"split_gates(features with {bad.shape[1]} channels)"
    outcome = refusal(split_gates, bad, exercise="split_gates", call=call)
    if outcome == "returned a result":
        raise AssertionError(f"{call} did not complain: raise ValueError when the channel count is not a multiple "
                             "of 4 (four equal groups).")
    if isinstance(outcome, str):
        raise AssertionError(f"{call} {outcome}; raise ValueError saying the channel count must be a multiple of 4.")


@exercise_check(NOTEBOOK, 1, "split the convolution's output into four groups (split_gates)", points=1,
                answers={"split_gates": course_split_gates})
def check_split_gates(split_gates: Callable[[torch.Tensor], Any], *, seed: int = 0) -> str:
    """``split_gates(features)`` must return the four channel groups (i, j, f, o) of (N, 4C, H, W) features.

    Tried on several batch sizes and channel counts; features whose channel count is not a multiple of 4
    must raise ``ValueError``.
    """
    require_defined_in_notebook(split_gates, exercise="split_gates")
    for offset, (batch, channels, size) in enumerate(SHAPES):
        _check_split_once(split_gates, seed + offset, batch, channels, size)
    shapes = ", ".join(f"{b}x{4 * c}x{s}x{s}" for b, c, s in SHAPES)
    return f"correct on features of shapes {shapes}, and a bad channel count is rejected (seed {seed})."


# ----------------------------------------------------------------------------------------------
# exercise 2: the cell update
# ----------------------------------------------------------------------------------------------
def _cell_update_advice(result: torch.Tensor, features: torch.Tensor, cell: torch.Tensor, forget_bias: float,
                        activation: Activation) -> str:
    """Name the usual slip when the learner's result matches the reference under a changed setting."""
    for bias in dict.fromkeys((forget_bias, 0.0, 1.0)):
        for other in ACTIVATIONS:
            if (bias, other) == (forget_bias, activation):
                continue
            if close(result, _reference_step(features, cell, bias, other)[0]):
                slips = []
                if bias != forget_bias:
                    slips.append(f"a forget bias of {bias:g} (add the `forget_bias` argument to f before the sigmoid, "
                                 "not a fixed number)")
                if other is not activation:
                    slips.append(f"activation={_name(other)} (apply the `activation` argument to j, not a fixed "
                                 "function)")
                return f" It matches {' and '.join(slips)}."
    i, j, f, o = torch.chunk(features, 4, dim=1)
    swapped = torch.cat([f, j, i, o], dim=1)
    if close(result, _reference_step(swapped, cell, forget_bias, activation)[0]):
        return " It looks like i and f are swapped: the forget gate multiplies the old cell, the input gate the update."
    return " Expected cell * sigmoid(f + forget_bias) + sigmoid(i) * activation(j)."


@exercise_check(NOTEBOOK, 2, "the cell update (cell_update)", points=2, answers={"cell_update": course_cell_update})
def check_cell_update(cell_update: Callable[..., Any], *, seed: int = 0) -> str:
    """``cell_update(cell, i, j, f, forget_bias, activation)`` must give the library cell's new cell state.

    Tried with every setting in ``CELL_SETTINGS`` (ReLU, tanh and sigmoid; forget biases 0 to 2).
    """
    require_defined_in_notebook(cell_update, exercise="cell_update")
    for offset, ((batch, channels, size), (forget_bias, activation)) in enumerate(zip(SHAPES * 2, CELL_SETTINGS)):
        generator = _generator(seed + offset)
        shape = (batch, channels, size, size)
        cell, i, j, f, o = (_random(generator, *shape) * 2 for _ in range(5))
        features = torch.cat([i, j, f, o], dim=1)
        expected, _ = _reference_step(features, cell, forget_bias, activation)
        call = f"cell_update(cell, i, j, f, forget_bias={forget_bias}, activation={_name(activation)})"
        result = call_learner(cell_update, cell.clone(), i.clone(), j.clone(), f.clone(), exercise="cell_update",
                              call=call, forget_bias=forget_bias, activation=activation)
        result = _as_tensor(result, call, shape)
        if not close(result, expected):
            advice = _cell_update_advice(result, features, cell, forget_bias, activation)
            raise AssertionError(f"{call} differs from the library's ConvLSTMCell: {worst_difference(result, expected)}."
                                 f"{advice}")
    settings = ", ".join(f"({bias:g}, {_name(act)})" for bias, act in CELL_SETTINGS)
    return f"correct for every (forget_bias, activation) in {settings} (seed {seed})."


# ----------------------------------------------------------------------------------------------
# exercise 3: the hidden state
# ----------------------------------------------------------------------------------------------
@exercise_check(NOTEBOOK, 3, "the hidden state (hidden_state)", points=1, answers={"hidden_state": course_hidden_state})
def check_hidden_state(hidden_state: Callable[..., Any], *, seed: int = 0) -> str:
    """``hidden_state(new_cell, o, activation)`` must give the library cell's new hidden state, for every
    activation in ``ACTIVATIONS``."""
    require_defined_in_notebook(hidden_state, exercise="hidden_state")
    for offset, ((batch, channels, size), activation) in enumerate(zip(SHAPES, ACTIVATIONS)):
        generator = _generator(seed + offset)
        shape = (batch, channels, size, size)
        new_cell, o = _random(generator, *shape) * 2, _random(generator, *shape) * 2
        expected = course_hidden_state(new_cell, o, activation)
        call = f"hidden_state(new_cell, o, activation={_name(activation)})"
        result = call_learner(hidden_state, new_cell.clone(), o.clone(), exercise="hidden_state", call=call,
                              activation=activation)
        result = _as_tensor(result, call, shape)
        if close(result, expected):
            continue
        advice = " Expected activation(new_cell) * sigmoid(o)."
        if close(result, new_cell * torch.sigmoid(o)):
            advice = " You left out the activation of the cell: apply `activation` to new_cell before gating."
        elif close(result, activation(new_cell) * o):
            advice = " The output gate needs its sigmoid: multiply by sigmoid(o), a value between 0 and 1."
        else:
            for other in ACTIVATIONS:
                if other is not activation and close(result, other(new_cell) * torch.sigmoid(o)):
                    advice = (f" It matches activation={_name(other)} (apply the `activation` argument, not a fixed "
                              "function).")
        raise AssertionError(f"{call} differs from the library's ConvLSTMCell: {worst_difference(result, expected)}."
                             f"{advice}")
    return f"correct with activation {', '.join(_name(a) for a in ACTIVATIONS)} (seed {seed})."


# ----------------------------------------------------------------------------------------------
# exercise 4: one whole step
# ----------------------------------------------------------------------------------------------
def _step_advice(result_cell: torch.Tensor, cell: ConvLSTMCell, x: torch.Tensor, state: tuple[torch.Tensor, ...],
                 forget_bias: float, activation: Activation) -> str:
    """The slip the learner's new cell matches, checked by recomputing it that way; else the recipe."""
    previous_cell, hidden = state
    with torch.no_grad():
        if (forget_bias, activation) != (1.0, torch.relu):
            if close(result_cell, course_convlstm_step(cell.conv, x, state)[1][0]):
                return (" It matches forget_bias=1.0 and activation=torch.relu, the defaults: pass this step's "
                        "`forget_bias` and `activation` on to your cell_update and hidden_state.")
        # the same number of channels in either order, so the swapped concatenation runs: does it match?
        i, j, f, _ = torch.chunk(cell.conv(torch.cat([hidden, x], dim=1)), 4, dim=1)
        swapped = previous_cell * torch.sigmoid(f + forget_bias) + torch.sigmoid(i) * activation(j)
        if close(result_cell, swapped):
            return " It matches cat([hidden, x]): concatenate the input first, torch.cat([x, hidden], dim=1)."
    return (" Expected: concatenate [x, hidden] (input first) along the channels, apply `conv` once, split into "
            "i, j, f, o, then cell_update with the previous cell from `state = (cell, hidden)`.")


def _check_step_once(convlstm_step: Callable[..., Any], seed: int, setting: StepSetting, batch: int = 2) -> None:
    in_channels, hidden_channels, size, kernel_size, steps, forget_bias, activation = setting
    torch.manual_seed(seed)
    reference = ConvLSTMCell(in_channels, hidden_channels, kernel_size=kernel_size, forget_bias=forget_bias,
                             activation=activation).eval()
    generator = _generator(seed)
    shape = (batch, hidden_channels, size, size)
    inputs = [_random(generator, batch, in_channels, size, size) for _ in range(steps)]
    start = (_random(generator, *shape), _random(generator, *shape))
    expected_state, state = start, start
    call = (f"convlstm_step(conv, x, state, forget_bias={forget_bias}, activation={_name(activation)}) "
            f"with {in_channels} input and {hidden_channels} hidden channels, kernel {kernel_size}")
    for step, x in enumerate(inputs):
        with torch.no_grad():
            expected_hidden, expected_state = reference(x, expected_state)
            result = call_learner(convlstm_step, reference.conv, x.clone(), (state[0].clone(), state[1].clone()),
                                  exercise="convlstm_step", call=call, forget_bias=forget_bias, activation=activation)
        if not (isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], (tuple, list))
                and len(result[1]) == 2):
            raise AssertionError(f"{call} returned {type(result).__name__}; expected (hidden, (cell, hidden)), "
                                 "like ConvLSTMCell.forward.")
        hidden = _as_tensor(result[0], f"{call}, step {step}: the returned hidden", shape)
        new_cell = _as_tensor(result[1][0], f"{call}, step {step}: the returned state's cell", shape)
        new_hidden = _as_tensor(result[1][1], f"{call}, step {step}: the returned state's hidden", shape)
        if close(new_cell, expected_state[1]) and close(new_hidden, expected_state[0]):
            raise AssertionError(f"{call}, step {step}: the state is (hidden, cell); return it as (cell, hidden).")
        if not close(new_cell, expected_state[0]):
            advice = _step_advice(new_cell, reference, x, state, forget_bias, activation)
            raise AssertionError(f"{call}, step {step}: the new cell differs: "
                                 f"{worst_difference(new_cell, expected_state[0])}.{advice}")
        for what, value in (("returned hidden", hidden), ("state's hidden", new_hidden)):
            if not close(value, expected_hidden):
                raise AssertionError(f"{call}, step {step}: the {what} differs: "
                                     f"{worst_difference(value, expected_hidden)}. The hidden state is "
                                     "hidden_state(new_cell, o, activation), returned twice: "
                                     "(new_hidden, (new_cell, new_hidden)).")
        state = (new_cell, new_hidden)


@exercise_check(NOTEBOOK, 4, "one whole step (convlstm_step)", points=2, answers={"convlstm_step": course_convlstm_step},
                builds_on=(check_split_gates, check_cell_update, check_hidden_state))
def check_convlstm_step(convlstm_step: Callable[..., Any], *, seed: int = 0) -> str:
    """``convlstm_step(conv, x, state, forget_bias, activation)`` must match ConvLSTMCell over several steps.

    Tried with every setting in ``STEP_SETTINGS`` (channel counts, kernel sizes 1, 3 and 5, forget biases
    0 to 2, ReLU, tanh and sigmoid). Both start from the same random state and each is fed its own state
    back; every step's hidden and cell states are compared.
    """
    require_defined_in_notebook(convlstm_step, exercise="convlstm_step")
    for offset, setting in enumerate(STEP_SETTINGS):
        _check_step_once(convlstm_step, seed + offset, setting)
    kernels = sorted({setting.kernel_size for setting in STEP_SETTINGS})
    return (f"matches ConvLSTMCell step after step in {len(STEP_SETTINGS)} settings: kernels "
            f"{', '.join(map(str, kernels))}, forget biases 0 to 2, ReLU, tanh and sigmoid (seed {seed}).")


# ---------------------------------------------------------------------------------------------- unrolling
def _unroll_slips(cell: ConvLSTMCell, inputs: list[torch.Tensor], state: tuple[torch.Tensor, torch.Tensor]
                  ) -> list[tuple[list[torch.Tensor], str]]:
    with torch.no_grad():
        restarted = [cell(x, state)[0] for x in inputs]
        outputs, _ = unroll(cell, inputs, state)
    return [(restarted, "every step starts again from the first state: feed each step the state the previous "
                        "step returned"),
            (outputs[::-1], "the outputs come in reverse order: append them as the steps run")]


@exercise_check(NOTEBOOK, 5, "run the memory over a sequence (unroll)", points=2, builds_on=(check_convlstm_step,))
def check_unroll(unroll_answer: Callable[..., Any], *, seed: int = 0) -> str:
    """``unroll(cell, inputs, state)`` must give ``course_lib.nn.unroll``'s outputs and final state."""
    require_defined_in_notebook(unroll_answer, exercise="unroll")
    generator = _generator(seed)
    settings = ((2, 3, 5, 4), (1, 2, 4, 1), (3, 1, 6, 3))
    for in_channels, hidden, size, steps in settings:
        torch.manual_seed(seed + steps)
        cell = ConvLSTMCell(in_channels, hidden)
        with torch.no_grad():
            cell.conv.bias.normal_(generator=generator)
        inputs = [_random(generator, 2, in_channels, size, size) for _ in range(steps)]
        state = (_random(generator, 2, hidden, size, size), _random(generator, 2, hidden, size, size))
        call = f"unroll(ConvLSTMCell({in_channels}, {hidden}), {steps} inputs of shape (2, {in_channels}, {size}, {size}))"
        with torch.no_grad():
            result = call_learner(unroll_answer, cell, list(inputs), state, exercise="unroll", call=call)
            expected_outputs, expected_state = unroll(cell, inputs, state)
        if not (isinstance(result, (tuple, list)) and len(result) == 2):
            raise AssertionError(f"{call} returned {describe(result)}; return a pair (outputs, final_state): the "
                                 "list of every step's hidden output and the last (cell, hidden).")
        outputs, final = result
        if not isinstance(outputs, (list, tuple)) or len(outputs) != steps:
            raise AssertionError(f"{call}: the outputs are {describe(outputs)}; give a list with every step's hidden "
                                 f"output ({steps} here), not only the last.")
        if not all(isinstance(o, torch.Tensor) and close(o, e) for o, e in zip(outputs, expected_outputs)):
            slip = next((advice for slipped, advice in _unroll_slips(cell, inputs, state)
                         if all(isinstance(o, torch.Tensor) and close(o, s) for o, s in zip(outputs, slipped))), "")
            first = next(i for i, (o, e) in enumerate(zip(outputs, expected_outputs))
                         if not (isinstance(o, torch.Tensor) and close(o, e)))
            raise AssertionError(f"{call}: step {first + 1}'s output differs from the reference."
                                 + (f" It looks like {slip}." if slip else " Call cell(x, state) for each input in "
                                                                         "order and keep the state it returns."))
        if not (isinstance(final, (tuple, list)) and len(final) == 2
                and all(isinstance(t, torch.Tensor) and close(t, e) for t, e in zip(final, expected_state))):
            raise AssertionError(f"{call}: the outputs are right but the final state is {describe(final)}, not the last "
                                 "step's (cell, hidden): return the state the last call of cell(x, state) gave.")
    instead = refusal(unroll_answer, ConvLSTMCell(1, 1), [], ConvLSTMCell(1, 1).zero_state(torch.zeros(1, 1, 2, 2)),
                      exercise="unroll", call="unroll(cell, [], state)")
    if isinstance(instead, str):
        raise AssertionError(f"unroll(cell, [], state) {instead}; a sequence without steps has no output: raise "
                             "ValueError.")
    return (f"matches course_lib.nn.unroll (every output and the final state) in {len(settings)} settings, and refuses "
            f"an empty sequence (seed {seed}).")


# ---------------------------------------------------------------------------------------------- counting weights
@exercise_check(NOTEBOOK, 6, "what the memory costs in weights (convlstm_parameters)", points=1)
def check_convlstm_parameters(convlstm_parameters: Callable[[int, int, int], int], *, seed: int = 0) -> str:
    """``convlstm_parameters(in_channels, hidden_channels, kernel_size)`` must count ConvLSTMCell's parameters."""
    require_defined_in_notebook(convlstm_parameters, exercise="convlstm_parameters")
    generator = _generator(seed)
    cases = [(64, 64, 3), (1, 1, 1), (3, 8, 5)]
    cases += [tuple(int(v) for v in torch.randint(1, 40, (2,), generator=generator)) + (int(k),)
              for k in torch.tensor([1, 3, 5, 7])[torch.randint(0, 4, (4,), generator=generator)]]
    for in_channels, hidden, kernel in cases:
        call = f"convlstm_parameters({in_channels}, {hidden}, {kernel})"
        result = call_learner(convlstm_parameters, in_channels, hidden, kernel, exercise="convlstm_parameters",
                              call=call)
        with torch.device("meta"):
            expected = sum(p.numel() for p in ConvLSTMCell(in_channels, hidden, kernel).parameters())
        if not isinstance(result, Integral) or isinstance(result, bool):
            raise AssertionError(f"{call} returned {describe(result)}; a count of weights is an int ({expected}).")
        if result != expected:
            weights = (in_channels + hidden) * kernel * kernel
            slips = {4 * hidden * weights: "forgot the 4 * hidden biases",
                     hidden * (weights + 1): "counted one gate: the convolution gives 4 * hidden channels, i, j, f "
                                             "and o",
                     4 * hidden * (in_channels * kernel * kernel + 1): "left out the hidden state: the convolution "
                                                                       "reads cat([x, h]), in + hidden channels"}
            slip = slips.get(result, "")
            raise AssertionError(f"{call} returned {result:,}; the cell has {expected:,} parameters."
                                 + (f" You {slip}." if slip else " Count the one convolution's weights and biases."))
    return f"counts ConvLSTMCell's parameters in {len(cases)} settings (seed {seed})."
