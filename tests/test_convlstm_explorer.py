"""The ConvLSTM explorer: the trace agrees with the cell, the figures draw, the widget redraws when moved."""

from __future__ import annotations

import pytest
import torch
from matplotlib.figure import Figure

from course_lib.nn import ConvLSTMCell, unroll
from course_lib.viz.convlstm_explorer import (ConvLSTMTrace, build_explorer, draw_sequence, draw_step,
                                              explore_convlstm, trace_convlstm)
from course_lib.viz.notebook import figure_png, widgets_usable

STEPS, IN_CHANNELS, HIDDEN, SIZE = 4, 3, 5, 9


@pytest.fixture(scope="module")
def cell_and_inputs() -> tuple[ConvLSTMCell, list[torch.Tensor]]:
    torch.manual_seed(0)
    cell = ConvLSTMCell(IN_CHANNELS, HIDDEN, kernel_size=3).eval()
    inputs = [torch.randn(2, IN_CHANNELS, SIZE, SIZE) for _ in range(STEPS)]
    return cell, inputs


@pytest.fixture(scope="module")
def trace(cell_and_inputs) -> ConvLSTMTrace:
    cell, inputs = cell_and_inputs
    return trace_convlstm(cell, inputs, sample=1)


def test_trace_states_are_the_cells_own(cell_and_inputs, trace):
    cell, inputs = cell_and_inputs
    with torch.no_grad():
        outputs, (last_cell, last_hidden) = unroll(cell, inputs, cell.zero_state(inputs[0]))
    assert trace.steps == STEPS and trace.channels == HIDDEN
    assert trace.inputs.shape == (STEPS, IN_CHANNELS, SIZE, SIZE)
    for name in ("previous_cell", "previous_hidden", "input_gate", "update", "forget_gate", "output_gate", "cell",
                 "hidden"):
        assert getattr(trace, name).shape == (STEPS, HIDDEN, SIZE, SIZE), name
    torch.testing.assert_close(trace.hidden, torch.stack([output[1] for output in outputs]))
    torch.testing.assert_close(trace.cell[-1], last_cell[1])
    torch.testing.assert_close(trace.hidden[-1], last_hidden[1])
    assert torch.count_nonzero(trace.previous_cell[0]) == 0  # the zero start state
    torch.testing.assert_close(trace.previous_cell[1:], trace.cell[:-1])


def test_trace_gates_explain_the_cells_update(trace):
    for gate in (trace.input_gate, trace.forget_gate, trace.output_gate):
        assert float(gate.min()) >= 0.0 and float(gate.max()) <= 1.0
    rebuilt = trace.previous_cell * trace.forget_gate + trace.input_gate * trace.update
    torch.testing.assert_close(rebuilt, trace.cell)
    torch.testing.assert_close(torch.relu(trace.cell) * trace.output_gate, trace.hidden)


def test_trace_accepts_a_stacked_tensor_and_a_start_state(cell_and_inputs):
    cell, inputs = cell_and_inputs
    state = (torch.randn(2, HIDDEN, SIZE, SIZE), torch.randn(2, HIDDEN, SIZE, SIZE))
    from_list = trace_convlstm(cell, inputs, state=state)
    from_tensor = trace_convlstm(cell, torch.stack(inputs), state=state)
    torch.testing.assert_close(from_list.hidden, from_tensor.hidden)
    torch.testing.assert_close(from_list.previous_cell[0], state[0][0])


def test_bad_inputs_are_refused_with_a_reason(cell_and_inputs, trace):
    cell, inputs = cell_and_inputs
    with pytest.raises(TypeError, match="ConvLSTMCell"):
        trace_convlstm(torch.nn.Conv2d(1, 1, 1), inputs)
    with pytest.raises(ValueError, match="empty"):
        trace_convlstm(cell, [])
    with pytest.raises(ValueError, match="sample=5"):
        trace_convlstm(cell, inputs, sample=5)
    with pytest.raises(ValueError, match="steps 0..3"):
        draw_step(trace, STEPS)
    with pytest.raises(ValueError, match="channels 0..4"):
        draw_sequence(trace, channel=HIDDEN)


def test_figures_show_every_map(trace):
    step_figure = draw_step(trace, 2, channel=1)
    assert isinstance(step_figure, Figure)
    titles = " ".join(axis.get_title() for axis in step_figure.axes)
    for word in ("forget gate", "input gate", "output gate", "update", "new cell", "new hidden", "previous"):
        assert word in titles
    sequence_figure = draw_sequence(trace, channel=0)
    images = [axis for axis in sequence_figure.axes if axis.images]
    assert len(images) == STEPS * 7
    assert figure_png(step_figure)[:8] == b"\x89PNG\r\n\x1a\n"


def test_busiest_channel_comes_first(trace):
    order = trace.active_channels()
    assert sorted(order) == list(range(HIDDEN))
    spreads = [float(trace.hidden[:, channel].std()) for channel in order]
    assert spreads == sorted(spreads, reverse=True)


def test_the_widget_redraws_when_the_slider_or_channel_moves(trace):
    pytest.importorskip("ipywidgets")
    shown = build_explorer(trace, channel=0)
    controls, image = shown.panel.children
    slider, menu = controls.children
    assert (slider.min, slider.max, slider.value) == (0, STEPS - 1, 0)
    first = image.value
    assert first[:4] == b"\x89PNG"
    assert shown.picture == first, "the static picture is the panel's first view"
    slider.value = STEPS - 1
    moved = image.value
    assert moved != first
    menu.value = trace.active_channels()[-1] if trace.active_channels()[-1] != 0 else trace.active_channels()[0]
    assert image.value != moved


def test_without_a_kernel_the_explorer_is_a_static_figure(trace):
    assert not widgets_usable()  # pytest runs without a Jupyter kernel
    result = explore_convlstm(trace)
    assert isinstance(result, Figure)
    assert len([axis for axis in result.axes if axis.images]) == STEPS * 7


def test_the_trace_steps_through_the_unroll_it_is_given(cell_and_inputs, trace):
    cell, inputs = cell_and_inputs
    calls = []

    def counting_unroll(step, xs, state):
        calls.append(len(xs))
        return unroll(step, xs, state)

    again = trace_convlstm(cell, inputs, sample=1, run=counting_unroll)
    assert calls == [STEPS] and torch.equal(again.hidden, trace.hidden) and torch.equal(again.cell, trace.cell)
    with pytest.raises(ValueError, match="once per input"):
        trace_convlstm(cell, inputs, run=lambda step, xs, state: unroll(step, xs[:1], state))
