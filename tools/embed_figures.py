#!/usr/bin/env python3
"""Embed the teaching figures in the solutions notebooks as data URIs, so that they show on Google Colab too.

Colab opens a notebook from GitHub and renders its markdown in the browser without the repository's files
(nor does it render cell attachments), so ``![...](../../assets/x.png)`` is a broken image there; an image
written as a ``data:image/png;base64,...`` URI shows everywhere, offline included. Each figure lives in a
*figure cell*: a markdown cell holding that one figure and nothing else, so prose cells stay readable::

    <!-- figure: assets/concatenation.png (embedded by tools/embed_figures.py; edit the figure in ...) -->
    ![Fusion by concatenation](data:image/png;base64,iVBORw0KGgo...)

This tool rewrites every figure cell of solutions/*/*.ipynb from the current bytes of the asset its marker
names (course_lib.figures draws them: ``make figures``), keeping the alt text. A line of a prose cell that
holds only a local figure, ``![alt](../../assets/<name>.png)``, is moved into a figure cell of its own at the
same place in the reading order, so authors may write figures that way and then run this tool.
Running it twice changes nothing.

    python tools/embed_figures.py               # update every solutions/*/*.ipynb
    python tools/embed_figures.py NOTEBOOK ...   # only these notebooks (paths, or names: 01_data_transforms)
    python tools/embed_figures.py --check        # change nothing; exit 1 and list the stale notebooks

It exits 2, naming the notebook, the cell and the fix, when a marker names an asset that does not exist or a
notebook shows a local image that is not a course figure.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import copy
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

from course_lib.instructor.course import checkout
from notebook_header import notebook_paths, solution_notebooks  # noqa: F401 - scripts next to this one (on sys.path)

REPO_ROOT = checkout()
ASSETS_DIR = "assets"
DATA_URI_PREFIX = "data:image/png;base64,"
MARKER_NOTE = ("embedded by tools/embed_figures.py; edit the figure in course_lib/figures, "
               "then run make figures")
MARKER = re.compile(r"<!--\s*figure:\s*(?P<asset>\S+)(?:\s+\(.*?\))?\s*-->")
MARKDOWN_IMAGE = re.compile(r"!\[(?P<alt>[^\]]*)\]\(\s*<?(?P<src>[^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REMOTE = ("http://", "https://", "data:", "attachment:", "//")
CELL_ID = re.compile(r"[^A-Za-z0-9_-]")


class FigureError(ValueError):
    """A notebook names a figure that cannot be embedded; the message names the notebook, the cell and the fix."""


@dataclass(frozen=True)
class Figure:
    """One figure cell's content: the asset it shows (``assets/<name>.png``), its alt text, the PNG bytes."""

    asset: str
    alt: str
    png: bytes


def figure_source(figure: Figure) -> str:
    """The markdown of a figure cell: the marker line, then the image as a data URI."""
    encoded = base64.b64encode(figure.png).decode("ascii")
    return (f"<!-- figure: {figure.asset} ({MARKER_NOTE}) -->\n"
            f"![{figure.alt}]({DATA_URI_PREFIX}{encoded})")


def parse_figure_cell(cell: nbformat.NotebookNode) -> Figure | None:
    """The figure a marked cell shows (``png`` empty when it has no embedded image yet); None for other cells."""
    if cell.cell_type != "markdown":
        return None
    first_line, _, rest = cell.source.lstrip().partition("\n")
    marker = MARKER.fullmatch(first_line.strip())
    if marker is None:
        return None
    image = MARKDOWN_IMAGE.fullmatch(rest.strip())
    if image is None:
        raise FigureError(f"a figure cell holds its marker line and one image, ![alt text](...), nothing else "
                          f"(this one has {rest.strip()[:80]!r}); move any text into a cell of its own")
    src, png = image["src"], b""
    if src.startswith(DATA_URI_PREFIX):
        with contextlib.suppress(binascii.Error):  # a damaged copy is simply stale: embedding rewrites it
            png = base64.b64decode(src.removeprefix(DATA_URI_PREFIX), validate=True)
    return Figure(marker["asset"], image["alt"], png)


def asset_of(src: str, notebook_dir: Path, repo_root: Path = REPO_ROOT) -> str | None:
    """``assets/<name>`` for a relative image path into the repository's assets/, None for a remote or data URI.

    Raises FigureError for any other local path: it would not show on Colab and is not a course figure."""
    if src.startswith(REMOTE):
        return None
    target = (notebook_dir / src.split("?")[0].split("#")[0]).resolve()
    assets = (repo_root / ASSETS_DIR).resolve()
    if not target.is_relative_to(assets):
        raise FigureError(f"the local image {src!r} is not in {ASSETS_DIR}/; local files do not show on Colab: "
                          f"draw it in course_lib/figures (`make figures` writes {ASSETS_DIR}/) and refer to it "
                          f"as ../../{ASSETS_DIR}/<name>.png")
    return target.relative_to(assets.parent).as_posix()


def read_asset(asset: str, repo_root: Path = REPO_ROOT) -> bytes:
    """The bytes of ``assets/<name>.png``; FigureError (saying how to make it) when it is not there."""
    path = repo_root / asset
    if not asset.startswith(f"{ASSETS_DIR}/") or not asset.endswith(".png"):
        raise FigureError(f"the marker names {asset!r}; figure cells show {ASSETS_DIR}/<name>.png files only")
    if not path.is_file():
        raise FigureError(f"the marker names {asset}, which does not exist: run `make figures` (or "
                          f"`python -m course_lib.figures {ASSETS_DIR}`), or fix the name in the marker")
    return path.read_bytes()


def _unique(candidate: str, taken: set[str]) -> str:
    """``candidate`` as a valid cell id, numbered (``-2``, ``_2``, ... in its own style) when already taken."""
    candidate = CELL_ID.sub("-", candidate)[:60]
    separator = "_" if "_" in candidate and "-" not in candidate else "-"
    name, number = candidate, 2
    while name in taken:
        name, number = f"{candidate}{separator}{number}", number + 1
    taken.add(name)
    return name


def _new_cell(source: str, template: nbformat.NotebookNode, cell_id: str, grade_id: str,
              taken_grade_ids: set[str]) -> nbformat.NotebookNode:
    """A markdown cell with ``template``'s metadata; nbgrader's grade_id (when it has one) made unique."""
    cell = nbformat.v4.new_markdown_cell(source)
    cell.id = cell_id
    cell.metadata = copy.deepcopy(template.metadata)
    if "nbgrader" in cell.metadata:
        cell.metadata["nbgrader"]["grade_id"] = _unique(grade_id, taken_grade_ids)
    return cell


def split_prose_cell(cell: nbformat.NotebookNode, notebook_dir: Path, taken_ids: set[str],
                     taken_grade_ids: set[str], repo_root: Path = REPO_ROOT) -> list[nbformat.NotebookNode]:
    """``cell`` cut at every line that holds only a local figure: its prose parts and one figure cell per image,
    in order (``[cell]`` unchanged when it shows no local figure). The first part keeps the cell's id."""
    if cell.cell_type != "markdown" or parse_figure_cell(cell) is not None:
        return [cell]
    parts: list[tuple[str, Figure | None]] = []  # (prose, None) or ("", figure)
    prose: list[str] = []
    for line in cell.source.split("\n"):
        alone = MARKDOWN_IMAGE.fullmatch(line.strip())
        asset = asset_of(alone["src"], notebook_dir, repo_root) if alone else None
        if asset is None:
            for image in MARKDOWN_IMAGE.finditer(line):
                if asset_of(image["src"], notebook_dir, repo_root) is not None:
                    raise FigureError(f"{image['src']!r} sits inside a line of text; put the image on a line of "
                                      "its own so it can move into a figure cell")
            prose.append(line)
            continue
        parts.append(("\n".join(prose).strip("\n"), None))
        parts.append(("", Figure(asset, alone["alt"], b"")))
        prose = []
    if not parts:
        return [cell]
    parts.append(("\n".join(prose).strip("\n"), None))
    grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", cell.get("id", "md"))
    cells: list[nbformat.NotebookNode] = []
    kept_original = False
    for text, figure in parts:
        if figure is not None:
            stem = Path(figure.asset).stem
            cells.append(_new_cell(figure_source(figure), cell, _unique(f"figure-{stem}", taken_ids),
                                   f"figure-{stem.replace('_', '-')}", taken_grade_ids))
        elif text.strip():
            if not kept_original:
                first = copy.deepcopy(cell)
                first.source = text
                cells.append(first)
                kept_original = True
            else:
                cells.append(_new_cell(text, cell, _unique(f"{cell.get('id', 'md')}-cont", taken_ids),
                                       f"{grade_id}-cont", taken_grade_ids))
    return cells


def embedded(notebook: nbformat.NotebookNode, notebook_path: Path,
             repo_root: Path = REPO_ROOT) -> nbformat.NotebookNode:
    """A copy of ``notebook`` with local figures moved into figure cells and every figure cell showing the
    current bytes of its asset. Raises FigureError naming the cell when an asset is missing."""
    result = copy.deepcopy(notebook)
    taken_ids = {cell.get("id") for cell in notebook.cells}
    taken_grade_ids = {cell.metadata.get("nbgrader", {}).get("grade_id") for cell in notebook.cells}
    cells: list[nbformat.NotebookNode] = []
    for index, cell in enumerate(result.cells):
        where = f"{notebook_path}, cell {index} (id {cell.get('id')!r})"
        try:
            for part in split_prose_cell(cell, notebook_path.parent, taken_ids, taken_grade_ids, repo_root):
                figure = parse_figure_cell(part)
                if figure is not None:
                    current = Figure(figure.asset, figure.alt, read_asset(figure.asset, repo_root))
                    part.source = figure_source(current)
                cells.append(part)
        except FigureError as error:
            raise FigureError(f"{where}: {error}") from None
    result.cells = cells
    return result


def figure_cells(notebook: nbformat.NotebookNode) -> list[Figure]:
    """Every figure cell's content, in reading order."""
    return [figure for cell in notebook.cells if (figure := parse_figure_cell(cell)) is not None]


def _shown(path: Path) -> Path:
    return path.relative_to(REPO_ROOT) if path.is_absolute() and path.is_relative_to(REPO_ROOT) else path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", help="solutions notebooks, by path or name (default: all of them)")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a notebook is stale")
    args = parser.parse_args(argv)
    paths = [path.resolve() for path in notebook_paths(args.notebooks)]
    stale: list[Path] = []
    for path in paths:
        notebook = nbformat.read(path, as_version=4)
        try:
            updated = embedded(notebook, path)
        except FigureError as error:
            print(f"embed_figures: {error}", file=sys.stderr)
            return 2
        if updated == notebook:
            continue
        stale.append(path)
        if not args.check:
            nbformat.validate(updated)
            nbformat.write(updated, path)
            print(f"embed_figures: embedded {len(figure_cells(updated))} figure(s) in {_shown(path)}")
    if args.check and stale:
        print("embed_figures: figures missing or outdated in: " + ", ".join(str(_shown(p)) for p in stale)
              + "; run `make figures` (or `python tools/embed_figures.py`), then `make release`.", file=sys.stderr)
        return 1
    if not stale:
        print(f"embed_figures: {len(paths)} notebook(s) already current")
    return 0


if __name__ == "__main__":
    sys.exit(main())
