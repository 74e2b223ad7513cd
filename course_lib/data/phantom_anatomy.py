"""The phantom's anatomy: where the thorax sits in the picture and the outline of each lung, as polygons.

Everything a radiograph shows is drawn around these outlines (:mod:`course_lib.data.phantom_xray`), and the
lung masks are these outlines filled in, so image and mask can never disagree. The shapes follow what the
Montgomery masks show: tall lungs with a rounded apex, a lateral wall that widens downwards, a sharp
costophrenic angle where the wall meets the diaphragm, a dome that is higher on the patient's right, and a left
lung cut by the heart's shadow, which makes it the smaller one. Sizes, position, tilt and the field of view vary
from case to case as they do between patients and between radiographers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw

__all__ = ["Thorax", "draw_thorax", "heart_radius", "dome_rows", "fill", "RIGHT", "LEFT"]

RIGHT, LEFT = -1, 1  # the patient's right lung is on the image's left (the radiological convention)


@dataclass
class Thorax:
    """One patient's chest in image pixels: frame, tilt, lungs (patient's right first), heart and diaphragm.

    ``lungs`` are (K, 2) polygons of (row, column) vertices; ``domes`` map a column to the diaphragm's row under
    each lung (as vertex arrays, interpolated); ``rows`` (H, 1) and ``cols`` (1, W) are the pixel grids, which
    broadcast. Everything is drawn upright; the renderer turns the finished picture and masks by ``tilt``.
    """

    height: int
    width: int
    cx: float  # the midline's column
    top: float  # the apices' row
    bottom: float  # the costophrenic angles' row (the lungs' lowest point)
    half_width: float  # from the midline to the widest lateral wall
    tilt: float  # degrees, the patient turned in the picture
    lungs: list[np.ndarray] = field(default_factory=list)
    domes: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)  # (columns, rows) per lung
    heart: tuple[float, float, float, float, float] = (0.0, 0.0, 1.0, 1.0, 0.0)  # row, col, r_rows, r_cols, angle

    @property
    def rows(self) -> np.ndarray:
        return np.arange(self.height, dtype=np.float32)[:, None]

    @property
    def cols(self) -> np.ndarray:
        return np.arange(self.width, dtype=np.float32)[None, :]

    @property
    def lung_height(self) -> float:
        return self.bottom - self.top


def _wobble(rng: np.random.Generator, n: int, amplitude: float) -> np.ndarray:
    """A smooth random closed curve's offsets (three low harmonics), so no two outlines are the same."""
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return amplitude * sum(rng.normal(0, 1 / k) * np.sin(k * t + rng.uniform(0, 2 * np.pi)) for k in (1, 2, 3))


def _lung_outline(rng: np.random.Generator, t: Thorax, side: int, dome: float, apex_drop: float,
                  width_scale: float) -> tuple[np.ndarray, np.ndarray]:
    """One lung's outline (rows, distances from the midline), clockwise from the apex, and its dome's vertices."""
    top = t.top + apex_drop
    bottom = t.bottom + (rng.uniform(0.0, 0.025) * t.height if side == LEFT else 0.0)
    height = bottom - top
    medial = t.width * rng.uniform(0.04, 0.07)
    lateral = t.half_width * width_scale * rng.uniform(0.94, 1.04)
    apex = medial + (lateral - medial) * rng.uniform(0.22, 0.36)
    round_medial, widest = rng.uniform(0.10, 0.22), rng.uniform(0.75, 0.95)
    s = np.linspace(0, 1, 40)
    # lateral wall: from the apex out and down along the ribcage to its widest, then a slight return
    grow = np.clip(1 - (1 - np.clip(s / widest, 0, 1)) ** rng.uniform(1.6, 2.2), 0, 1) ** rng.uniform(0.55, 0.8)
    lateral_d = apex + (lateral - apex) * grow
    lateral_d -= 0.03 * lateral * np.clip((s - widest) / (1 - widest), 0, 1)
    medial_d = apex - (apex - medial) * np.sqrt(np.clip(1 - (1 - np.clip(s / round_medial, 0, 1)) ** 2, 0, 1))
    if side == LEFT:                                         # the aortic knob pushes the left lung's medial border out
        medial_d += t.width * rng.uniform(0.01, 0.03) * np.exp(-(((s - rng.uniform(0.18, 0.28)) / 0.07) ** 2))
    rows = top + s * height
    # the diaphragm, lateral (the costophrenic angle, lowest) to medial: steep out of the angle, a dome, a dip
    q = np.linspace(0, 1, 24)[1:-1]
    peak = rng.uniform(0.4, 0.65)
    lift = np.where(q < peak, np.sin(0.5 * np.pi * np.clip(q / peak, 0, 1)) ** 0.8,
                    1 - rng.uniform(0.2, 0.5) * ((q - peak) / (1 - peak)) ** 2)
    dome_d = lateral_d[-1] + (medial_d[-1] - lateral_d[-1]) * q
    dome_rows = bottom - dome * height * lift
    outline_rows = np.concatenate([rows, dome_rows, rows[::-1]])
    outline_d = np.concatenate([lateral_d, dome_d, medial_d[::-1]])
    outline_d += _wobble(rng, outline_d.size, 0.008 * t.width)
    return np.stack([outline_rows, outline_d]), np.stack([dome_d, dome_rows])


def draw_thorax(rng: np.random.Generator, height: int, width: int, volume_loss: int = 0) -> Thorax:
    """A random chest: frame and field of view, both lungs, the heart; ``volume_loss`` (RIGHT, LEFT or 0)
    shrinks that lung, as scarring does."""
    top = height * rng.uniform(0.04, 0.16)
    bottom = height * rng.uniform(0.74, 0.95)
    if bottom - top < 0.6 * height:
        bottom = top + 0.6 * height
    t = Thorax(height=height, width=width, cx=width * (0.5 + rng.normal(0, 0.02)), top=top, bottom=bottom,
               half_width=width * rng.uniform(0.31, 0.4), tilt=float(rng.normal(0, 2.0)))
    right_dome = rng.uniform(0.1, 0.2)
    for side in (RIGHT, LEFT):
        shrink = side == volume_loss
        dome = right_dome * (rng.uniform(0.7, 0.95) if side == LEFT else 1.0) + (0.05 if shrink else 0)
        outline, dome_vertices = _lung_outline(rng, t, side, dome, apex_drop=0.06 * height if shrink else 0.0,
                                               width_scale=rng.uniform(0.82, 0.9) if shrink else 1.0)
        t.lungs.append(np.stack([outline[0], t.cx + side * outline[1]], axis=1))
        t.domes.append((t.cx + side * dome_vertices[0], dome_vertices[1]))
    r_cols = width * rng.uniform(0.14, 0.2)
    r_rows = t.lung_height * rng.uniform(0.13, 0.18)
    t.heart = (bottom - t.lung_height * rng.uniform(0.2, 0.3), t.cx + width * rng.uniform(0.05, 0.09), r_rows,
               r_cols, rng.uniform(-0.5, -0.15))
    return t


def heart_radius(t: Thorax) -> np.ndarray:
    """The heart's elliptic radius at every pixel (< 1 inside). Below its centre it narrows only slowly: the
    heart rests on the diaphragm, and no lung shows beneath it."""
    row, col, r_rows, r_cols, angle = t.heart
    dr, dc = t.rows - row, t.cols - col
    dr = np.where(dr > 0, 0.4 * dr, dr)
    c, s = np.cos(angle), np.sin(angle)
    return np.sqrt(((c * dc + s * dr) / r_cols) ** 2 + ((-s * dc + c * dr) / r_rows) ** 2)


def dome_rows(t: Thorax) -> np.ndarray:
    """(1, W): the row of the diaphragm at every column, across both domes and the gap between them."""
    columns = np.concatenate([d[0] for d in t.domes])
    order = np.argsort(columns)
    return np.interp(t.cols, columns[order], np.concatenate([d[1] for d in t.domes])[order])


def fill(t: Thorax, polygon: np.ndarray) -> np.ndarray:
    """A polygon of (row, column) vertices filled in as a boolean image (Pillow's scan-line fill: fast)."""
    canvas = Image.new("1", (t.width, t.height), 0)
    ImageDraw.Draw(canvas).polygon([(float(c), float(r)) for r, c in polygon], fill=1, outline=1)
    return np.asarray(canvas, dtype=bool)
