"""Checks for notebook 3's exercises: the gate split, the cell update, the hidden state and one whole step.

The reference is ``course_lib.nn.ConvLSTMCell``. To grade the cell update and the hidden state on their
own, the checks build a reference cell whose convolution is a 1x1 identity on the input (and zero on the
hidden state): fed the four gate groups as its input, it applies exactly the library's equations to them.
Inputs are random from a fixed seed, so a grade is reproducible. A failure raises ``AssertionError``
saying which case differs, how, and the likely fix; a success prints one line; nothing goes to stderr.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from course_lib.grading.core import call_learner, passed, quiet, require_defined_in_notebook
from course_lib.nn import ConvLSTMCell

__all__ = ["check_split_gates", "check_cell_update", "check_hidden_state", "check_convlstm_step"]

GATE_ORDER = ("i (input gate)", "j (update)", "f (forget gate)", "o (output gate)")
Activation = Callable[[torch.Tensor], torch.Tensor]
# sigmoid(+-SATURATE) is 1 or 0 to float32 precision: used to make the reference cell pass its state through.
SATURATE = 60.0


def _generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _random(generator: torch.Generator, *shape: int) -> torch.Tensor:
    return torch.randn(*shape, generator=generator)


def _as_tensor(value: Any, what: str, shape: tuple[int, ...]) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise AssertionError(f"{what} is a {type(value).__name__}; expected a torch.Tensor of shape {shape}.")
    if tuple(value.shape) != shape:
        raise AssertionError(f"{what} has shape {tuple(value.shape)}, expected {shape}.")
    return value.detach().float()


def _close(actual: torch.Tensor, expected: torch.Tensor) -> bool:
    return bool(torch.allclose(actual, expected, rtol=1e-4, atol=1e-5))


def _worst(actual: torch.Tensor, expected: torch.Tensor) -> str:
    difference = (actual - expected).abs()
    position = tuple(int(index) for index in torch.unravel_index(torch.argmax(difference), difference.shape))
    return (f"the largest difference is {float(difference.max()):.4g} at index {position} "
            f"(yours {float(actual[position]):.4g}, expected {float(expected[position]):.4g})")


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
    hidden, (new_cell, new_hidden) = reader(features, (cell, torch.zeros_like(cell)))
    return new_cell, new_hidden


# ----------------------------------------------------------------------------------------------
# exercise 1: the gate split
# ----------------------------------------------------------------------------------------------
def check_split_gates(split_gates: Callable[[torch.Tensor], Any], *, seed: int = 0, batch: int = 2,
                      channels: int = 3, size: int = 5) -> None:
    """``split_gates(features)`` must return the four channel groups (i, j, f, o) of (N, 4C, H, W) features.

    Also checks that features whose channel count is not a multiple of 4 raise ``ValueError``.
    """
    require_defined_in_notebook(split_gates)
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
        part = _as_tensor(part, f"split_gates(...)[{position}]", shape)
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
        if not _close(part, expected):
            raise AssertionError(f"split_gates on random features: group {GATE_ORDER[position]} differs: "
                                 f"{_worst(part, expected)}.")
    bad = _random(_generator(seed + 1), batch, 4 * channels + 2, size, size)
    try:
        with quiet():
            split_gates(bad)
    except ValueError:
        pass
    except Exception as error:  # noqa: BLE001
        raise AssertionError(f"split_gates(features with {bad.shape[1]} channels) raised {type(error).__name__}; "
                             "raise ValueError saying the channel count must be a multiple of 4.") from None
    else:
        raise AssertionError(f"split_gates(features with {bad.shape[1]} channels) did not complain: raise "
                             "ValueError when the channel count is not a multiple of 4 (four equal groups).")
    passed(f"split_gates: correct (seed {seed}, {batch}x{4 * channels}x{size}x{size}, bad channel count rejected).")


# ----------------------------------------------------------------------------------------------
# exercise 2: the cell update
# ----------------------------------------------------------------------------------------------
def check_cell_update(cell_update: Callable[..., Any], *, seed: int = 0, batch: int = 2, channels: int = 3,
                      size: int = 5, forget_bias: float = 1.0, activation: Activation = torch.relu) -> None:
    """``cell_update(cell, i, j, f, forget_bias, activation)`` must give the library cell's new cell state."""
    require_defined_in_notebook(cell_update)
    generator = _generator(seed)
    shape = (batch, channels, size, size)
    cell, i, j, f, o = (_random(generator, *shape) * 2 for _ in range(5))
    features = torch.cat([i, j, f, o], dim=1)
    expected, _ = _reference_step(features, cell, forget_bias, activation)
    call = f"cell_update(cell, i, j, f, forget_bias={forget_bias}, activation={_name(activation)})"
    result = call_learner(cell_update, cell.clone(), i.clone(), j.clone(), f.clone(), exercise="cell_update",
                          call=call, forget_bias=forget_bias, activation=activation)
    result = _as_tensor(result, call, shape)
    if _close(result, expected):
        passed(f"cell_update: correct (seed {seed}, forget_bias={forget_bias}, activation={_name(activation)}).")
        return
    advice = _cell_update_advice(result, features, cell, forget_bias, activation)
    raise AssertionError(f"{call} differs from the library's ConvLSTMCell: {_worst(result, expected)}.{advice}")


def _cell_update_advice(result: torch.Tensor, features: torch.Tensor, cell: torch.Tensor, forget_bias: float,
                        activation: Activation) -> str:
    """Name the usual slip when the learner's result matches the reference under a changed setting."""
    if forget_bias != 0 and _close(result, _reference_step(features, cell, 0.0, activation)[0]):
        return " It matches a forget bias of 0: add forget_bias to f before the sigmoid."
    for other in (torch.relu, torch.tanh, torch.sigmoid):
        if other is not activation and _close(result, _reference_step(features, cell, forget_bias, other)[0]):
            return (f" It matches activation={_name(other)}: apply the `activation` argument to j, "
                    "not a fixed function.")
    i, j, f, o = torch.chunk(features, 4, dim=1)
    swapped = torch.cat([f, j, i, o], dim=1)
    if _close(result, _reference_step(swapped, cell, forget_bias, activation)[0]):
        return " It looks like i and f are swapped: the forget gate multiplies the old cell, the input gate the update."
    return (" Expected cell * sigmoid(f + forget_bias) + sigmoid(i) * activation(j).")


# ----------------------------------------------------------------------------------------------
# exercise 3: the hidden state
# ----------------------------------------------------------------------------------------------
def check_hidden_state(hidden_state: Callable[..., Any], *, seed: int = 0, batch: int = 2, channels: int = 3,
                       size: int = 5, activation: Activation = torch.relu) -> None:
    """``hidden_state(new_cell, o, activation)`` must give the library cell's new hidden state."""
    require_defined_in_notebook(hidden_state)
    generator = _generator(seed)
    shape = (batch, channels, size, size)
    new_cell, o = _random(generator, *shape) * 2, _random(generator, *shape) * 2
    # i -> -inf, j = 0, f -> +inf: the reference cell keeps ``new_cell`` as its cell and applies the output gate.
    passthrough = torch.cat([torch.full(shape, -SATURATE), torch.zeros(shape), torch.full(shape, SATURATE), o], 1)
    kept_cell, expected = _reference_step(passthrough, new_cell, 0.0, activation)
    assert _close(kept_cell, new_cell), "internal: the pass-through reference cell changed its state"
    call = f"hidden_state(new_cell, o, activation={_name(activation)})"
    result = call_learner(hidden_state, new_cell.clone(), o.clone(), exercise="hidden_state", call=call,
                          activation=activation)
    result = _as_tensor(result, call, shape)
    if _close(result, expected):
        passed(f"hidden_state: correct (seed {seed}, activation={_name(activation)}).")
        return
    advice = " Expected activation(new_cell) * sigmoid(o)."
    if _close(result, new_cell * torch.sigmoid(o)):
        advice = " You left out the activation of the cell: apply `activation` to new_cell before gating."
    elif _close(result, activation(new_cell) * o):
        advice = " The output gate needs its sigmoid: multiply by sigmoid(o), a value between 0 and 1."
    raise AssertionError(f"{call} differs from the library's ConvLSTMCell: {_worst(result, expected)}.{advice}")


# ----------------------------------------------------------------------------------------------
# exercise 4: one whole step
# ----------------------------------------------------------------------------------------------
def check_convlstm_step(convlstm_step: Callable[..., Any], *, seed: int = 0, batch: int = 2, in_channels: int = 2,
                        hidden_channels: int = 3, size: int = 6, kernel_size: int = 3, steps: int = 3,
                        forget_bias: float = 1.0, activation: Activation = torch.relu) -> None:
    """``convlstm_step(conv, x, state, forget_bias, activation)`` over ``steps`` steps must match ConvLSTMCell.

    Both start from the same random state and each is fed its own state back; every step's hidden and
    cell states are compared.
    """
    require_defined_in_notebook(convlstm_step)
    torch.manual_seed(seed)
    reference = ConvLSTMCell(in_channels, hidden_channels, kernel_size=kernel_size, forget_bias=forget_bias,
                             activation=activation).eval()
    generator = _generator(seed)
    shape = (batch, hidden_channels, size, size)
    inputs = [_random(generator, batch, in_channels, size, size) for _ in range(steps)]
    start = (_random(generator, *shape), _random(generator, *shape))
    expected_state, state = start, start
    call = (f"convlstm_step(conv, x, state, forget_bias={forget_bias}, activation={_name(activation)}) "
            f"with {in_channels} input and {hidden_channels} hidden channels")
    for step, x in enumerate(inputs):
        with torch.no_grad():
            expected_hidden, expected_state = reference(x, expected_state)
            result = call_learner(convlstm_step, reference.conv, x.clone(), (state[0].clone(), state[1].clone()),
                                  exercise="convlstm_step", call=call, forget_bias=forget_bias, activation=activation)
        if not (isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], (tuple, list))
                and len(result[1]) == 2):
            raise AssertionError(f"{call} returned {type(result).__name__}; expected (hidden, (cell, hidden)), "
                                 "like ConvLSTMCell.forward.")
        hidden = _as_tensor(result[0], f"step {step}: the returned hidden", shape)
        new_cell = _as_tensor(result[1][0], f"step {step}: the returned state's cell", shape)
        new_hidden = _as_tensor(result[1][1], f"step {step}: the returned state's hidden", shape)
        if _close(new_cell, expected_state[1]) and _close(new_hidden, expected_state[0]):
            raise AssertionError(f"step {step}: the state is (hidden, cell); return it as (cell, hidden).")
        if not _close(new_cell, expected_state[0]):
            raise AssertionError(f"step {step}: the new cell differs: {_worst(new_cell, expected_state[0])}. "
                                 "Concatenate [x, hidden] in that order (input first) along the channels, apply "
                                 "`conv` once, then use your split_gates and cell_update with the previous cell "
                                 "from `state = (cell, hidden)`.")
        for what, value in (("returned hidden", hidden), ("state's hidden", new_hidden)):
            if not _close(value, expected_hidden):
                raise AssertionError(f"step {step}: the {what} differs: {_worst(value, expected_hidden)}.")
        state = (new_cell, new_hidden)
    passed(f"convlstm_step: matches ConvLSTMCell over {steps} steps (seed {seed}, kernel {kernel_size}, "
          f"forget_bias={forget_bias}, activation={_name(activation)}).")


def _name(activation: Activation) -> str:
    return f"torch.{activation.__name__}" if hasattr(activation, "__name__") else repr(activation)
