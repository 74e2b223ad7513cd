"""The teaching figures still draw from the current models, and the notebooks embed exactly the current ones.

Notebooks show each figure from a figure cell, a data URI written by tools/embed_figures.py, because Colab
renders markdown without the repository's files: a relative image path (``../../assets/x.png``) is broken there.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import nbformat
import pytest
from PIL import Image

from course_lib.figures import FIGURE_NAMES, draw_all, expected_files

import embed_figures  # tools/embed_figures.py (conftest puts tools/ on the import path)
from course_lib.settings import repository_root
from embed_figures import MARKDOWN_IMAGE, Figure, FigureError, embedded, figure_cells, figure_source

ROOT = repository_root()

ASSETS = ROOT / "assets"
NOTEBOOKS = sorted([*ROOT.glob("solutions/*/*.ipynb"), *ROOT.glob("notebooks/*/*.ipynb")])
NOTEBOOK_IDS = [notebook.relative_to(ROOT).as_posix() for notebook in NOTEBOOKS]
LAB_FIGURES = {"encoder", "concatenation", "summation", "cfcm_highlevel", "architecture", "block",
               "conv_lstm_basic", "conv_lstm_time", *(f"conv_lstm_step{n}" for n in range(1, 8))}
FIX = "run `make figures` (or `python tools/embed_figures.py`), then `make release`"

HTML_IMAGE = re.compile(r"<img\b[^>]*?\bsrc\s*=\s*(?:\"([^\"]+)\"|'([^']+)'|([^\s>]+))", re.IGNORECASE)
REMOTE = ("http://", "https://", "data:", "//")


def image_references(notebook: Path) -> list[str]:
    """Every image a notebook's markdown cells show, as written (markdown ![..](..) and <img src>)."""
    cells = json.loads(notebook.read_text(encoding="utf-8")).get("cells", [])
    references: list[str] = []
    for cell in cells:
        if cell.get("cell_type") != "markdown":
            continue
        text = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        references += [image["src"] for image in MARKDOWN_IMAGE.finditer(text)]
        references += [next(group for group in match if group) for match in HTML_IMAGE.findall(text)]
    return references


def local_references(notebook: Path) -> list[str]:
    """The images of ``notebook`` that Colab cannot show: relative paths and cell attachments."""
    return [reference for reference in image_references(notebook) if not reference.startswith(REMOTE)]


# ---------------------------------------------------------------------------------------------- drawing


def test_every_figure_draws_from_the_current_models(tmp_path: Path) -> None:
    written = draw_all(tmp_path, progress=False)
    assert sorted(path.name for path in written) == sorted(expected_files())
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(expected_files())
    for path in written:
        if path.suffix == ".png":
            with Image.open(path) as image:
                width, height = image.size
                assert image.mode == "P", f"{path.name} is {image.mode}, not a palette PNG (smaller to embed)"
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


# ---------------------------------------------------------------------------------------------- the notebooks


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=NOTEBOOK_IDS)
def test_every_figure_cell_embeds_the_current_asset(notebook: Path) -> None:
    figures = figure_cells(nbformat.read(notebook, as_version=4))
    stale = [f"{figure.asset} (alt {figure.alt!r})" for figure in figures
             if not (ROOT / figure.asset).is_file() or figure.png != (ROOT / figure.asset).read_bytes()]
    assert not stale, f"{notebook.relative_to(ROOT)} embeds outdated or missing figures {stale}: {FIX}"
    assert all(figure.alt.strip() for figure in figures), f"{notebook.relative_to(ROOT)}: a figure lacks alt text"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=NOTEBOOK_IDS)
def test_no_notebook_shows_a_local_image(notebook: Path) -> None:
    local = local_references(notebook)
    assert not local, (f"{notebook.relative_to(ROOT)} shows {local}: local files and attachments do not show on "
                       f"Colab; figures are drawn by course_lib.figures and embedded: {FIX}")


def test_every_embedded_figure_is_one_course_lib_figures_draws() -> None:
    drawn = {f"assets/{name}" for name in expected_files() if name.endswith(".png")}
    shown = {(notebook.relative_to(ROOT).as_posix(), figure.asset) for notebook in NOTEBOOKS
             for figure in figure_cells(nbformat.read(notebook, as_version=4))}
    assert shown, "no notebook has a figure cell"
    strangers = sorted(pair for pair in shown if pair[1] not in drawn)
    assert not strangers, (f"figures that course_lib.figures does not draw: {strangers}; add them to "
                           "course_lib/figures/catalogue.py")


def test_a_release_shows_the_same_figures_as_its_source() -> None:
    for source in ROOT.glob("solutions/*/*.ipynb"):
        release = ROOT / "notebooks" / source.parent.name / source.name
        if release.is_file():
            assert (figure_cells(nbformat.read(release, as_version=4))
                    == figure_cells(nbformat.read(source, as_version=4))), f"{release} is stale: run `make release`"


def test_the_local_image_finder_sees_both_kinds_of_reference(tmp_path: Path) -> None:
    notebook = tmp_path / "probe.ipynb"
    source = ("![cell](../../assets/conv_lstm_basic.png) and <img src=\"../../assets/nope.png\" width=700>\n"
              "<img src=../../assets/block.png> ![web](https://example.org/x.png) ![here](encoder.png)\n"
              "![inline](data:image/png;base64,iVBORw0KGgo=) ![attached](attachment:a.png)")
    notebook.write_text(json.dumps({"cells": [{"cell_type": "markdown", "source": [source], "metadata": {}}]}))
    assert local_references(notebook) == ["../../assets/conv_lstm_basic.png", "encoder.png", "attachment:a.png",
                                          "../../assets/nope.png", "../../assets/block.png"]


# ---------------------------------------------------------------------------------------------- the tool


def probe_repository(tmp_path: Path) -> tuple[Path, Path]:
    """A tiny repository: assets/ with two real figures and solutions/probe/probe.ipynb showing them in prose."""
    (tmp_path / "assets").mkdir()
    for name in ("encoder.png", "summation.png"):
        (tmp_path / "assets" / name).write_bytes((ASSETS / name).read_bytes())
    folder = tmp_path / "solutions" / "probe"
    folder.mkdir(parents=True)
    prose = nbformat.v4.new_markdown_cell("## Title\n\n![The encoder](../../assets/encoder.png)\n\nBetween.\n\n"
                                          "![The sum](../../assets/summation.png)\n\nAfter.")
    prose.id = "md-01"
    prose.metadata["nbgrader"] = {"grade": False, "solution": False, "locked": True, "grade_id": "md-01",
                                  "schema_version": 3}
    code = nbformat.v4.new_code_cell("x = 1")
    code.id = "code-02"
    notebook = nbformat.v4.new_notebook(cells=[prose, code])
    path = folder / "probe.ipynb"
    nbformat.write(notebook, path)
    return tmp_path, path


def test_the_tool_moves_prose_images_into_figure_cells_in_reading_order(tmp_path: Path) -> None:
    root, path = probe_repository(tmp_path)
    result = embedded(nbformat.read(path, as_version=4), path, repo_root=root)
    nbformat.validate(result)
    assert [cell.id for cell in result.cells] == ["md-01", "figure-encoder", "md-01-cont", "figure-summation",
                                                  "md-01-cont-2", "code-02"]
    assert [cell.source for cell in result.cells if not cell.id.startswith("figure")] == \
        ["## Title", "Between.", "After.", "x = 1"]
    grade_ids = [cell.metadata["nbgrader"]["grade_id"] for cell in result.cells[:5]]
    assert grade_ids == ["md-01", "figure-encoder", "md-01-cont", "figure-summation", "md-01-cont-2"]
    assert all(cell.metadata["nbgrader"]["locked"] for cell in result.cells[:5])
    assert figure_cells(result) == [Figure("assets/encoder.png", "The encoder", (ASSETS / "encoder.png").read_bytes()),
                                    Figure("assets/summation.png", "The sum", (ASSETS / "summation.png").read_bytes())]
    marker, image = result.cells[1].source.split("\n")
    assert marker.startswith("<!-- figure: assets/encoder.png (") and marker.endswith(") -->")
    assert image.startswith("![The encoder](data:image/png;base64,")
    assert embedded(result, path, repo_root=root) == result, "a second run changed the notebook"


def test_the_tool_refreshes_a_figure_cell_from_the_asset_bytes(tmp_path: Path) -> None:
    root, path = probe_repository(tmp_path)
    notebook = embedded(nbformat.read(path, as_version=4), path, repo_root=root)
    redrawn = (ASSETS / "concatenation.png").read_bytes()
    (root / "assets" / "encoder.png").write_bytes(redrawn)
    refreshed = embedded(notebook, path, repo_root=root)
    assert figure_cells(refreshed)[0] == Figure("assets/encoder.png", "The encoder", redrawn)
    assert [cell.id for cell in refreshed.cells] == [cell.id for cell in notebook.cells]


def test_the_tool_names_the_missing_asset_and_the_fix(tmp_path: Path) -> None:
    root, path = probe_repository(tmp_path)
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.append(nbformat.v4.new_markdown_cell(figure_source(Figure("assets/gone.png", "Gone", b""))))
    with pytest.raises(FigureError, match=r"probe\.ipynb, cell 2 .*assets/gone\.png, which does not exist: run "
                                          r"`make figures`"):
        embedded(notebook, path, repo_root=root)


@pytest.mark.parametrize("source, complaint", [
    ("See ![it](../../assets/encoder.png) here.", "inside a line of text"),
    ("![elsewhere](../picture.png)", "not in assets/"),
    ("<!-- figure: assets/encoder.png -->\n![The encoder](data:image/png;base64,)\n\nA sentence.", "nothing else"),
])
def test_the_tool_refuses_what_it_cannot_embed(tmp_path: Path, source: str, complaint: str) -> None:
    root, path = probe_repository(tmp_path)
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(source)])
    with pytest.raises(FigureError, match=re.escape(complaint)):
        embedded(notebook, path, repo_root=root)


def test_check_mode_lists_stale_notebooks_and_changes_nothing(tmp_path: Path, capsys) -> None:
    stale = tmp_path / "stale.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
        figure_source(Figure("assets/encoder.png", "The encoder", b"old bytes")))]), stale)
    before = stale.read_bytes()
    assert embed_figures.main(["--check", str(stale)]) == 1
    assert "stale.ipynb" in capsys.readouterr().err and stale.read_bytes() == before
    assert embed_figures.main([str(stale)]) == 0
    assert figure_cells(nbformat.read(stale, as_version=4))[0].png == (ASSETS / "encoder.png").read_bytes()
    assert embed_figures.main(["--check", str(stale)]) == 0


def test_embedded_bytes_decode_to_the_png() -> None:
    png = (ASSETS / "block.png").read_bytes()
    source = figure_source(Figure("assets/block.png", "Block", png))
    assert base64.b64decode(source.split("base64,")[1].rstrip(")")) == png


# ---------------------------------------------------------------------------------------------- alt text

GENERIC_ALT = {"image", "figure", "picture", "img", "graphic", "diagram", "plot", "chart", "screenshot", "alt"}
MIN_ALT_WORDS = 4
HTML_ALT = re.compile(r"\balt\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+))", re.IGNORECASE)


def alt_texts(notebook: Path) -> list[tuple[str, str | None]]:
    """(alt text, src) of every image in a notebook's markdown cells, markdown and HTML (None: no alt attribute)."""
    images: list[tuple[str, str | None]] = []
    for cell in json.loads(notebook.read_text(encoding="utf-8")).get("cells", []):
        if cell.get("cell_type") != "markdown":
            continue
        text = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        images += [(image["src"], image["alt"]) for image in MARKDOWN_IMAGE.finditer(text)]
        for tag in re.findall(r"<img\b[^>]*>", text, re.IGNORECASE):
            source, alt = HTML_IMAGE.search(tag), HTML_ALT.search(tag)
            images.append((next(group for group in source.groups() if group) if source else "?",
                           next((group for group in alt.groups() if group is not None), None) if alt else None))
    return images


def alt_problem(src: str, alt: str | None) -> str | None:
    """Why ``alt`` does not say what the image shows, or None: empty, generic, the file's name, or too short."""
    if alt is None or not alt.strip():
        return "no alt text"
    words = re.findall(r"[\w'-]+", alt.lower())
    name = Path(src.split("?")[0]).name.lower() if not src.startswith("data:") else ""
    if alt.strip().lower() in {name, Path(name).stem} or set(words) <= GENERIC_ALT:
        return f"alt text {alt!r} names the file or the kind of thing, not what it shows"
    if len(words) < MIN_ALT_WORDS:
        return f"alt text {alt!r} has fewer than {MIN_ALT_WORDS} words: say what the image shows"
    return None


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=NOTEBOOK_IDS)
def test_every_image_says_what_it_shows_in_its_alt_text(notebook: Path) -> None:
    images = alt_texts(notebook)
    assert images, f"{notebook.relative_to(ROOT)} shows no image (not even the Colab badge)"
    problems = [f"{src[:60]}: {problem}" for src, alt in images if (problem := alt_problem(src, alt))]
    assert not problems, f"{notebook.relative_to(ROOT)}:\n" + "\n".join(problems)


@pytest.mark.parametrize("source, verdict", [
    ("![](../../assets/x.png)", "no alt text"),
    ("![figure](data:image/png;base64,AAAA)", "not what it shows"),
    ("![encoder.png](../../assets/encoder.png)", "not what it shows"),
    ("![Open In Colab](https://example.org/badge.svg)", "fewer than 4 words"),
    ("<img src=\"a.png\" width=300>", "no alt text"),
    ("<img alt='Image' src=a.png>", "not what it shows"),
    ("![Two lungs outlined in yellow on a radiograph](data:image/png;base64,AAAA)", None),
    ("<img src=a.png alt=\"Two lungs outlined in yellow\">", None),
])
def test_the_alt_text_check_tells_a_description_from_a_label(tmp_path: Path, source: str, verdict: str | None) -> None:
    notebook = tmp_path / "probe.ipynb"
    notebook.write_text(json.dumps({"cells": [{"cell_type": "markdown", "source": [source], "metadata": {}}]}))
    [(src, alt)] = alt_texts(notebook)
    problem = alt_problem(src, alt)
    assert (problem is None) if verdict is None else (problem is not None and verdict in problem), problem
