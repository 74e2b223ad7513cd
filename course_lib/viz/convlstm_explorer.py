"""Look inside a ConvLSTM cell while it reads a sequence: its gates, cell and hidden maps, one step at a time.

Notebook 3 steps a cell through the block outputs of one encoder stage. In a live notebook
`explore_convlstm` returns an ipywidgets panel (a slider over the steps, a channel menu and the
figure, redrawn as PNG so it works with the default inline backend and without ipympl), shown after a
picture of its first view so that exported and graded copies still show it; where widgets cannot be
shown at all (no ipywidgets, no kernel) it returns a static figure of every step instead. ipywidgets is
imported only inside the functions that need it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from matplotlib.figure import Figure

from course_lib.nn import ConvLSTMCell, unroll
from course_lib.viz.notebook import PanelWithPicture, figure_png, widgets_usable

# What each map is called in the figures, in the order the step figure shows them.
STEP_PANELS = (
    ("inputs", "input $x_t$\n(mean over channels)"),
    ("previous_hidden", "previous hidden $h_{t-1}$"),
    ("previous_cell", "previous cell $c_{t-1}$"),
    ("forget_gate", "forget gate $\\sigma(f + b)$"),
    ("input_gate", "input gate $\\sigma(i)$"),
    ("update", "update $act(j)$"),
    ("output_gate", "output gate $\\sigma(o)$"),
    ("cell", "new cell $c_t$"),
    ("hidden", "new hidden $h_t$"),
)
SEQUENCE_COLUMNS = ("inputs", "forget_gate", "input_gate", "update", "output_gate", "cell", "hidden")
GATES = ("forget_gate", "input_gate", "output_gate")
# Colour, marker and line style of each gate's curve: the style alone tells them apart in greyscale.
GATE_STYLES = {"forget_gate": ("tab:red", "o", "-"), "input_gate": ("tab:green", "s", "--"),
               "output_gate": ("tab:purple", "^", ":")}
SHORT_NAMES = {
    "inputs": "input $x_t$", "forget_gate": "forget gate", "input_gate": "input gate", "update": "update",
    "output_gate": "output gate", "cell": "cell $c_t$", "hidden": "hidden $h_t$",
}


@dataclass(frozen=True)
class ConvLSTMTrace:
    """What one ConvLSTM cell computed over a sequence for one sample, detached on the CPU.

    ``inputs`` has shape (T, C_in, H, W); every other field (T, C, H, W) for T steps and the
    cell's C hidden channels. Gates are after their sigmoid, ``update`` after the activation.
    ``previous_cell`` / ``previous_hidden`` are the states each step started from.
    """

    inputs: torch.Tensor
    previous_cell: torch.Tensor
    previous_hidden: torch.Tensor
    input_gate: torch.Tensor
    update: torch.Tensor
    forget_gate: torch.Tensor
    output_gate: torch.Tensor
    cell: torch.Tensor
    hidden: torch.Tensor

    @property
    def steps(self) -> int:
        return int(self.hidden.shape[0])

    @property
    def channels(self) -> int:
        return int(self.hidden.shape[1])

    def map(self, name: str, step: int, channel: int) -> np.ndarray:
        """The 2-D map ``name`` at ``step`` for hidden ``channel``; the input is averaged over its channels."""
        values = getattr(self, name)[step]
        if name == "inputs":
            return values.mean(dim=0).numpy()
        return values[channel].numpy()

    def active_channels(self) -> list[int]:
        """Hidden channels ordered by how much their hidden map varies over space and steps, busiest first."""
        spread = self.hidden.transpose(0, 1).flatten(1).std(dim=1)
        return [int(index) for index in torch.argsort(spread, descending=True)]


def _as_sequence(inputs: torch.Tensor | Sequence[torch.Tensor], sample: int) -> list[torch.Tensor]:
    """Turn (T, N, C, H, W), (T, C, H, W) or a list of (N, C, H, W) / (C, H, W) into a list of (1, C, H, W)."""
    if isinstance(inputs, torch.Tensor):
        if inputs.dim() not in (4, 5):
            raise ValueError(f"inputs: expected a (T, C, H, W) or (T, N, C, H, W) tensor, got shape "
                             f"{tuple(inputs.shape)}")
        inputs = list(inputs)
    steps = list(inputs)
    if not steps:
        raise ValueError("inputs: the sequence is empty; pass at least one (N, C, H, W) feature map")
    sequence = []
    for index, step in enumerate(steps):
        if step.dim() == 3:
            step = step.unsqueeze(0)
        if step.dim() != 4:
            raise ValueError(f"inputs[{index}]: expected (N, C, H, W) or (C, H, W), got shape {tuple(step.shape)}")
        if not 0 <= sample < step.shape[0]:
            raise ValueError(f"sample={sample} is out of range for inputs[{index}] with batch size {step.shape[0]}")
        sequence.append(step[sample:sample + 1])
    return sequence


@torch.no_grad()
def trace_convlstm(cell: ConvLSTMCell, inputs: torch.Tensor | Sequence[torch.Tensor],
                   state: tuple[torch.Tensor, torch.Tensor] | None = None, sample: int = 0,
                   run: Callable[..., Any] = unroll) -> ConvLSTMTrace:
    """Run ``cell`` (a ``course_lib.nn.ConvLSTMCell``) over ``inputs`` and record every intermediate map.

    ``inputs``: a sequence of T feature maps (N, C_in, H, W) (or one (T, [N,] C_in, H, W) tensor);
    only batch element ``sample`` is traced. ``state``: (cell, hidden), each (N, C, H, W); zeros if None.
    The cell computes everything itself: its gates with ``cell.gates``, its new state with ``cell(x, state)``;
    ``run(cell, inputs, state)`` (``course_lib.nn.unroll``, or notebook 3's own) carries the state along the sequence.
    """
    if not isinstance(cell, ConvLSTMCell):
        raise TypeError(f"cell: expected a course_lib.nn.ConvLSTMCell, got {type(cell).__name__}")
    sequence = _as_sequence(inputs, sample)
    if state is None:
        state = cell.zero_state(sequence[0])
    else:
        state = (state[0][sample:sample + 1], state[1][sample:sample + 1])
    records: dict[str, list[torch.Tensor]] = {name: [] for name in ConvLSTMTrace.__dataclass_fields__}

    def recorded_step(x: torch.Tensor, previous: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, Any]:
        gates = cell.gates(x, previous)
        records["inputs"].append(x[0])
        records["previous_cell"].append(previous[0][0])
        records["previous_hidden"].append(previous[1][0])
        for name, value in zip(("input_gate", "update", "forget_gate", "output_gate"), gates):
            records[name].append(value[0])
        output, new = cell(x, previous)
        records["cell"].append(new[0][0])
        records["hidden"].append(new[1][0])
        return output, new

    run(recorded_step, sequence, state)
    if len(records["hidden"]) != len(sequence):
        raise ValueError(f"run stepped the cell {len(records['hidden'])} times over a sequence of {len(sequence)}: "
                         "it must call cell(x, state) once per input, in order")
    return ConvLSTMTrace(**{name: torch.stack(maps).float().cpu() for name, maps in records.items()})


def _value_ranges(trace: ConvLSTMTrace, channel: int) -> dict[str, tuple[float, float]]:
    """One colour range per kind of map, fixed over all steps so that moving the slider shows real change.

    Gates span the values they take (an untrained cell's gates hardly move away from 0.5 and 0.73, which a
    0..1 scale would show as flat colour; the colour bars and the mean-gate plot give the absolute values).
    Cell, hidden and update maps span 0..max when they never go negative (a ReLU cell), else a range
    symmetric around 0.
    """
    ranges: dict[str, tuple[float, float]] = {}
    for gate in GATES:
        values = getattr(trace, gate)[:, channel]
        low, high = float(values.min()), float(values.max())
        margin = max(1e-3, 0.05 * (high - low))  # a flat gate still gets a readable colour bar
        ranges[gate] = (max(0.0, low - margin), min(1.0, high + margin))
    inputs = trace.inputs.mean(dim=1)
    low, high = float(inputs.min()), float(inputs.max())
    ranges["inputs"] = (low, high if high > low else low + 1.0)
    groups = {("previous_cell", "cell"): trace.cell, ("previous_hidden", "hidden"): trace.hidden,
              ("update",): trace.update}
    for names, values in groups.items():
        values = values[:, channel]
        limit = float(values.abs().max()) or 1.0
        span = (0.0, limit) if float(values.min()) >= 0 else (-limit, limit)
        for name in names:
            ranges[name] = span
    return ranges


def _colormap(name: str, span: tuple[float, float]) -> str:
    if name == "inputs":
        return "gray"
    if name in GATES:
        return "viridis"
    return "magma" if span[0] >= 0 else "RdBu_r"


def _check_step_channel(trace: ConvLSTMTrace, step: int, channel: int) -> None:
    if not 0 <= step < trace.steps:
        raise ValueError(f"step={step} is out of range: this trace has steps 0..{trace.steps - 1}")
    if not 0 <= channel < trace.channels:
        raise ValueError(f"channel={channel} is out of range: the cell has channels 0..{trace.channels - 1}")


def draw_step(trace: ConvLSTMTrace, step: int, channel: int = 0) -> Figure:
    """One step of the cell for one hidden channel: what came in, the gates, and the new cell and hidden maps."""
    _check_step_channel(trace, step, channel)
    ranges = _value_ranges(trace, channel)
    figure = Figure(figsize=(13, 6.2), layout="constrained")
    grid = figure.subplot_mosaic([["inputs", "previous_hidden", "previous_cell", "forget_gate", "means"],
                                  ["input_gate", "update", "output_gate", "cell", "hidden"]])
    for name, title in STEP_PANELS:
        axis = grid[name]
        low, high = ranges[name]
        image = axis.imshow(trace.map(name, step, channel), cmap=_colormap(name, ranges[name]), vmin=low, vmax=high)
        axis.set_title(title, fontsize=10)
        axis.set_xticks([])
        axis.set_yticks([])
        figure.colorbar(image, ax=axis, shrink=0.8)
    axis = grid["means"]
    for gate in GATES:
        colour, marker, line = GATE_STYLES[gate]
        means = getattr(trace, gate)[:, channel].mean(dim=(1, 2)).numpy()
        axis.plot(range(trace.steps), means, marker=marker, linestyle=line, color=colour, label=gate.replace("_", " "))
    axis.axvline(step, color="grey", linewidth=4, alpha=0.3)
    axis.set_ylim(0, 1)
    axis.set_xticks(range(trace.steps))
    axis.set_xlabel("step t")
    axis.set_title("mean gate value per step", fontsize=10)
    axis.legend(fontsize=8, loc="lower left")
    figure.suptitle(f"ConvLSTM step t = {step} of {trace.steps - 1}, hidden channel {channel}", fontsize=13)
    return figure


def draw_sequence(trace: ConvLSTMTrace, channel: int = 0) -> Figure:
    """Every step at once for one hidden channel (rows: steps; columns: input, gates, update, cell, hidden)."""
    _check_step_channel(trace, 0, channel)
    ranges = _value_ranges(trace, channel)
    columns = len(SEQUENCE_COLUMNS)
    figure = Figure(figsize=(1.9 * columns, 1.9 * trace.steps + 1.1), layout="constrained")
    axes = figure.subplots(trace.steps, columns, squeeze=False)
    for step in range(trace.steps):
        for column, name in enumerate(SEQUENCE_COLUMNS):
            axis = axes[step, column]
            low, high = ranges[name]
            image = axis.imshow(trace.map(name, step, channel), cmap=_colormap(name, ranges[name]), vmin=low,
                                vmax=high)
            if step == trace.steps - 1:
                figure.colorbar(image, ax=axes[:, column], location="bottom", shrink=0.85, aspect=12)
            axis.set_xticks([])
            axis.set_yticks([])
            if step == 0:
                axis.set_title(SHORT_NAMES[name], fontsize=10)
            if column == 0:
                axis.set_ylabel(f"t = {step}", fontsize=10)
    figure.suptitle(f"The ConvLSTM over all {trace.steps} steps, hidden channel {channel}\n"
                    "(one colour scale per column, the same for every step)", fontsize=11)
    return figure


def build_explorer(trace: ConvLSTMTrace, channel: int | None = None, dpi: int = 80) -> PanelWithPicture:
    """The ipywidgets panel: a step slider, a channel menu (busiest channels first) and the step figure.

    The figure is an ``ipywidgets.Image`` holding a PNG that is redrawn whenever a control changes; the
    panel comes with a picture of its first view (step 0, the chosen channel).
    """
    import ipywidgets as widgets

    order = trace.active_channels()
    channel = order[0] if channel is None else channel
    _check_step_channel(trace, 0, channel)
    options = [(f"{index}" + (" (busiest)" if rank == 0 else ""), index) for rank, index in enumerate(order)]
    step_slider = widgets.IntSlider(value=0, min=0, max=trace.steps - 1, step=1, description="step t",
                                    continuous_update=False, layout=widgets.Layout(width="420px"))
    channel_menu = widgets.Dropdown(options=options, value=channel, description="channel")
    image = widgets.Image(format="png", layout=widgets.Layout(width="100%", max_width="1040px"))

    def redraw(_change: object = None) -> None:
        image.value = figure_png(draw_step(trace, step_slider.value, channel_menu.value), dpi=dpi)

    step_slider.observe(redraw, names="value")
    channel_menu.observe(redraw, names="value")
    redraw()
    panel = widgets.VBox([widgets.HBox([step_slider, channel_menu]), image])
    return PanelWithPicture(panel, picture=image.value)


def explore_convlstm(trace: ConvLSTMTrace, channel: int | None = None, interactive: bool | None = None) -> Any:
    """The explorer where widgets work (``interactive=None`` decides), else the static all-steps figure.

    Display the result (make it the last expression of a cell). ``channel`` None picks the busiest one.
    """
    if interactive is None:
        interactive = widgets_usable()
    if interactive:
        return build_explorer(trace, channel)
    return draw_sequence(trace, trace.active_channels()[0] if channel is None else channel)
