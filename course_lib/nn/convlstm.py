"""The convolutional LSTM cell that CFCM uses as its memory, with the lab's equations.

One convolution over ``cat([x, h])`` gives 4*C channels, split in the order i, j, f, o::

    c' = c * sigmoid(f + forget_bias) + sigmoid(i) * act(j)
    h' = act(c') * sigmoid(o)

The lab passes ``act = ReLU`` for CFCM (its cell's own default was tanh). The step is written as the four
functions notebook 3 has students write (``split_gates``, ``cell_update``, ``hidden_state``, ``convlstm_step``),
and a cell computes with the ones in its ``step`` and ``split`` attributes, so that notebook 3 can run a trained
cell with a student's own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import torch
from torch import nn

from course_lib.nn.blocks import check_features, conv_same

__all__ = ["ConvLSTMCell", "Gates", "unroll", "State", "split_gates", "cell_update", "hidden_state", "convlstm_step",
           "Step"]

State = tuple[torch.Tensor, torch.Tensor]  # (cell, hidden), each (N, C, H, W)
Activation = Callable[[torch.Tensor], torch.Tensor]
# convlstm_step's signature: (conv, x, state, forget_bias=..., activation=...) -> (new_hidden, (new_cell, new_hidden))
Step = Callable[..., tuple[torch.Tensor, State]]


class Gates(NamedTuple):
    """One step's four maps after their nonlinearities, each (N, C, H, W): what the explorer shows."""

    input: torch.Tensor   # sigmoid(i): how much of the update is let in
    update: torch.Tensor  # act(j): the proposed new content
    forget: torch.Tensor  # sigmoid(f + forget_bias): how much of the old cell is kept
    output: torch.Tensor  # sigmoid(o): how much of the activated cell becomes the output


def split_gates(features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """The four consecutive channel groups (i, j, f, o) of the convolution's (N, 4C, H, W) output, each (N, C, H, W)."""
    if features.shape[1] % 4:
        raise ValueError(f"split_gates: the features need a multiple of 4 channels (groups i, j, f, o), got "
                         f"{features.shape[1]}")
    i, j, f, o = torch.chunk(features, 4, dim=1)
    return i, j, f, o


def cell_update(cell: torch.Tensor, i: torch.Tensor, j: torch.Tensor, f: torch.Tensor, forget_bias: float = 1.0,
                activation: Activation = torch.relu) -> torch.Tensor:
    """The new cell state ``cell * sigmoid(f + forget_bias) + sigmoid(i) * activation(j)``."""
    return cell * torch.sigmoid(f + forget_bias) + torch.sigmoid(i) * activation(j)


def hidden_state(new_cell: torch.Tensor, o: torch.Tensor, activation: Activation = torch.relu) -> torch.Tensor:
    """The new hidden state ``activation(new_cell) * sigmoid(o)``: read out of the new cell by the output gate."""
    return activation(new_cell) * torch.sigmoid(o)


def convlstm_step(conv: nn.Module, x: torch.Tensor, state: State, forget_bias: float = 1.0,
                  activation: Activation = torch.relu) -> tuple[torch.Tensor, State]:
    """One step from ``state`` = (cell, hidden) on input ``x``: ``(new_hidden, (new_cell, new_hidden))``.

    ``conv`` maps ``cat([x, hidden])`` to the four gate groups; the three functions above do the rest.
    """
    cell, hidden = state
    i, j, f, o = split_gates(conv(torch.cat([x, hidden], dim=1)))
    new_cell = cell_update(cell, i, j, f, forget_bias=forget_bias, activation=activation)
    new_hidden = hidden_state(new_cell, o, activation=activation)
    return new_hidden, (new_cell, new_hidden)


class ConvLSTMCell(nn.Module):
    """One ConvLSTM step: ``forward(x, (cell, hidden)) -> (hidden', (cell', hidden'))``.

    x: (N, in_channels, H, W); cell and hidden: (N, hidden_channels, H, W). Weights start
    Glorot-uniform with zero biases, as the lab's ``tf.get_variable`` defaults. ``step`` (a function like
    :func:`convlstm_step`) and ``split`` (like :func:`split_gates`) are what it computes with; replace them to run
    the same weights through other code of the same meaning (notebook 3 runs a student's).
    """

    def __init__(self, in_channels: int, hidden_channels: int, kernel_size: int = 3, forget_bias: float = 1.0,
                 activation: Activation = torch.relu) -> None:
        super().__init__()
        self.in_channels, self.hidden_channels = in_channels, hidden_channels
        self.forget_bias = forget_bias
        self.activation = activation
        self.conv = conv_same(in_channels + hidden_channels, 4 * hidden_channels, kernel_size)
        nn.init.xavier_uniform_(self.conv.weight)
        nn.init.zeros_(self.conv.bias)
        self.step: Step = convlstm_step
        self.split: Callable[[torch.Tensor], tuple[torch.Tensor, ...]] = split_gates

    def zero_state(self, x: torch.Tensor) -> State:
        """All-zero (cell, hidden) matching the batch, size, dtype and device of input ``x`` (N, C_in, H, W)."""
        check_features(x, self.in_channels, "ConvLSTMCell.zero_state(x)")
        n, _, h, w = x.shape
        zeros = x.new_zeros(n, self.hidden_channels, h, w)
        return zeros, zeros.clone()

    def _check(self, x: torch.Tensor, state: State) -> None:
        check_features(x, self.in_channels, "ConvLSTMCell input x")
        if not isinstance(state, (tuple, list)) or len(state) != 2:
            raise ValueError("ConvLSTMCell: state must be a pair (cell, hidden); use cell.zero_state(x) to start")
        expected = (x.shape[0], self.hidden_channels, x.shape[2], x.shape[3])
        for name, tensor in zip(("cell", "hidden"), state):
            if tuple(tensor.shape) != expected:
                raise ValueError(f"ConvLSTMCell: state {name} must have shape {expected} to match x "
                                 f"{tuple(x.shape)}, got {tuple(tensor.shape)}")

    def gates(self, x: torch.Tensor, state: State) -> Gates:
        """The four gates of the step from ``state`` = (cell, hidden) on input ``x``: one convolution of
        ``cat([x, hidden])`` split into i, j, f, o, each through its nonlinearity."""
        self._check(x, state)
        i, j, f, o = self.split(self.conv(torch.cat([x, state[1]], dim=1)))
        return Gates(torch.sigmoid(i), self.activation(j), torch.sigmoid(f + self.forget_bias), torch.sigmoid(o))

    def forward(self, x: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        self._check(x, state)
        return self.step(self.conv, x, state, forget_bias=self.forget_bias, activation=self.activation)

    def extra_repr(self) -> str:
        name = getattr(self.activation, "__name__", repr(self.activation))
        return f"forget_bias={self.forget_bias}, activation={name}"


def unroll(cell: ConvLSTMCell, inputs: Sequence[torch.Tensor], state: State) -> tuple[list[torch.Tensor], State]:
    """Run ``cell`` over the sequence ``inputs`` (each (N, C_in, H, W)) from ``state``.

    Returns the hidden output of every step and the final (cell, hidden), like TF's ``static_rnn``.
    """
    if len(inputs) == 0:
        raise ValueError("unroll: inputs is empty; give at least one (N, C_in, H, W) step")
    outputs = []
    for x in inputs:
        output, state = cell(x, state)
        outputs.append(output)
    return outputs, state
