"""Small drawing primitives shared by every figure: a canvas in diagram units, boxes, operator
circles, arrows and tensor slabs.

Figures are built on a plain ``matplotlib.figure.Figure`` with the Agg canvas, never through
pyplot, so importing this module leaves a notebook's plotting backend alone.

Figures are laid out in "diagram units" (1 unit is about one box height) on an axes with equal
aspect and no ticks; the canvas maps them to inches so every figure has the same text size
relative to its width when a notebook shows it at 700-900 px.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_hex, to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch, Polygon, Rectangle
from PIL import Image

from course_lib.figures.palette import HIGHLIGHT_COLOUR, MUTED_COLOUR, TEXT_COLOUR

Point = tuple[float, float]

DPI = 100
UNITS_PER_INCH = 1.6  # diagram units per inch of figure
FONT_SIZE = 12
SMALL_FONT_SIZE = 10.5
MUTED_TEXT_COLOUR = "#A8A8A8"
# The notebooks embed every PNG as a data URI (tools/embed_figures.py), so bytes count. These flat-coloured
# diagrams hold a few hundred to a few thousand colours, nearly all anti-aliasing shades; a 256-colour palette
# without dithering changes a pixel by 0.2/255 on average and makes the files about 2.7 times smaller.
PNG_PALETTE_COLOURS = 256


class Canvas:
    """A figure whose single axes spans ``width`` x ``height`` diagram units, origin bottom-left."""

    def __init__(self, width: float, height: float, units_per_inch: float = UNITS_PER_INCH,
                 font_scale: float = 1.0) -> None:
        if width <= 0 or height <= 0:
            raise ValueError(f"canvas size must be positive, got {width} x {height}")
        self.width, self.height = width, height
        self.font_scale = font_scale
        self.figure = Figure(figsize=(width / units_per_inch, height / units_per_inch), dpi=DPI)
        FigureCanvasAgg(self.figure)
        self.ax = self.figure.add_axes((0.0, 0.0, 1.0, 1.0))
        self.ax.set_xlim(0, width)
        self.ax.set_ylim(0, height)
        self.ax.set_aspect("equal")
        self.ax.axis("off")

    # --- text -------------------------------------------------------------------------------
    def text(self, xy: Point, label: str, *, size: float = FONT_SIZE, muted: bool = False,
             ha: str = "center", va: str = "center", weight: str = "normal", colour: str | None = None,
             rotation: float = 0.0) -> None:
        """Write ``label`` at ``xy``; muted text is light grey. The keyword parameters are matplotlib's text
        style, named as matplotlib names them, so a figure reads like the matplotlib call it makes."""
        self.ax.text(*xy, label, fontsize=size * self.font_scale, ha=ha, va=va, fontweight=weight, rotation=rotation,
                     color=MUTED_TEXT_COLOUR if muted else (colour or TEXT_COLOUR), zorder=6)

    def title(self, label: str, subtitle: str = "") -> None:
        """A bold title along the top edge, with an optional second line in normal weight."""
        self.text((0.3, self.height - 0.35), label, size=FONT_SIZE + 2, ha="left", va="center", weight="bold")
        if subtitle:
            self.text((0.3, self.height - 0.85), subtitle, size=FONT_SIZE, ha="left", va="center")

    # --- shapes -----------------------------------------------------------------------------
    def box(self, centre: Point, width: float, height: float, label: str = "", *, colour: str = "white",
            muted: bool = False, size: float = FONT_SIZE, rounded: bool = True, edge: str = TEXT_COLOUR,
            linewidth: float = 1.2, weight: str = "normal", text_colour: str | None = None,
            zorder: float = 3) -> None:
        """A (rounded) rectangle centred on ``centre`` with ``label`` inside. Its keyword parameters are the style
        of the patch and of its label (matplotlib's names), every one with the default most figures use."""
        x, y = centre[0] - width / 2, centre[1] - height / 2
        style = f"round,pad=0,rounding_size={min(width, height, 1.6) * 0.18:.3f}" if rounded else "square,pad=0"
        self.ax.add_patch(FancyBboxPatch((x, y), width, height, boxstyle=style, zorder=zorder, linewidth=linewidth,
                                         facecolor=_mute(colour) if muted else colour,
                                         edgecolor=MUTED_COLOUR if muted else edge))
        if label:
            self.text(centre, label, size=size, muted=muted, weight=weight, colour=text_colour)

    def operator(self, centre: Point, symbol: str, *, radius: float = 0.28, muted: bool = False,
                 colour: str = "white") -> None:
        """A circled pointwise operator such as ``×`` or ``+``."""
        self.ax.add_patch(Circle(centre, radius, zorder=4, linewidth=1.3, facecolor=_mute(colour) if muted else colour,
                                 edgecolor=MUTED_COLOUR if muted else TEXT_COLOUR))
        self.text(centre, symbol, size=FONT_SIZE + 3, muted=muted, weight="bold")

    def frame(self, lower_left: Point, width: float, height: float, label: str = "", *,
              colour: str = HIGHLIGHT_COLOUR, dashed: bool = True) -> None:
        """An unfilled frame that singles out part of a figure, its label above its top-left corner."""
        self.ax.add_patch(Rectangle(lower_left, width, height, fill=False, edgecolor=colour, linewidth=2.2,
                                    linestyle=(0, (5, 3)) if dashed else "-", zorder=5))
        if label:
            self.text((lower_left[0] + 0.1, lower_left[1] + height + 0.25), label, ha="left", colour=colour,
                      weight="bold")

    def tensor(self, centre: Point, width: float, height: float, depth: float, *, colour: str,
               label: str = "", muted: bool = False, size: float = SMALL_FONT_SIZE) -> None:
        """A feature map drawn as a slab: ``width`` is its channel extent, ``height`` its spatial
        extent and ``depth`` the oblique offset of the 3-D look; ``label`` goes below it."""
        face = _mute(colour) if muted else colour
        edge = MUTED_COLOUR if muted else TEXT_COLOUR
        x0, y0 = centre[0] - width / 2, centre[1] - height / 2
        dx = dy = depth
        front = Rectangle((x0, y0), width, height, facecolor=face, edgecolor=edge, linewidth=1.0, zorder=3)
        top = Polygon([(x0, y0 + height), (x0 + dx, y0 + height + dy), (x0 + width + dx, y0 + height + dy),
                       (x0 + width, y0 + height)], facecolor=_shade(face, 0.88), edgecolor=edge, linewidth=1.0,
                      zorder=3)
        side = Polygon([(x0 + width, y0), (x0 + width + dx, y0 + dy), (x0 + width + dx, y0 + height + dy),
                        (x0 + width, y0 + height)], facecolor=_shade(face, 0.75), edgecolor=edge, linewidth=1.0,
                       zorder=3)
        for patch in (front, top, side):
            self.ax.add_patch(patch)
        if label:
            self.text((centre[0] + dx / 2, y0 - 0.3), label, size=size, muted=muted, va="top")

    # --- connections --------------------------------------------------------------------------
    def arrow(self, points: Sequence[Point], *, colour: str = TEXT_COLOUR, muted: bool = False,
              width: float = 1.6, head: bool = True) -> None:
        """A polyline through ``points`` ending in an arrow head (or none)."""
        if len(points) < 2:
            raise ValueError(f"an arrow needs at least two points, got {len(points)}")
        shade = MUTED_COLOUR if muted else colour
        for start, end in zip(points[:-2], points[1:-1]):
            self.ax.plot([start[0], end[0]], [start[1], end[1]], color=shade, linewidth=width,
                         solid_capstyle="round", zorder=2)
        self.ax.add_patch(FancyArrowPatch(points[-2], points[-1], arrowstyle="-|>" if head else "-",
                                          mutation_scale=14, color=shade, linewidth=width, zorder=2,
                                          shrinkA=0, shrinkB=0))

    def save(self, path: Path) -> Path:
        """Write the figure (format from the suffix: PNG as a small palette image) and return ``path``."""
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".png":
            rendered = io.BytesIO()
            self.figure.savefig(rendered, format="png", dpi=DPI, facecolor="white")
            write_palette_png(rendered, path)
            return path
        # SVG keeps its text as text (small, searchable) and stable ids between runs.
        with rc_context({"svg.fonttype": "none", "svg.hashsalt": "course_lib.figures"}):
            self.figure.savefig(path, dpi=DPI, facecolor="white", metadata={"Date": None, "Creator": None})
        return path


def write_palette_png(rendered: io.BytesIO, path: Path) -> None:
    """Save the opaque PNG in ``rendered`` to ``path`` with a 256-colour palette (median cut, no dithering, so
    flat areas stay flat), optimised and without metadata, so the same figure always gives the same bytes."""
    with Image.open(rendered) as image:
        opaque = image.convert("RGB")  # drawn on white: the alpha channel is 255 everywhere
    palette = opaque.quantize(colors=PNG_PALETTE_COLOURS, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    palette.save(path, format="PNG", optimize=True)


def _mute(colour: str) -> str:
    """A very light version of ``colour`` for parts that are not the point of a step."""
    r, g, b = to_rgb(colour)
    blend = 0.82
    return to_hex((r + (1 - r) * blend, g + (1 - g) * blend, b + (1 - b) * blend))


def _shade(colour: str, factor: float) -> str:
    """``colour`` darkened by ``factor`` (1 keeps it)."""
    return to_hex(tuple(channel * factor for channel in to_rgb(colour)))
