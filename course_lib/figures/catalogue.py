"""Every teaching figure by file name, and ``draw_all`` that renders them into a folder."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path

from tqdm.auto import tqdm

from course_lib.figures import convlstm, model_facts, networks

STEP_COUNT = len(convlstm.STEPS)
SVG_TOO = frozenset({"architecture"})  # detailed enough that a zoomable copy helps


def _step(number: int, path: Path) -> Path:
    return convlstm.draw_conv_lstm_step(number, model_facts.cell_facts(), path)


# name -> function drawing it into the given path; the facts are read from course_lib.nn at draw time.
FIGURES: dict[str, Callable[[Path], Path]] = {
    "encoder": lambda path: networks.draw_encoder_decoder(*model_facts.encoder_decoder_levels(), path),
    "concatenation": lambda path: networks.draw_fusion(model_facts.fusion_facts("concat"), path),
    "summation": lambda path: networks.draw_fusion(model_facts.fusion_facts("sum"), path),
    "cfcm_highlevel": lambda path: networks.draw_cfcm_highlevel(model_facts.cfcm34_facts(), path),
    "architecture": lambda path: networks.draw_architecture(model_facts.cfcm34_facts(), path),
    "block": lambda path: networks.draw_block(model_facts.block_facts(), path),
    "conv_lstm_basic": lambda path: convlstm.draw_conv_lstm_basic(model_facts.cell_facts(), path),
    "conv_lstm_time": lambda path: convlstm.draw_conv_lstm_time(model_facts.cell_facts(), path),
    **{f"conv_lstm_step{number}": partial(_step, number) for number in range(1, STEP_COUNT + 1)},
}
FIGURE_NAMES: tuple[str, ...] = tuple(FIGURES)


def expected_files(names: Iterable[str] = FIGURE_NAMES) -> list[str]:
    """File names ``draw_all`` writes for ``names``: a PNG each, plus an SVG for the detailed ones."""
    files = []
    for name in names:
        files.append(f"{name}.png")
        if name in SVG_TOO:
            files.append(f"{name}.svg")
    return files


def draw_all(out_dir: Path | str, names: Iterable[str] | None = None, progress: bool = True) -> list[Path]:
    """Render the figures ``names`` (default: all) into ``out_dir``; returns the files written."""
    chosen = list(FIGURE_NAMES if names is None else names)
    unknown = [name for name in chosen if name not in FIGURES]
    if unknown:
        raise ValueError(f"unknown figure(s) {unknown}; known figures: {', '.join(FIGURE_NAMES)}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name in tqdm(chosen, desc="figures", unit="figure", disable=not progress):
        written.append(FIGURES[name](out / f"{name}.png"))
        if name in SVG_TOO:
            written.append(FIGURES[name](out / f"{name}.svg"))
    return written
