"""The course's visual language: one colour per encoder stage, per LSTM gate and per state.

Every figure takes its colours from here, so a learner who has seen orange for the input,
blue for the hidden state and green for the cell state in one picture can rely on it in all.
"""

from __future__ import annotations

from typing import Final

# Encoder stages (ResNet super-blocks), shallow to deep. Pastel so that saturated state and gate
# colours stay distinct when both appear in one figure.
STAGE_COLOURS: Final[tuple[str, ...]] = ("#FFE08A", "#A6D8F0", "#C9B3E6", "#F4A7A7")

# The four channel groups the ConvLSTM convolution produces, in the order the cell splits them.
GATE_COLOURS: Final[dict[str, str]] = {
    "i": "#B07AA1",  # input gate (purple)
    "j": "#9C755F",  # update signal (brown)
    "f": "#E15759",  # forget gate (red)
    "o": "#17A2B8",  # output gate (cyan)
}
GATE_NAMES: Final[dict[str, str]] = {
    "i": "input gate",
    "j": "update",
    "f": "forget gate",
    "o": "output gate",
}

INPUT_COLOUR: Final[str] = "#F28E2B"  # features entering a cell or a fusion (orange)
HIDDEN_COLOUR: Final[str] = "#4E79A7"  # hidden state h (blue)
CELL_COLOUR: Final[str] = "#59A14F"  # cell state c (green)
DECODER_COLOUR: Final[str] = "#8CB6D9"  # decoder / upsampling features
OUTPUT_COLOUR: Final[str] = "#D4A6C8"  # segmentation output

IMAGE_COLOUR: Final[str] = "#BFBFBF"  # the input radiograph
MIXED_COLOUR: Final[str] = "#D9D9D9"  # features that mix two sources (a sum)
SKIP_COLOUR: Final[str] = "#8A8A8A"  # skip connections drawn as context, not as the topic
PANEL_COLOUR, PANEL_EDGE_COLOUR = "#F7F7F7", "#BBBBBB"  # the outline around a cell's inside
OPERATION_COLOUR: Final[str] = "#E6E6E6"  # convolutions and other plain operations
POOL_COLOUR: Final[str] = "#BDBDBD"  # max-pooling and other resolution changes
TEXT_COLOUR: Final[str] = "#222222"
MUTED_COLOUR: Final[str] = "#D0D0D0"  # parts of a figure that are not the point of this step
HIGHLIGHT_COLOUR: Final[str] = "#D62728"  # frames that single out part of a figure


def stage_colour(stage: int) -> str:
    """Colour of encoder stage ``stage`` (0-based); raises ValueError past the last stage colour."""
    if not 0 <= stage < len(STAGE_COLOURS):
        raise ValueError(f"stage must be in 0..{len(STAGE_COLOURS) - 1}, got {stage}; add a colour to STAGE_COLOURS")
    return STAGE_COLOURS[stage]
