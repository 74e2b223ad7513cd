"""Figures of whole networks and their parts: the encoder-decoder, skip fusion, the ResNet
building block, and CFCM at a glance and in full. Numbers come from ``model_facts``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from course_lib.figures.drawing import SMALL_FONT_SIZE, Canvas, Point
from course_lib.figures.model_facts import ArchitectureFacts, BlockFacts, FusionFacts, LevelFacts
from course_lib.figures.palette import (
    CELL_COLOUR,
    DECODER_COLOUR,
    HIDDEN_COLOUR,
    IMAGE_COLOUR,
    INPUT_COLOUR,
    MIXED_COLOUR,
    OPERATION_COLOUR,
    OUTPUT_COLOUR,
    POOL_COLOUR,
    SKIP_COLOUR,
    STAGE_COLOURS,
    stage_colour,
)


def _shape(shape: Sequence[int]) -> str:
    """``(1, 64, 32, 32)`` -> ``"1×64×32×32"``."""
    return "×".join(str(size) for size in shape)


def _numbers(values: Sequence[float]) -> str:
    return "[" + " ".join(f"{value:g}" for value in values) + "]"


def _slab_size(channels: int, size: int, input_size: int, per_doubling: float = 0.16) -> tuple[float, float]:
    """Drawn (width, height) of a feature map: width grows with log2(channels), height with the side."""
    width = 0.25 + per_doubling * max(0.0, math.log2(max(channels, 1)))
    height = 0.8 + 3.6 * size / input_size
    return width, height


# --- ResNet building block ---------------------------------------------------------------------

def draw_block(facts: BlockFacts, path: Path) -> Path:
    """The ResNet building block: ReLU, conv, ReLU, conv, plus one of two shortcuts.

    The identity leaves ``x`` before the first ReLU; the projection reads the activated input, the same ReLU(x) as
    the first conv: two branches, so that the figure shows where each one starts.
    """
    canvas = Canvas(8.6, 11.3)
    canvas.title("ResNet building block")
    x, identity, projection = 3.6, 6.2, 1.05
    k = facts.kernel_size
    canvas.text((x, 9.75), f"x  ({facts.channels} channels)", colour=INPUT_COLOUR, weight="bold")
    steps = [(8.1, "ReLU", "white"), (6.9, f"conv {k}×{k}, {facts.channels}", OPERATION_COLOUR),
             (5.7, "ReLU", "white"), (4.5, f"conv {k}×{k}, {facts.channels}", OPERATION_COLOUR)]
    previous = 9.5
    for y, label, colour in steps:
        canvas.arrow([(x, previous), (x, y + 0.3)])
        canvas.box((x, y), 2.6, 0.6, label, colour=colour)
        previous = y - 0.3
    canvas.arrow([(x, previous), (x, 3.3 + 0.28)])
    canvas.operator((x, 3.3), "+")
    canvas.arrow([(x, 9.2), (identity, 9.2), (identity, 6.0)])
    canvas.box((identity, 5.7), 1.5, 0.6, "identity", colour="white", size=SMALL_FONT_SIZE)
    canvas.arrow([(identity, 5.4), (identity, 3.3), (x + 0.28, 3.3)])
    canvas.arrow([(x, 7.5), (projection, 7.5), (projection, 6.3)], muted=True)
    canvas.box((projection, 5.7), 1.7, 1.2, "1×1 conv\nof ReLU(x)*", colour="white", size=SMALL_FONT_SIZE)
    canvas.arrow([(projection, 5.1), (projection, 3.3), (x - 0.28, 3.3)], muted=True)
    canvas.text((identity + 0.15, 7.6), "shortcut", size=SMALL_FONT_SIZE, ha="left", rotation=90)
    canvas.arrow([(x, 3.02), (x, 2.45)])
    canvas.text((x, 2.2), f"output  ({facts.channels} channels)", weight="bold")
    notes = (f"{facts.parameters:,} parameters ({facts.channels} → {facts.channels} channels).",
             f"*Grey: replaces the identity when the channels change ({facts.projection_in} → "
             f"{facts.projection_out}:",
             f"  {facts.projection_parameters:,} parameters); it reads ReLU(x), as the first conv does.",
             "With norm=\"batch\" a BatchNorm precedes each ReLU.")
    for row, note in enumerate(notes):
        canvas.text((0.3, 1.72 - 0.42 * row), note, size=SMALL_FONT_SIZE, ha="left")
    return canvas.save(path)


# --- skip fusion -------------------------------------------------------------------------------

def _example_row(canvas: Canvas, y: float, facts: FusionFacts) -> None:
    """The fusion applied to two tiny tensors, written out as numbers."""
    sign = "cat" if facts.mode == "concat" else "+"
    canvas.text((0.4, y), f"example (3 channels of 1×1):  {_numbers(facts.example_decoder)} {sign} "
                f"{_numbers(facts.example_skip)}  →  {_numbers(facts.example_output)}", ha="left")


def draw_fusion(facts: FusionFacts, path: Path) -> Path:
    """Skip fusion by concatenation (channels add up) or summation (channels stay)."""
    if facts.mode not in ("concat", "sum"):
        raise ValueError(f"fusion mode must be 'concat' or 'sum', got {facts.mode!r}")
    canvas = Canvas(14.0, 7.2)
    heading = {"concat": "Fusion by concatenation: channels add up",
               "sum": "Fusion by summation: the number of channels stays"}[facts.mode]
    canvas.title(heading, "tensors are (batch × channels × height × width)")
    slab_height, depth = 2.4, 0.45
    channel_width = 0.9
    decoder_centre, skip_centre = (2.0, 4.3), (2.0, 1.6)
    canvas.tensor(decoder_centre, channel_width, slab_height * 0.5, depth, colour=DECODER_COLOUR)
    canvas.text((3.2, 4.6), "decoder features", ha="left", weight="bold")
    canvas.text((3.2, 4.15), _shape(facts.decoder_shape), ha="left")
    canvas.tensor(skip_centre, channel_width, slab_height * 0.5, depth, colour=STAGE_COLOURS[0])
    canvas.text((3.2, 1.9), "skip (encoder) features", ha="left", weight="bold")
    canvas.text((3.2, 1.45), _shape(facts.skip_shape), ha="left")
    join = (7.6, 2.95)
    canvas.arrow([(6.6, 4.3), (7.0, 4.3), (7.0, join[1] + 0.12), (join[0] - 0.4, join[1] + 0.12)])
    canvas.arrow([(6.6, 1.6), (7.0, 1.6), (7.0, join[1] - 0.12), (join[0] - 0.4, join[1] - 0.12)])
    if facts.mode == "concat":
        canvas.box(join, 0.8, 0.6, "cat", colour="white", size=SMALL_FONT_SIZE)
        out_x = 10.2
        canvas.tensor((out_x - channel_width / 2, join[1]), channel_width, slab_height * 0.5, depth,
                      colour=DECODER_COLOUR)
        canvas.tensor((out_x + channel_width / 2, join[1]), channel_width, slab_height * 0.5, depth,
                      colour=STAGE_COLOURS[0])
        gap = channel_width + 0.5
    else:
        canvas.operator(join, "+")
        out_x = 10.0
        canvas.tensor((out_x, join[1]), channel_width, slab_height * 0.5, depth, colour=MIXED_COLOUR)
        gap = channel_width / 2 + 0.5
    canvas.arrow([(join[0] + 0.4, join[1]), (out_x - gap + 0.1, join[1])])
    canvas.text((out_x + 0.2, join[1] - 1.15), "fused", weight="bold")
    canvas.text((out_x + 0.2, join[1] - 1.6), _shape(facts.output_shape))
    _example_row(canvas, 0.35, facts)
    return canvas.save(path)


# --- encoder-decoder ---------------------------------------------------------------------------

THIN = 0.09  # slab width per doubling of channels in the encoder-decoder, whose 13 columns leave little room


def draw_encoder_decoder(levels: Sequence[LevelFacts], input_size: int, num_classes: int, path: Path) -> Path:
    """An encoder-decoder: feature maps shrink and deepen, then grow back to the input size.

    ``levels`` lists the encoder's feature maps, shallow to deep (the last is the bottleneck);
    the decoder mirrors them."""
    if len(levels) < 2:
        raise ValueError(f"an encoder-decoder figure needs at least 2 levels, got {len(levels)}")
    decoder = list(levels[-2::-1])
    columns = [("image", LevelFacts(1, input_size), IMAGE_COLOUR)]
    columns += [("enc", level, stage_colour(min(index, len(STAGE_COLOURS) - 1))) for index, level in enumerate(levels)]
    columns += [("dec", level, DECODER_COLOUR) for level in decoder]
    columns += [("out", LevelFacts(num_classes, input_size), OUTPUT_COLOUR)]
    spacing = 1.65  # 13 columns for five halvings: narrower would crowd the labels, wider passes 1400 px
    width = spacing * len(columns) + 0.6
    canvas = Canvas(width, 9.0)
    canvas.title("Encoder-decoder network",
                  f"for a {input_size}×{input_size} image: boxes are feature maps, labelled channels × side")
    centre_y = 4.6
    xs = [0.9 + spacing * index for index in range(len(columns))]
    for index, ((kind, level, colour), x) in enumerate(zip(columns, xs)):
        slab_width, slab_height = _slab_size(level.channels, level.size, input_size, THIN)
        canvas.tensor((x, centre_y), slab_width, slab_height, 0.2, colour=colour,
                      label=f"{level.channels}×{level.size}")
        if index + 1 < len(columns):
            next_width = _slab_size(columns[index + 1][1].channels, columns[index + 1][1].size, input_size, THIN)[0]
            canvas.arrow([(x + slab_width / 2 + 0.3, centre_y), (xs[index + 1] - next_width / 2 - 0.08, centre_y)])
    first_enc, bottleneck = xs[1], xs[len(levels)]
    last_dec = xs[-2]
    canvas.text((0.9, 7.2), "input", size=SMALL_FONT_SIZE)
    canvas.text((xs[-1], 7.2), "segmentation", size=SMALL_FONT_SIZE)
    canvas.text(((first_enc + bottleneck) / 2, 7.65), "encoder (contracting path)", weight="bold")
    canvas.text(((first_enc + bottleneck) / 2, 7.2), "convolve, then pool: smaller, deeper", size=SMALL_FONT_SIZE)
    canvas.text(((bottleneck + last_dec) / 2 + spacing / 2, 7.65), "decoder (expanding path)", weight="bold")
    canvas.text(((bottleneck + last_dec) / 2 + spacing / 2, 7.2), "upsample, then convolve: larger",
                size=SMALL_FONT_SIZE)
    for depth in range(len(levels) - 1):
        source, target = xs[1 + depth], xs[-2 - depth]
        low = 0.85 + 0.3 * depth
        _, slab_height = _slab_size(levels[depth].channels, levels[depth].size, input_size, THIN)
        canvas.arrow([(source, centre_y - slab_height / 2 - 0.75), (source, low), (target, low),
                      (target, centre_y - slab_height / 2 - 0.75)], colour=SKIP_COLOUR, width=1.2)
    canvas.text(((xs[1] + xs[-2]) / 2, 0.35), "skip connections: how to fuse them is what notebooks 2 to 4 are about",
                size=SMALL_FONT_SIZE, colour=SKIP_COLOUR)
    return canvas.save(path)


# --- CFCM --------------------------------------------------------------------------------------

def _state_arrow(canvas: Canvas, start: Point, end: Point, gap: float = 0.09) -> None:
    """The memory hand-off: cell state (green) and hidden state (blue) side by side."""
    (x0, y0), (x1, y1) = start, end
    canvas.arrow([(x0, y0 + gap), (x1, y1 + gap)], colour=CELL_COLOUR, width=2.0)
    canvas.arrow([(x0, y0 - gap), (x1, y1 - gap)], colour=HIDDEN_COLOUR, width=2.0)


def draw_cfcm_highlevel(facts: ArchitectureFacts, path: Path) -> Path:
    """CFCM at a glance: encoder stages feed ConvLSTM memories that run from coarse to fine."""
    count = len(facts.stages)
    spacing = 2.3
    canvas = Canvas(spacing * count + 2.9, 8.6)
    canvas.title("CFCM at a glance", "a convolutional memory reads the encoder, deepest level first")
    top, bottom = 5.6, 2.5
    xs = [2.6 + spacing * index for index in range(count)]
    canvas.tensor((0.8, top), 0.3, _slab_size(1, facts.input_size, facts.input_size)[1] * 0.55, 0.15,
                  colour=IMAGE_COLOUR, label="image")
    first_width = _slab_size(facts.stages[0].channels, facts.stages[0].size, facts.input_size)[0]
    canvas.arrow([(1.15, top), (xs[0] - first_width / 2 - 0.08, top)])
    for index, (stage, x) in enumerate(zip(facts.stages, xs)):
        colour = stage_colour(index)
        slab_width, slab_height = _slab_size(stage.channels, stage.size, facts.input_size)
        canvas.tensor((x, top), slab_width, slab_height * 0.55, 0.15, colour=colour,
                      label=f"stage {index + 1}\n1/{facts.input_size // stage.size} size")
        if index + 1 < count:
            following = facts.stages[index + 1]
            next_width = _slab_size(following.channels, following.size, facts.input_size)[0]
            canvas.arrow([(x + slab_width / 2 + 0.3, top), (xs[index + 1] - next_width / 2 - 0.08, top)])
        canvas.arrow([(x, top - 1.55), (x, bottom + 0.45)], colour=INPUT_COLOUR, width=2.0)
        canvas.box((x, bottom), 1.6, 0.8, "ConvLSTM", colour=colour, size=SMALL_FONT_SIZE, linewidth=1.8)
        if index > 0:
            _state_arrow(canvas, (x - 0.85, bottom), (xs[index - 1] + 0.85, bottom))
    canvas.text((xs[-1] + 0.2, bottom - 0.8), "coarse: global context first", size=SMALL_FONT_SIZE, ha="right")
    canvas.text((xs[0] - 0.8, bottom - 0.8), "fine: details last", size=SMALL_FONT_SIZE, ha="left")
    canvas.arrow([(xs[0] - 0.85, bottom), (1.1, bottom), (1.1, 0.95)], colour=HIDDEN_COLOUR, width=2.0)
    canvas.box((1.1, 0.65), 1.9, 0.6, "segmentation", colour=OUTPUT_COLOUR, size=SMALL_FONT_SIZE)
    canvas.text((2.3, 0.45), "orange: each stage's block outputs;  green/blue: cell/hidden state",
                size=SMALL_FONT_SIZE - 1, ha="left")
    return canvas.save(path)


BLOCK_PITCH = 0.8  # distance between neighbouring ResNet blocks in the architecture figure
GAP = 3.0  # room between two stages for the pooling above and the state hand-off below
STEM_END = 5.4


def _architecture_layout(facts: ArchitectureFacts) -> tuple[list[list[float]], list[float], float]:
    """x of every block in every stage, x of every stage gap (pooling), and the total width."""
    block_xs: list[list[float]] = []
    gap_xs: list[float] = []
    x = STEM_END
    for index, stage in enumerate(facts.stages):
        block_xs.append([x + BLOCK_PITCH * (k + 0.5) for k in range(stage.blocks)])
        x += BLOCK_PITCH * stage.blocks
        if index + 1 < len(facts.stages):
            gap_xs.append(x + GAP / 2)
            x += GAP
    return block_xs, gap_xs, x + 1.2


def draw_architecture(facts: ArchitectureFacts, path: Path) -> Path:
    """The whole CFCM: stem, ResNet stages with their blocks, one ConvLSTM per stage that reads
    the stage's blocks deepest first, the state handed up between levels, and the head."""
    block_xs, gap_xs, width = _architecture_layout(facts)
    canvas = Canvas(width, 10.6, units_per_inch=2.6, font_scale=0.92)
    canvas.title(f"{facts.name}: {facts.parameters:,} parameters",
                 f"encoder (top) and ConvLSTM decoder (bottom) for a {facts.input_channels}×{facts.input_size}×"
                 f"{facts.input_size} input; the decoder runs right to left")
    y_enc, y_dec, small = 7.2, 3.6, SMALL_FONT_SIZE
    half, cell = BLOCK_PITCH * 0.36, BLOCK_PITCH * 0.33
    stem = [(0.85, 1.3, f"input\n{facts.input_channels} ch", IMAGE_COLOUR),
            (2.75, 1.75, f"conv {facts.stem_kernel}×{facts.stem_kernel}\n{facts.stem_channels} ch", OPERATION_COLOUR),
            (4.45, 0.95, "max\npool", POOL_COLOUR)]
    for (x, box_width, label, colour), nxt in zip(stem, stem[1:] + [None]):
        canvas.box((x, y_enc), box_width, 1.0, label, colour=colour, size=small)
        if nxt is not None:
            canvas.arrow([(x + box_width / 2, y_enc), (nxt[0] - nxt[1] / 2, y_enc)])
    for index, (stage, xs) in enumerate(zip(facts.stages, block_xs)):
        colour = stage_colour(index)
        left, right = xs[0] - BLOCK_PITCH / 2, xs[-1] + BLOCK_PITCH / 2
        middle = (left + right) / 2
        canvas.arrow([(4.93 if index == 0 else gap_xs[index - 1] + 0.48, y_enc), (left - 0.04, y_enc)])
        canvas.box((middle, y_enc), right - left + 0.1, 1.15, colour=colour, linewidth=1.0, zorder=1)
        canvas.box((middle, y_dec), right - left + 0.1, 1.05, colour=colour, linewidth=2.0, zorder=1)
        canvas.text((middle, y_enc + 1.3), f"stage {index + 1}: {stage.blocks} blocks", size=small, weight="bold")
        canvas.text((middle, y_enc + 0.88), f"{stage.channels} ch, {stage.size}×{stage.size}", size=small)
        canvas.text((middle, y_dec - 0.9), f"ConvLSTM {index + 1}: C = {stage.lstm_hidden_channels}", size=small,
                    weight="bold")
        canvas.text((middle, y_dec - 1.32), f"{stage.blocks} steps, {stage.size}×{stage.size}", size=small)
        for step, x in enumerate(xs):
            canvas.box((x, y_enc), 2 * half, 2 * half, "", colour="white", linewidth=1.0)
            canvas.arrow([(x, y_enc - half), (x, y_dec + cell)], colour=INPUT_COLOUR, width=1.4)
            canvas.box((x, y_dec), 2 * cell, 2 * cell, str(stage.blocks - step), colour="white", size=small - 1,
                       linewidth=1.0)
            if step > 0:
                _state_arrow(canvas, (x - cell, y_dec), (xs[step - 1] + cell, y_dec), gap=0.06)
        if index + 1 < len(facts.stages):
            gap_x = gap_xs[index]
            canvas.box((gap_x, y_enc), 0.95, 1.0, "max\npool", colour=POOL_COLOUR, size=small)
            canvas.arrow([(right + 0.05, y_enc), (gap_x - 0.48, y_enc)])
            handoff_in, handoff_out = facts.handoff_channels[index]
            canvas.box((gap_x, y_dec), 1.9, 1.05, f"deconv ×2\n{handoff_in}→{handoff_out}", colour=OPERATION_COLOUR,
                       size=small - 1)
            _state_arrow(canvas, (block_xs[index + 1][0] - cell, y_dec), (gap_x + 0.95, y_dec))
            _state_arrow(canvas, (gap_x - 0.95, y_dec), (right - BLOCK_PITCH / 2 + cell, y_dec))
    _draw_head(canvas, facts, (block_xs[0][0] - cell, y_dec))
    notes = ("numbers in the decoder: the step at which the memory reads the block above (1: the stage's last block)",
             "deconv ×2: 2×2 transposed conv, stride 2, ReLU; then split into cell | hidden",
             "orange: block outputs; green/blue: cell and hidden state")
    for row, note in enumerate(notes):
        canvas.text((width - 0.3, 1.3 - 0.42 * row), note, size=small - 1, ha="right")
    return canvas.save(path)


def _draw_head(canvas: Canvas, facts: ArchitectureFacts, start: Point) -> None:
    """The last hidden state upsampled to the input size, then two convolutions to logits,
    stacked under the stem so the decoder's right-to-left flow ends at the left edge."""
    up, conv = facts.head_channels
    x, row, box_width = 2.75, start[1], 2.4
    labels = [f"deconv ×2\n{facts.stages[0].lstm_hidden_channels}→{up}", f"conv 3×3\n{up}→{conv} + ReLU",
              f"conv 3×3\n{conv}→{facts.num_classes}"]
    canvas.arrow([start, (x + box_width / 2, row)], colour=HIDDEN_COLOUR, width=2.0)
    for step, label in enumerate(labels):
        y = row - 1.45 * step
        canvas.box((x, y), box_width, 0.95, label, colour=OPERATION_COLOUR, size=SMALL_FONT_SIZE - 1)
        if step + 1 < len(labels):
            canvas.arrow([(x, y - 0.48), (x, y - 1.45 + 0.48)])
    last = row - 1.45 * (len(labels) - 1)
    canvas.arrow([(x + box_width / 2, last), (x + box_width / 2 + 0.45, last)])
    canvas.text((x + box_width / 2 + 0.55, last), f"logits {facts.num_classes}×{facts.input_size}×{facts.input_size}",
                size=SMALL_FONT_SIZE, ha="left")
