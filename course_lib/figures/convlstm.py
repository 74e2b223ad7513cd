"""The ConvLSTM figures: the cell, the cell unrolled over two steps, and the seven-step walk
through one update. All of them are one drawing (``draw_cell``) in different styles (parts muted, labels off).

The cell follows ``course_lib.nn.ConvLSTMCell``: one convolution over ``cat([x, h])`` gives
4C channels split in the order i, j, f, o; ``c' = c * sigmoid(f + forget_bias) + sigmoid(i) * act(j)``
and ``h' = act(c') * sigmoid(o)``.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from course_lib.figures.drawing import SMALL_FONT_SIZE, Canvas, Point
from course_lib.figures.model_facts import CellFacts
from course_lib.figures.palette import (
    CELL_COLOUR,
    GATE_COLOURS,
    GATE_NAMES,
    HIDDEN_COLOUR,
    INPUT_COLOUR,
    OPERATION_COLOUR,
    PANEL_COLOUR,
    PANEL_EDGE_COLOUR,
)

CELL_WIDTH = 16.0  # diagram units one cell occupies, entry to exit
CELL_HEIGHT = 9.0
Y_CELL, Y_HIDDEN = 8.0, 1.9  # heights of the cell-state lane and the hidden-state lane
GATE_ORDER = ("i", "j", "f", "o")  # the order the convolution's channels are split in
GATE_COLUMNS = {"f": 6.2, "i": 7.6, "j": 8.8, "o": 11.2}  # where each gate's signal rises
Y_NONLINEARITY = 4.1
OP_RADIUS = 0.28

# Which parts each step of the walk-through brings forward.
PARTS = ("x_in", "h_in", "c_in", "cat", "conv", "split", "gate_i", "gate_j", "gate_f", "gate_o",
         "forget", "input", "sum", "c_out", "relu_c", "output", "h_out")
STEPS: tuple[tuple[str, str, frozenset[str]], ...] = (
    ("Step 1: concatenate and convolve",
     "x and h are stacked along the channels and convolved into 4C = {C4} feature channels",
     frozenset({"x_in", "h_in", "cat", "conv"})),
    ("Step 2: split into i, j, f, o",
     "the 4C channels are cut into four groups of C = {C} channels, in the order i, j, f, o",
     frozenset({"conv", "split"})),
    ("Step 3: gates",
     "i, f and o pass a sigmoid (values in [0, 1]; f gets +{bias:g} first); the update j passes {act}",
     frozenset({"gate_i", "gate_j", "gate_f", "gate_o"})),
    ("Step 4: forget",
     "the cell state is multiplied by the forget gate: values near 0 erase, near 1 keep",
     frozenset({"c_in", "gate_f", "forget"})),
    ("Step 5: input",
     "the input gate decides how much of the update signal j may enter the cell",
     frozenset({"gate_i", "gate_j", "input"})),
    ("Step 6: sum into the new cell",
     "kept memory plus gated update gives the new cell state",
     frozenset({"forget", "input", "sum", "c_out"})),
    ("Step 7: new hidden state",
     "the output gate picks what of {act}(new cell) becomes the new hidden state, the cell's output",
     frozenset({"c_out", "relu_c", "gate_o", "output", "h_out"})),
)


@dataclass(frozen=True)
class CellStyle:
    """How one drawing of the cell looks: which parts are in colour (names from ``PARTS``; None = all), the times
    before and after the step, whether channel counts and gate names are shown, whether the entries are labelled
    (off for a cell whose inputs are the previous cell's labelled outputs)."""

    active: Collection[str] | None = None
    step: tuple[str, str] = ("t", "t+1")
    detailed: bool = True
    label_entries: bool = True


class _CellDrawing:
    """Draws the parts of one cell onto a canvas, each method one stage of the step, in drawing order."""

    def __init__(self, canvas: Canvas, facts: CellFacts, origin: Point, style: CellStyle) -> None:
        unknown = set(style.active or ()) - set(PARTS)
        if unknown:
            raise ValueError(f"unknown cell parts {sorted(unknown)}; choose from {PARTS}")
        self.canvas, self.facts, self.origin, self.style = canvas, facts, origin, style
        self.top = Y_NONLINEARITY + 0.3  # where the gates' signals leave their non-linearities

    def at(self, x: float, y: float) -> Point:
        return (self.origin[0] + x, self.origin[1] + y)

    def muted(self, part: str) -> bool:
        return self.style.active is not None and part not in self.style.active

    def inputs(self) -> None:
        """The cell's outline, then x_t from below, h_t and c_t from the left."""
        canvas, at, muted, before = self.canvas, self.at, self.muted, self.style.step[0]
        canvas.box(at(7.4, 4.75), 12.4, 7.3, colour=PANEL_COLOUR, rounded=True, edge=PANEL_EDGE_COLOUR,
                   linewidth=1.0, zorder=0.5)
        canvas.arrow([at(1.8, 0.1), at(1.8, Y_HIDDEN - 0.35)], colour=INPUT_COLOUR, muted=muted("x_in"), width=2.2)
        canvas.text(at(2.05, 0.45), f"$x_{{{before}}}$", ha="left", muted=muted("x_in"), colour=INPUT_COLOUR)
        canvas.arrow([at(0.0, Y_HIDDEN), at(1.35, Y_HIDDEN)], colour=HIDDEN_COLOUR, muted=muted("h_in"), width=2.2)
        if self.style.label_entries:
            canvas.text(at(0.25, Y_HIDDEN + 0.35), f"$h_{{{before}}}$", ha="left", muted=muted("h_in"),
                        colour=HIDDEN_COLOUR)
        canvas.arrow([at(0.0, Y_CELL), at(GATE_COLUMNS["f"] - OP_RADIUS, Y_CELL)], colour=CELL_COLOUR,
                     muted=muted("c_in"), width=2.6)
        if self.style.label_entries:
            canvas.text(at(0.25, Y_CELL + 0.35), f"$c_{{{before}}}$", ha="left", muted=muted("c_in"),
                        colour=CELL_COLOUR)

    def convolution(self) -> None:
        """Concatenate, convolve, split into the four groups i, j, f, o."""
        canvas, at, muted, facts = self.canvas, self.at, self.muted, self.facts
        canvas.box(at(1.8, Y_HIDDEN), 0.9, 0.7, "cat", colour="white", muted=muted("cat"), size=SMALL_FONT_SIZE)
        canvas.arrow([at(2.25, Y_HIDDEN), at(2.7, Y_HIDDEN)], muted=muted("conv"))
        conv_label = f"conv {facts.kernel_size}×{facts.kernel_size}"
        if self.style.detailed:
            conv_label += f"\n{facts.conv_in_channels}→{facts.conv_out_channels}"
        canvas.box(at(3.65, Y_HIDDEN), 1.9, 1.05, conv_label, colour=OPERATION_COLOUR, muted=muted("conv"),
                   size=SMALL_FONT_SIZE)
        canvas.arrow([at(4.6, Y_HIDDEN), at(4.98, Y_HIDDEN)], muted=muted("conv"))
        segment = 0.75
        for index, gate in enumerate(GATE_ORDER):
            centre_x = 5.0 + segment * (index + 0.5)
            canvas.box(at(centre_x, Y_HIDDEN), segment, 0.8, gate, colour=GATE_COLOURS[gate], rounded=False,
                       muted=muted("split"), weight="bold", text_colour="white")
            canvas.arrow([at(centre_x, Y_HIDDEN + 0.4), at(GATE_COLUMNS[gate], 3.45),
                          at(GATE_COLUMNS[gate], Y_NONLINEARITY - 0.3)],
                         colour=GATE_COLOURS[gate], muted=muted("split"), width=1.4, head=False)
        if self.style.detailed:
            canvas.text(at(6.5, Y_HIDDEN - 0.65), f"4 × {facts.hidden_channels} channels", size=SMALL_FONT_SIZE,
                        muted=muted("split"))

    def gates(self) -> None:
        """Non-linearities: sigmoid for the gates, the cell's activation for the update; the gates' names."""
        canvas, at, muted = self.canvas, self.at, self.muted
        labels = {"i": "σ", "j": self.facts.activation, "f": f"σ(·+{self.facts.forget_bias:g})", "o": "σ"}
        widths = {"i": 0.7, "j": 0.95, "f": 1.25, "o": 0.7}
        for gate in GATE_ORDER:
            canvas.box(at(GATE_COLUMNS[gate], Y_NONLINEARITY), widths[gate], 0.6, labels[gate],
                       colour=GATE_COLOURS[gate], muted=muted(f"gate_{gate}"), text_colour="white",
                       size=SMALL_FONT_SIZE, weight="bold")
        name_spots = {"f": (-0.12, 6.4, "right"), "i": (0.12, 5.0, "left"), "j": (0.12, 5.0, "left"),
                      "o": (0.12, 4.95, "left")}
        for gate, (dx, y, align) in (name_spots.items() if self.style.detailed else ()):
            canvas.text(at(GATE_COLUMNS[gate] + dx, y), GATE_NAMES[gate].replace(" ", "\n"), size=SMALL_FONT_SIZE,
                        ha=align, colour=GATE_COLOURS[gate], muted=muted(f"gate_{gate}"))

    def new_cell(self) -> None:
        """Forget (c * f), input (i * act(j)), and their sum: the new cell state."""
        canvas, at, muted, top = self.canvas, self.at, self.muted, self.top
        fx = GATE_COLUMNS["f"]
        canvas.arrow([at(fx, top), at(fx, Y_CELL - OP_RADIUS)], colour=GATE_COLOURS["f"], muted=muted("gate_f"))
        canvas.operator(at(fx, Y_CELL), "×", muted=muted("forget"))
        ix, jx, y_input = GATE_COLUMNS["i"], GATE_COLUMNS["j"], 5.8
        canvas.arrow([at(ix, top), at(ix, y_input), at(jx - OP_RADIUS, y_input)], colour=GATE_COLOURS["i"],
                     muted=muted("gate_i"))
        canvas.arrow([at(jx, top), at(jx, y_input - OP_RADIUS)], colour=GATE_COLOURS["j"], muted=muted("gate_j"))
        canvas.operator(at(jx, y_input), "×", muted=muted("input"))
        canvas.arrow([at(fx + OP_RADIUS, Y_CELL), at(jx - OP_RADIUS, Y_CELL)], colour=CELL_COLOUR,
                     muted=muted("forget"), width=2.6)
        canvas.arrow([at(jx, y_input + OP_RADIUS), at(jx, Y_CELL - OP_RADIUS)], muted=muted("input"))
        canvas.operator(at(jx, Y_CELL), "+", muted=muted("sum"))
        canvas.arrow([at(jx + OP_RADIUS, Y_CELL), at(CELL_WIDTH, Y_CELL)], colour=CELL_COLOUR, muted=muted("c_out"),
                     width=2.6)
        canvas.text(at(CELL_WIDTH - 0.25, Y_CELL + 0.35), f"$c_{{{self.style.step[1]}}}$", ha="right",
                    muted=muted("c_out"), colour=CELL_COLOUR)

    def new_hidden(self) -> None:
        """The new hidden state: act(c') * o, leaving along the hidden lane."""
        canvas, at, muted, top = self.canvas, self.at, self.muted, self.top
        ox_, y_output = GATE_COLUMNS["o"], 5.6
        canvas.arrow([at(ox_, Y_CELL), at(ox_, 7.2)], colour=CELL_COLOUR, muted=muted("relu_c"))
        canvas.box(at(ox_, 6.9), 0.95, 0.6, self.facts.activation, colour=OPERATION_COLOUR, muted=muted("relu_c"),
                   size=SMALL_FONT_SIZE)
        canvas.arrow([at(ox_, 6.6), at(ox_, y_output + OP_RADIUS)], muted=muted("relu_c"))
        canvas.arrow([at(ox_, top), at(ox_, y_output - OP_RADIUS)], colour=GATE_COLOURS["o"], muted=muted("gate_o"))
        canvas.operator(at(ox_, y_output), "×", muted=muted("output"))
        canvas.arrow([at(ox_ + OP_RADIUS, y_output), at(13.2, y_output), at(13.2, Y_HIDDEN), at(CELL_WIDTH, Y_HIDDEN)],
                     colour=HIDDEN_COLOUR, muted=muted("h_out"), width=2.2)
        canvas.text(at(CELL_WIDTH - 0.25, Y_HIDDEN + 0.35), f"$h_{{{self.style.step[1]}}}$", ha="right",
                    muted=muted("h_out"), colour=HIDDEN_COLOUR)


def draw_cell(canvas: Canvas, facts: CellFacts, origin: Point = (0.0, 0.0), style: CellStyle = CellStyle()) -> None:
    """Draw one ConvLSTM cell with its lower-left corner at ``origin``, looking as ``style`` says."""
    drawing = _CellDrawing(canvas, facts, origin, style)
    for part in (drawing.inputs, drawing.convolution, drawing.gates, drawing.new_cell, drawing.new_hidden):
        part()


def _cell_canvas(title: str, subtitle: str) -> tuple[Canvas, Point]:
    """A canvas for one cell with room for a two-line title."""
    canvas = Canvas(CELL_WIDTH + 0.6, CELL_HEIGHT + 1.6)
    canvas.title(title, subtitle)
    return canvas, (0.3, 0.2)


def draw_conv_lstm_basic(facts: CellFacts, path: Path) -> Path:
    """The ConvLSTM cell with every part in colour."""
    canvas, origin = _cell_canvas(
        "A convolutional LSTM cell",
        f"input x (orange), hidden state h (blue), cell state c (green); example: {facts.example}")
    draw_cell(canvas, facts, origin)
    return canvas.save(path)


def draw_conv_lstm_time(facts: CellFacts, path: Path) -> Path:
    """The cell unrolled over two steps, the first step framed."""
    canvas = Canvas(2 * CELL_WIDTH + 0.6, CELL_HEIGHT + 1.6, units_per_inch=2.6, font_scale=0.95)
    canvas.title("The same cell unrolled over two steps",
                 "the weights are shared; c and h carry memory from one step to the next")
    draw_cell(canvas, facts, (0.3, 0.2), CellStyle(step=("t", "t+1"), detailed=False))
    draw_cell(canvas, facts, (0.3 + CELL_WIDTH, 0.2), CellStyle(step=("t+1", "t+2"), detailed=False,
                                                                  label_entries=False))
    canvas.frame((0.95, 0.05), CELL_WIDTH - 0.4, CELL_HEIGHT - 0.25, "one step (t → t+1)")
    return canvas.save(path)


def draw_conv_lstm_step(number: int, facts: CellFacts, path: Path) -> Path:
    """Step ``number`` (1-7) of one update, its parts in colour and the rest muted."""
    if not 1 <= number <= len(STEPS):
        raise ValueError(f"step number must be in 1..{len(STEPS)}, got {number}")
    title, subtitle, active = STEPS[number - 1]
    subtitle = subtitle.format(C=facts.hidden_channels, C4=facts.conv_out_channels, act=facts.activation,
                               bias=facts.forget_bias)
    canvas, origin = _cell_canvas(title, subtitle)
    draw_cell(canvas, facts, origin, CellStyle(active=active))
    return canvas.save(path)
