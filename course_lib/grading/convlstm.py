"""Checks for notebook 3's exercises: the gate split, the cell update, the hidden state, one step, a sequence, the cost.

The reference is ``course_lib.nn.ConvLSTMCell``. To grade the cell update and the hidden state on their
own, the checks build a reference cell whose convolution is a 1x1 identity on the input (and zero on the
hidden state): fed the four gate groups as its input, it applies exactly the library's equations to them.
Every check tries every setting that is graded: several shapes, activations (ReLU, tanh, sigmoid) and
forget biases; the hidden tests run the same checks with other seeds. Five exercises are declarations
(``grading.declare``: cases, slips, refusals); the whole step keeps a hook, as it feeds each step's state to the next.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import torch

from course_lib.grading.core import call_learner, close, worst_difference
from course_lib.grading.declare import INT, Case, Declaration, Output, Slip, declare, tensors
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
def _split_cases(seed: int) -> list[Case]:
    """Per shape: features whose group k is filled with k (a wrong order shows as the wrong constant), then random."""
    cases = []
    for offset, (batch, channels, size) in enumerate(SHAPES):
        shape = (batch, channels, size, size)
        labelled = torch.cat([torch.full(shape, float(k)) for k in range(4)], dim=1)
        cases += [Case(f"split_gates(features of shape {tuple(labelled.shape)})", (labelled,)),
                  Case("split_gates(random features)", (_random(_generator(seed + offset), batch, 4 * channels, size,
                                                                size),))]
    return cases


def _four(parts: Any) -> tuple[torch.Tensor, ...]:
    if not isinstance(parts, (tuple, list)) or len(parts) != 4:
        raise TypeError(type(parts).__name__)
    return tuple(tensors().read(part) for part in parts)


def _which_group(got: tuple[torch.Tensor, ...], want: tuple[torch.Tensor, ...]) -> str:
    position = next(k for k, (a, b) in enumerate(zip(got, want)) if not close(a, b))
    if torch.unique(want[position]).numel() == 1:  # the labelled features: say whose channels it holds
        found = ", ".join(GATE_ORDER[int(v)] for v in torch.unique(got[position]) if 0 <= int(v) < 4)
        return f"gives as [{position}] what holds channels of {found or 'no group'}, not {GATE_ORDER[position]}"
    return f"gives as group {GATE_ORDER[position]} other values: {worst_difference(got[position], want[position])}"


check_split_gates = declare(Declaration(
    NOTEBOOK, 1, "split the convolution's output into the four groups (split_gates)", 1, "split_gates",
    reference=course_split_gates, cases=_split_cases,
    output=Output("a tuple of four tensors (i, j, f, o)", _four, lambda got, want: all(map(close, got, want)),
                  lambda parts: tuple(tuple(part.shape) for part in parts), _which_group),
    hints={"values": lambda got, want: ("A group holds channels of another: the convolution's 4*C channels are four "
                                        "consecutive groups of C in the order i, j, f, o: split along dim=1 into "
                                        "equal parts.") if torch.unique(want[0]).numel() == 1 else
           "Split along dim=1 into four equal parts, in the order i, j, f, o."},
    refuse=lambda seed: [Case(f"split_gates(features with {4 * c + 2} channels)",
                              (_random(_generator(seed + 1), b, 4 * c + 2, s, s),)) for b, c, s in SHAPES],
    refuse_advice=lambda instead: "it did not complain: raise ValueError when the channel count is not a multiple of "
    "4 (four equal groups)." if instead == "returned a result" else "raise ValueError saying the channel count must "
    "be a multiple of 4.",
    answers={"split_gates": course_split_gates},
    success="correct on features of shapes 2x12x5x5, 3x20x4x4, 1x4x7x7, and a bad channel count is rejected "
            "(seed {seed})."))


# ----------------------------------------------------------------------------------------------
# exercises 2 and 3: the cell update, the hidden state
# ----------------------------------------------------------------------------------------------
def _gate_cases(name: str, seed: int, settings: tuple, groups: int) -> list[Case]:
    """``groups`` random tensors per case, with each of ``settings`` (forget_bias, activation) in turn."""
    cases = []
    for offset, ((batch, channels, size), (forget_bias, activation)) in enumerate(zip(SHAPES * 2, settings)):
        generator = _generator(seed + offset)
        tensors_ = tuple(_random(generator, batch, channels, size, size) * 2 for _ in range(groups))
        given = {"activation": activation} if forget_bias is None else {"forget_bias": forget_bias,
                                                                         "activation": activation}
        words = ", ".join(f"{key}={_name(value) if callable(value) else value}" for key, value in given.items())
        cases.append(Case(f"{name}({', '.join(CALLED[name])}, {words})", tensors_, given))
    return cases


CALLED = {"cell_update": ("cell", "i", "j", "f"), "hidden_state": ("new_cell", "o")}
BIAS_SLIP = "a forget bias of {:g} (add the `forget_bias` argument to f before the sigmoid, not a fixed number)"
ACTIVATION_SLIP = "activation={} (apply the `activation` argument to j, not a fixed function)"


def _fixed(bias: float | None, fixed: Activation | None) -> Slip:
    """The slip of a cell update with a fixed forget bias and/or a fixed activation (None: the argument's)."""
    said = ([BIAS_SLIP.format(bias)] if bias is not None else []) + \
        ([ACTIVATION_SLIP.format(_name(fixed))] if fixed is not None else [])

    def variant(cell: torch.Tensor, i: torch.Tensor, j: torch.Tensor, f: torch.Tensor, forget_bias: float,
                activation: Activation) -> torch.Tensor | None:
        if bias in (None, forget_bias) and fixed in (None, activation):
            return None  # this setting is the slip's own: it gives the reference's output
        return course_cell_update(cell, i, j, f, forget_bias if bias is None else bias, fixed or activation)
    return Slip(f"It matches {' and '.join(said)}.", variant)


check_cell_update = declare(Declaration(
    NOTEBOOK, 2, "the cell update (cell_update)", 2, "cell_update", reference=course_cell_update,
    cases=lambda seed: _gate_cases("cell_update", seed, CELL_SETTINGS, 4), output=tensors(),
    slips=(*[_fixed(bias, fixed) for bias in (None, 0.0, 1.0) for fixed in (None, *ACTIVATIONS)
             if (bias, fixed) != (None, None)],
           Slip("It looks like i and f are swapped: the forget gate multiplies the old cell, the input gate the update.",
                lambda cell, i, j, f, **setting: course_cell_update(cell, f, j, i, **setting))),
    hints={"values": "Expected cell * sigmoid(f + forget_bias) + sigmoid(i) * activation(j)."},
    answers={"cell_update": course_cell_update},
    success="correct for every (forget_bias, activation) in (1, torch.relu), (0.5, torch.tanh), (2, torch.relu), "
            "(0, torch.sigmoid) (seed {seed})."))

check_hidden_state = declare(Declaration(
    NOTEBOOK, 3, "the hidden state (hidden_state)", 1, "hidden_state", reference=course_hidden_state,
    cases=lambda seed: _gate_cases("hidden_state", seed, tuple((None, a) for a in ACTIVATIONS), 2), output=tensors(),
    slips=(Slip("You left out the activation of the cell: apply `activation` to new_cell before gating.",
                lambda new_cell, o, activation: new_cell * torch.sigmoid(o)),
           Slip("The output gate needs its sigmoid: multiply by sigmoid(o), a value between 0 and 1.",
                lambda new_cell, o, activation: activation(new_cell) * o),
           *[Slip(f"It matches activation={_name(other)} (apply the `activation` argument, not a fixed function).",
                  lambda new_cell, o, activation, other=other: None if other is activation
                  else other(new_cell) * torch.sigmoid(o)) for other in ACTIVATIONS]),
    hints={"values": "Expected activation(new_cell) * sigmoid(o)."},
    answers={"hidden_state": course_hidden_state},
    success="correct with activation torch.relu, torch.tanh, torch.sigmoid (seed {seed})."))


# ----------------------------------------------------------------------------------------------
# exercise 4: one whole step (a hook: each step is fed the state the previous one returned)
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


def _steps(convlstm_step: Callable[..., Any], *, seed: int) -> str:
    for offset, setting in enumerate(STEP_SETTINGS):
        _check_step_once(convlstm_step, seed + offset, setting)
    return (f"matches ConvLSTMCell step after step in {len(STEP_SETTINGS)} settings: kernels 1, 3, 5, forget biases "
            f"0 to 2, ReLU, tanh and sigmoid (seed {seed}).")


check_convlstm_step = declare(Declaration(
    NOTEBOOK, 4, "one whole step (convlstm_step)", 2, "convlstm_step", hook=_steps,
    answers={"convlstm_step": course_convlstm_step},
    builds_on=(check_split_gates, check_cell_update, check_hidden_state)))


# ---------------------------------------------------------------------------------------------- unrolling
def _unroll_cases(seed: int) -> list[Case]:
    generator = _generator(seed)
    cases = []
    for in_channels, hidden, size, steps in ((2, 3, 5, 4), (1, 2, 4, 1), (3, 1, 6, 3)):
        torch.manual_seed(seed + steps)
        cell = ConvLSTMCell(in_channels, hidden).requires_grad_(False)
        cell.conv.bias.normal_(generator=generator)
        inputs = [_random(generator, 2, in_channels, size, size) for _ in range(steps)]
        state = (_random(generator, 2, hidden, size, size), _random(generator, 2, hidden, size, size))
        cases.append(Case(f"unroll(ConvLSTMCell({in_channels}, {hidden}), {steps} inputs of shape (2, {in_channels}, "
                          f"{size}, {size}))", (cell, inputs, state)))
    return cases


def _sequence(result: Any) -> tuple[list[torch.Tensor], tuple[torch.Tensor, ...]]:
    outputs, final = result
    if not isinstance(outputs, (list, tuple)) or not isinstance(final, (list, tuple)) or len(final) != 2:
        raise TypeError(type(outputs).__name__)
    return [tensors().read(o) for o in outputs], tuple(tensors().read(t) for t in final)


def _same_sequence(got: tuple, want: tuple) -> bool:
    return all(map(close, got[0], want[0])) and all(map(close, got[1], want[1]))


def _which_step(got: tuple, want: tuple) -> str:
    first = next((i for i, (o, e) in enumerate(zip(*(got[0], want[0]))) if not close(o, e)), None)
    return "gives the right outputs but another final state" if first is None else \
        f"gives at step {first + 1} an output other than the reference's"


def _last_output_only(raw: Any, want: Any) -> str:
    return ("The outputs are one tensor: give a list with every step's hidden output, not only the last."
            if isinstance(raw, (tuple, list)) and raw and not isinstance(raw[0], (list, tuple)) else
            "Return a pair (outputs, final_state): the list of every step's hidden output and the last (cell, hidden).")


def _unroll_variant(cell: ConvLSTMCell, inputs: list, state: tuple, restart: bool) -> tuple:
    """What a loop that restarts every step from the first state, or one that reverses the outputs, returns."""
    if restart:
        return [cell(x, state)[0] for x in inputs], cell(inputs[-1], state)[1]
    outputs, final = unroll(cell, inputs, state)
    return outputs[::-1], final


check_unroll = declare(Declaration(
    NOTEBOOK, 5, "run the memory over a sequence (unroll)", 2, "unroll", reference=unroll, cases=_unroll_cases,
    output=Output("a pair (outputs, final_state)", _sequence, _same_sequence,
                  lambda value: len(value[0]), _which_step),
    slips=(Slip("It looks like every step starts again from the first state: feed each step the state the previous "
                "step returned.", lambda cell, inputs, state: _unroll_variant(cell, inputs, state, True)),
           Slip("It looks like the outputs come in reverse order: append them as the steps run.",
                lambda cell, inputs, state: _unroll_variant(cell, inputs, state, False))),
    hints={"kind": _last_output_only, "shape": "Give a list with every step's hidden output, not only the last.",
           "values": lambda got, want: "Return the final state the last call of cell(x, state) gave, (cell, hidden)."
           if all(map(close, got[0], want[0])) else "Call cell(x, state) for each input in order and keep the state "
           "it returns."},
    refuse=lambda seed: [Case("unroll(cell, [], state)", (ConvLSTMCell(1, 1), [], ConvLSTMCell(1, 1).zero_state(
        torch.zeros(1, 1, 2, 2))))],
    refuse_advice="a sequence without steps has no output: raise ValueError.",
    builds_on=(check_convlstm_step,),
    success="matches course_lib.nn.unroll (every output and the final state) in {n} settings, and refuses an empty "
            "sequence (seed {seed})."))


# ---------------------------------------------------------------------------------------------- counting weights
def _parameter_cases(seed: int) -> list[Case]:
    generator = _generator(seed)
    cases = [(64, 64, 3), (1, 1, 1), (3, 8, 5)]
    cases += [tuple(int(v) for v in torch.randint(1, 40, (2,), generator=generator)) + (int(k),)
              for k in torch.tensor([1, 3, 5, 7])[torch.randint(0, 4, (4,), generator=generator)]]
    return [Case(f"convlstm_parameters({i}, {h}, {k})", (i, h, k)) for i, h, k in cases]


def _cell_parameters(in_channels: int, hidden: int, kernel: int) -> int:
    with torch.device("meta"):
        return sum(p.numel() for p in ConvLSTMCell(in_channels, hidden, kernel).parameters())


check_convlstm_parameters = declare(Declaration(
    NOTEBOOK, 6, "what the memory costs in weights (convlstm_parameters)", 1, "convlstm_parameters",
    reference=_cell_parameters, cases=_parameter_cases, output=INT,
    slips=(Slip("You forgot the 4 * hidden biases.", lambda i, h, k: 4 * h * (i + h) * k * k),
           Slip("You counted one gate: the convolution gives 4 * hidden channels, i, j, f and o.",
                lambda i, h, k: h * ((i + h) * k * k + 1)),
           Slip("You left out the hidden state: the convolution reads cat([x, h]), in + hidden channels.",
                lambda i, h, k: 4 * h * (i * k * k + 1))),
    hints={"kind": "A count of weights is an int.", "values": "Count the one convolution's weights and biases."},
    success="counts ConvLSTMCell's parameters in {n} settings (seed {seed})."))
