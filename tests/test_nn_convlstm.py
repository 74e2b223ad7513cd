"""ConvLSTMCell follows the lab's equations, checked against a plain numpy computation."""

import numpy as np
import pytest
import torch

from course_lib.nn import ConvLSTMCell, convlstm, unroll


def _sigmoid(v: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-v))


def _numpy_conv_same(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """Cross-correlation with zero 'same' padding: x (N, Cin, H, W), weight (Cout, Cin, k, k)."""
    n, _, h, w = x.shape
    k = weight.shape[-1]
    pad = k // 2
    padded = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((n, weight.shape[0], h, w)) + bias[None, :, None, None]
    for dy in range(k):
        for dx in range(k):
            patch = padded[:, :, dy:dy + h, dx:dx + w]
            out += np.einsum("nchw,oc->nohw", patch, weight[:, :, dy, dx])
    return out


@pytest.mark.parametrize("activation,np_activation,forget_bias",
                         [(torch.relu, lambda v: np.maximum(v, 0.0), 1.0), (torch.tanh, np.tanh, 0.5)])
def test_step_matches_numpy_equations(activation, np_activation, forget_bias):
    torch.manual_seed(0)
    cell = ConvLSTMCell(3, 2, kernel_size=3, forget_bias=forget_bias, activation=activation).double()
    with torch.no_grad():
        cell.conv.bias.normal_()
    x, c, h = torch.randn(2, 3, 5, 6).double(), torch.randn(2, 2, 5, 6).double(), torch.randn(2, 2, 5, 6).double()
    with torch.no_grad():
        out, (new_c, new_h) = cell(x, (c, h))
    features = _numpy_conv_same(np.concatenate([x.numpy(), h.numpy()], axis=1), cell.conv.weight.detach().numpy(),
                                cell.conv.bias.detach().numpy())
    i, j, f, o = np.split(features, 4, axis=1)
    expected_c = c.numpy() * _sigmoid(f + forget_bias) + _sigmoid(i) * np_activation(j)
    expected_h = np_activation(expected_c) * _sigmoid(o)
    np.testing.assert_allclose(new_c.numpy(), expected_c, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(new_h.numpy(), expected_h, rtol=1e-10, atol=1e-10)
    assert torch.equal(out, new_h)


def test_layout_zero_state_and_unroll():
    cell = ConvLSTMCell(3, 4)
    assert cell.conv.in_channels == 7 and cell.conv.out_channels == 16 and cell.conv.bias is not None
    inputs = [torch.randn(2, 3, 8, 8) for _ in range(3)]
    state = cell.zero_state(inputs[0])
    assert all(s.shape == (2, 4, 8, 8) and not s.any() for s in state)
    outputs, (c, h) = unroll(cell, inputs, state)
    assert len(outputs) == 3 and torch.equal(outputs[-1], h)
    manual = state
    for x in inputs:
        _, manual = cell(x, manual)
    torch.testing.assert_close(manual[0], c)


def test_bad_shapes_are_refused():
    cell = ConvLSTMCell(3, 4)
    x = torch.randn(2, 3, 8, 8)
    with pytest.raises(ValueError, match="3 channels"):
        cell(torch.randn(2, 5, 8, 8), cell.zero_state(x))
    with pytest.raises(ValueError, match="state cell must have shape"):
        cell(x, (torch.zeros(2, 3, 8, 8), torch.zeros(2, 4, 8, 8)))
    with pytest.raises(ValueError, match="4-D"):
        cell(torch.randn(3, 8, 8), cell.zero_state(x))
    with pytest.raises(ValueError, match="empty"):
        unroll(cell, [], cell.zero_state(x))


def test_the_step_is_the_four_functions_and_a_cell_computes_with_the_ones_it_is_given():
    torch.manual_seed(0)
    cell = ConvLSTMCell(3, 2)
    x, state = torch.randn(2, 3, 5, 5), (torch.randn(2, 2, 5, 5), torch.randn(2, 2, 5, 5))
    expected = cell(x, state)
    i, j, f, o = convlstm.split_gates(cell.conv(torch.cat([x, state[1]], dim=1)))
    new_cell = convlstm.cell_update(state[0], i, j, f)
    torch.testing.assert_close(new_cell, expected[1][0])
    torch.testing.assert_close(convlstm.hidden_state(new_cell, o), expected[0])
    calls = []

    def step(conv, x, state, forget_bias, activation):  # another implementation of the same step, counted
        calls.append("step")
        return convlstm.convlstm_step(conv, x, state, forget_bias=forget_bias, activation=activation)

    def split(features):
        calls.append("split")
        return tuple(torch.chunk(features, 4, dim=1))

    cell.step, cell.split = step, split
    torch.testing.assert_close(cell(x, state), expected)
    cell.gates(x, state)
    assert calls == ["step", "split"]
    with pytest.raises(ValueError, match="multiple of 4"):
        convlstm.split_gates(torch.zeros(1, 6, 2, 2))
