"""The teaching figures still draw from the current models, and notebooks only show assets that exist."""

from __future__ import annotations

import json
import re
from pathlib import Path

from PIL import Image

from course_lib.figures import FIGURE_NAMES, draw_all, expected_files

ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT / "assets"
LAB_FIGURES = {"encoder", "concatenation", "summation", "cfcm_highlevel", "architecture", "block",
               "conv_lstm_basic", "conv_lstm_time", *(f"conv_lstm_step{n}" for n in range(1, 8))}

MARKDOWN_IMAGE = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HTML_IMAGE = re.compile(r"<img\b[^>]*?\bsrc\s*=\s*(?:\"([^\"]+)\"|'([^']+)'|([^\s>]+))", re.IGNORECASE)
REMOTE = ("http://", "https://", "data:", "attachment:", "//")


def image_references(notebook: Path) -> list[str]:
    """Every image a notebook's markdown cells show, as written (markdown ![..](..) and <img src>)."""
    cells = json.loads(notebook.read_text(encoding="utf-8")).get("cells", [])
    references: list[str] = []
    for cell in cells:
        if cell.get("cell_type") != "markdown":
            continue
        text = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        references += MARKDOWN_IMAGE.findall(text)
        references += [next(group for group in match if group) for match in HTML_IMAGE.findall(text)]
    return references


def broken_asset_references(notebook: Path, folder: Path | None = None) -> list[str]:
    """Local image references of ``notebook`` that do not name an existing file in assets/,
    resolved from ``folder`` (default: the notebook's own folder)."""
    problems = []
    for reference in image_references(notebook):
        if reference.startswith(REMOTE):
            continue
        target = ((folder or notebook.parent) / reference.split("?")[0].split("#")[0]).resolve()
        if not target.is_relative_to(ASSETS.resolve()):
            problems.append(f"{reference!r} is not in assets/ (figures live there: ../../assets/<name>.png)")
        elif not target.is_file():
            problems.append(f"{reference!r}: no such file in assets/ (run `make figures`, or fix the name)")
    return problems


def test_every_figure_draws_from_the_current_models(tmp_path: Path) -> None:
    written = draw_all(tmp_path, progress=False)
    assert sorted(path.name for path in written) == sorted(expected_files())
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(expected_files())
    for path in written:
        if path.suffix == ".png":
            with Image.open(path) as image:
                width, height = image.size
            assert 350 <= width <= 1400 and 250 <= height <= 1200, f"{path.name} is {width}x{height} px"


def test_the_lab_figures_are_all_drawn_and_committed() -> None:
    assert LAB_FIGURES <= set(FIGURE_NAMES)
    missing = [name for name in expected_files() if not (ASSETS / name).is_file()]
    assert not missing, f"assets/ lacks {missing}: run `make figures` and commit assets/"


def test_figure_numbers_follow_the_model() -> None:
    from course_lib.figures.model_facts import architecture_facts
    from course_lib.nn import CFCM18

    facts = architecture_facts(CFCM18(base=8), input_size=128)
    assert [stage.blocks for stage in facts.stages] == [2, 2, 2, 2]
    assert [stage.channels for stage in facts.stages] == [8, 16, 32, 64]
    assert [stage.size for stage in facts.stages] == [64, 32, 16, 8]
    assert [stage.lstm_hidden_channels for stage in facts.stages] == [8, 16, 32, 64]


def test_notebooks_show_only_existing_assets() -> None:
    notebooks = sorted([*ROOT.glob("solutions/*/*.ipynb"), *ROOT.glob("notebooks/*/*.ipynb")])
    problems = [f"{notebook.relative_to(ROOT)}: {problem}" for notebook in notebooks
                for problem in broken_asset_references(notebook)]
    assert not problems, "notebooks refer to missing assets:\n" + "\n".join(problems)


def test_the_asset_check_finds_both_kinds_of_reference(tmp_path: Path) -> None:
    notebook = tmp_path / "probe.ipynb"
    source = ("![cell](../../assets/conv_lstm_basic.png) and <img src=\"../../assets/nope.png\" width=700>\n"
              "<img src=../../assets/block.png> ![web](https://example.org/x.png) ![here](encoder.png)")
    notebook.write_text(json.dumps({"cells": [{"cell_type": "markdown", "source": [source], "metadata": {}}]}))
    assert image_references(notebook) == ["../../assets/conv_lstm_basic.png", "https://example.org/x.png",
                                          "encoder.png", "../../assets/nope.png", "../../assets/block.png"]
    # Judged as if the notebook sat in solutions/<assignment>/, like the real ones.
    problems = broken_asset_references(notebook, folder=ROOT / "solutions" / "some_assignment")
    assert len(problems) == 2, problems
    assert "encoder.png" in problems[0] and "not in assets/" in problems[0]
    assert "nope.png" in problems[1] and "no such file" in problems[1]
