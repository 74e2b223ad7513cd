"""The phantom's radiograph: what lies in the X-ray's path, added up, then exposed and processed like a film.

A radiograph is a projection: each pixel shows how much the tissue along one ray absorbed. So the picture is
built as a sum of layers in "absorption" units (soft tissue about 1, air 0, bone and metal more), from the
outlines of :mod:`course_lib.data.phantom_anatomy`: the body, the air in the lungs (thinner towards their edges,
which is why a real lung border is soft), the heart and mediastinum, the diaphragm and abdomen, ribs, clavicles
and scapulae, vessels, breast shadows, disease and devices. Then an exposure curve, edge enhancement, blur and
noise vary from case to case as between machines and hospitals. Each layer draws its random numbers from the
case's generator in a fixed order.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter, zoom
from skimage.draw import disk, line_aa

from course_lib.data.phantom_anatomy import LEFT, RIGHT, Thorax, dome_rows, heart_radius

__all__ = ["smooth_noise", "body", "heart_shadow", "lung_air", "mediastinum_and_heart", "abdomen", "bones", "vessels",
           "breasts", "consolidation", "effusion", "devices", "markers", "expose"]


def _inside(distance: np.ndarray, softness: float) -> np.ndarray:
    """1 inside (distance < 0), 0 outside, with an edge ``softness`` pixels wide."""
    return 1.0 / (1.0 + np.exp(np.clip(distance / max(softness, 1e-3), -30, 30)))


def smooth_noise(rng: np.random.Generator, shape: tuple[int, int], factor: int, sigma: float) -> np.ndarray:
    """Smooth unit-scale noise: drawn and blurred on a grid ``factor`` times coarser, then enlarged (fast)."""
    small = gaussian_filter(rng.standard_normal((-(-shape[0] // factor), -(-shape[1] // factor)), dtype=np.float32),
                            sigma)
    small /= small.std() + 1e-6
    return zoom(small, factor, order=1, mode="nearest", grid_mode=True)[: shape[0], : shape[1]]


def body(rng: np.random.Generator, t: Thorax) -> np.ndarray:
    """Soft tissue: a torso of elliptic cross-section (thickest in the middle), neck and shoulders, sometimes arms."""
    shoulders = t.top - t.height * rng.uniform(-0.02, 0.08)
    neck = rng.uniform(0.2, 0.35)
    widening = 1 / (1 + np.exp(-(t.rows - shoulders) / (0.03 * t.height)))
    half = t.width * rng.uniform(0.36, 0.62) * (neck + (1 - neck) * widening)
    across = (t.cols - t.cx) / half
    tissue = np.clip(1 - across**2, 0, 1) ** rng.uniform(0.35, 0.6) * _inside(np.abs(t.cols - t.cx) - half, 2.0)
    tissue = rng.uniform(0.25, 0.4) + rng.uniform(0.4, 0.6) * tissue
    tissue *= _inside(np.abs(t.cols - t.cx) - half, 2.5)
    for side in (RIGHT, LEFT):                               # the shoulders: deltoid and the head of the humerus
        centre = (shoulders + t.height * rng.uniform(0.0, 0.06), t.cx + side * t.width * rng.uniform(0.4, 0.52))
        r = np.hypot((t.rows - centre[0]) / (0.09 * t.height), (t.cols - centre[1]) / (0.11 * t.width))
        tissue += rng.uniform(0.3, 0.6) * np.sqrt(np.clip(1 - r**2, 0, 1))
    if rng.random() < 0.4:                                   # arms held beside the chest, a dark gap between
        gap = half + t.width * rng.uniform(0.02, 0.05)
        arm = _inside(np.abs(np.abs(t.cols - t.cx) - gap - 0.06 * t.width) - 0.06 * t.width, 3.0)
        tissue += 0.6 * arm * (t.rows > shoulders + 0.05 * t.height)
    return tissue


def heart_shadow(rng: np.random.Generator, t: Thorax) -> np.ndarray:
    """The heart's silhouette, 1 inside, with a soft edge: it beats during the exposure."""
    softness = rng.uniform(0.08, 0.2)                        # its blur lies outside the outline, as a reader sees it
    return _inside(heart_radius(t) - 1 + softness, softness)


def _across(outline: np.ndarray, side: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row by row, for the pixels of ``outline``: (how far from its lateral wall, how far from its medial wall), and
    for the pixels beyond the lateral wall, how far beyond it; 0 elsewhere."""
    cols = np.arange(outline.shape[1], dtype=np.float32)[None, :]
    first = np.argmax(outline, axis=1)[:, None]
    last = (outline.shape[1] - 1 - np.argmax(outline[:, ::-1], axis=1))[:, None]
    lateral, medial = (last, first) if side == LEFT else (first, last)  # the patient's left lung is on the right
    from_lateral = np.where(outline, side * (lateral - cols), 0)
    from_medial = np.where(outline, side * (cols - medial), 0)
    beyond = np.where(outline.any(axis=1)[:, None], np.maximum(side * (cols - lateral), 0), 0)
    return from_lateral.astype(np.float32), from_medial.astype(np.float32), beyond.astype(np.float32)


def lung_air(rng: np.random.Generator, t: Thorax, outlines: list[np.ndarray], heart: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray]:
    """(the air's thickness over the lungs' whole outlines, the ribcage's rim beside their walls).

    Measured across real radiographs, the lung fields stay dark right up to the diaphragm, the apex and the
    mediastinum, where the border is a short step, but fade over a few centimetres towards the lateral wall, where
    the ribs are seen edge-on as a bright rim just outside it. Above each apex the neck's base is thin, so it is
    darker again without being lung. The lung goes on behind the heart, so less air shows there: a reader finds
    that border by the heart's shape.
    """
    ramp, medial_ramp = t.width * rng.uniform(0.04, 0.09), t.width * rng.uniform(0.01, 0.03)
    rim_width = t.width * rng.uniform(0.008, 0.02)
    depth = np.zeros((t.height, t.width), dtype=np.float32)
    rim = np.zeros_like(depth)
    for outline, side in zip(outlines, (RIGHT, LEFT)):
        from_lateral, from_medial, beyond = _across(outline, side)
        depth += (np.clip(from_lateral / ramp, 0, 1) ** rng.uniform(0.5, 0.9)
                  * np.clip(from_medial / medial_ramp, 0.4, 1) * outline)
        rim += np.exp(-((beyond - rim_width) / rim_width) ** 2) * (beyond > 0)
        rows, cols = np.nonzero(outline[: int(t.top + 0.05 * t.lung_height) + 2])
        if rows.size:                                        # the fossa above the apex
            centre = (rows.min() - 0.07 * t.lung_height, cols.mean())
            fossa = np.hypot((t.rows - centre[0]) / (0.06 * t.lung_height), (t.cols - centre[1]) / (0.07 * t.width))
            depth += rng.uniform(0.4, 0.8) * np.clip(1 - fossa**2, 0, 1) * ~outline
    # the edge's blur spills outwards: the border is where the step begins, as a reader draws it
    depth = np.maximum(gaussian_filter(depth, 1.0), gaussian_filter(depth, rng.uniform(2.5, 5.0)))
    behind_heart = 1 - rng.uniform(0.55, 0.85) * heart
    return depth * behind_heart, gaussian_filter(rim, 1.0)


def mediastinum_and_heart(rng: np.random.Generator, t: Thorax, heart: np.ndarray) -> np.ndarray:
    """The heart, the mediastinum above it (wider at the aortic knob), the spine behind, the trachea's air."""
    midline = np.abs(t.cols - t.cx - t.width * 0.01)
    width = t.width * (rng.uniform(0.02, 0.04) + 0.02 * np.clip((t.rows - t.top) / t.lung_height, 0, 1))
    knob = np.exp(-(((t.rows - t.top - 0.22 * t.lung_height) / (0.06 * t.lung_height)) ** 2
                    + ((t.cols - t.cx - 0.05 * t.width) / (0.035 * t.width)) ** 2))
    mediastinum = _inside(midline - width + 16.0, 16.0) * (t.rows > t.top - 0.15 * t.height)
    trachea = _inside(np.abs(t.cols - t.cx) - 0.018 * t.width, 2.0) * _inside(t.rows - t.top - 0.3 * t.lung_height, 4)
    dense = np.maximum(rng.uniform(0.3, 0.5) * heart, rng.uniform(0.25, 0.4) * np.maximum(mediastinum, knob))
    return dense - 0.2 * trachea


def abdomen(rng: np.random.Generator, t: Thorax) -> np.ndarray:
    """Below each diaphragm dome the liver (patient's right) and spleen and stomach (left): dense, with a gas bubble
    under the left dome now and then."""
    softness = rng.uniform(4.0, 12.0)                       # the dome's edge: sharp where it meets the lung
    dense = _inside(dome_rows(t) + softness - t.rows, softness)
    if rng.random() < 0.5:
        columns, rows = t.domes[1]
        centre = (float(rows.mean()) + 0.05 * t.height, float(columns.mean()))
        bubble = _inside(np.hypot(t.rows - centre[0], (t.cols - centre[1]) / 1.6) - rng.uniform(0.03, 0.07) * t.height,
                         3.0)
        dense -= rng.uniform(0.5, 0.9) * bubble * dense
    return dense


def _band(distance: np.ndarray, half: float, cortex: float) -> np.ndarray:
    """A bone seen side on: a band ``half`` wide, brighter at its two edges (the cortex)."""
    inside = np.clip(1 - (distance / half) ** 2, 0, 1)
    edges = np.exp(-(((np.abs(distance) - half) / (0.35 * half)) ** 2))
    return (1 - cortex) * inside + cortex * edges


def _rib(out: np.ndarray, curve: np.ndarray, half: float, cortex: float, weight: np.ndarray) -> None:
    """Adds one rib, ``curve`` (1, W) its centre row per column, to ``out`` in the rows it can reach (fast)."""
    reach = np.nonzero(weight.any(axis=0))[0]
    if reach.size == 0:
        return
    first = int(max(np.floor(curve[0, reach].min() - 2 * half), 0))
    last = int(min(np.ceil(curve[0, reach].max() + 2 * half) + 1, out.shape[0]))
    if first < last:
        rows = np.arange(first, last, dtype=np.float32)[:, None]
        out[first:last] += _band(rows - curve, half, cortex) * weight


def bones(rng: np.random.Generator, t: Thorax, near_lungs: np.ndarray) -> np.ndarray:
    """Posterior ribs (arcs from the spine, out and down the wall), fainter anterior ribs, clavicles, the spine's
    vertebrae and, in some films, a scapula's edge over the upper lung. Ribs show most over the lungs' air
    (``near_lungs``: the lung masks blurred, 1 well inside)."""
    out = np.zeros((t.height, t.width), dtype=np.float32)
    d = np.abs(t.cols - t.cx) / t.half_width                 # 0 at the midline, 1 at the widest wall
    spacing = t.lung_height / rng.uniform(8.5, 10.0)
    thick = spacing * rng.uniform(0.22, 0.32)
    cortex = rng.uniform(0.3, 0.6)
    posterior_span = ((d > 0.06) & (d < 1.15)).astype(np.float32)
    anterior_span = ((d > 0.25) & (d < 1.0)).astype(np.float32)
    for k in range(11):
        start = t.top - 0.6 * spacing + k * spacing + rng.normal(0, 0.08 * spacing)
        bend = rng.uniform(0.25, 0.45)
        curve = start - 0.08 * t.lung_height * d + bend * t.lung_height * np.clip(d - 0.45, 0, None) ** 2
        fading = 1 - 0.4 * k / 10                            # lower ribs lie deeper, behind more tissue
        _rib(out, curve, thick * rng.uniform(0.8, 1.2), cortex, rng.uniform(0.35, 0.55) * fading * posterior_span)
        front = start + 0.25 * t.lung_height + 0.18 * t.lung_height * np.clip(1 - d, 0, None) ** 1.5
        _rib(out, front, thick * 1.3, 0.0, 0.08 * anterior_span)
    out *= 0.15 + 0.85 * near_lungs
    for side in (RIGHT, LEFT):
        u = side * (t.cols - t.cx) / (0.45 * t.width)
        curve = t.top + t.lung_height * (rng.uniform(0.06, 0.16) - 0.15 * u + 0.03 * np.sin(np.pi * u))
        _rib(out, curve, 0.018 * t.height, 0.3, 0.3 * ((u > 0.05) & (u < 1.05)))
        if rng.random() < 0.5:
            edge = t.cx + side * t.half_width * (rng.uniform(0.75, 0.9) - 0.15 * (t.rows - t.top) / t.lung_height)
            blade = _inside(side * (edge - t.cols), 3.0) * _inside(t.rows - t.top - 0.5 * t.lung_height, 10.0)
            out += rng.uniform(0.06, 0.12) * blade * (t.rows > t.top - 0.05 * t.height)
    spine = _inside(np.abs(t.cols - t.cx) - 0.04 * t.width, 2.0)
    vertebra = 0.5 + 0.5 * np.cos(2 * np.pi * (t.rows - t.top) / (spacing * 0.95))
    return out + spine * (0.15 + 0.1 * vertebra)


def _branch(canvas: np.ndarray, rng: np.random.Generator, start: tuple[float, float], angle: float,
            length: float, level: int) -> None:
    """One vessel and, recursively, its two narrower, shorter branches, drawn into ``canvas``."""
    end = (start[0] + length * np.sin(angle), start[1] + length * np.cos(angle))
    rows, cols, value = line_aa(int(start[0]), int(start[1]), int(end[0]), int(end[1]))
    keep = (rows >= 0) & (rows < canvas.shape[0]) & (cols >= 0) & (cols < canvas.shape[1])
    canvas[rows[keep], cols[keep]] = np.maximum(canvas[rows[keep], cols[keep]], value[keep] * (0.6 ** (4 - level)))
    if level > 0:
        for turn in (-1, 1):
            _branch(canvas, rng, end, angle + turn * rng.uniform(0.2, 0.7), length * rng.uniform(0.55, 0.85),
                    level - 1)


def vessels(rng: np.random.Generator, t: Thorax, near_lungs: np.ndarray) -> np.ndarray:
    """Lung markings: vessels branching from each hilum, thick and bright near it, fading towards the edges, over
    a faint mottle. Drawn on a grid three times coarser, so that a one-pixel line there is a vessel a few pixels
    wide here."""
    scale = 3
    canvas = np.zeros((-(-t.height // scale), -(-t.width // scale)), dtype=np.float32)
    for side in (RIGHT, LEFT):
        hilum = ((t.top + t.lung_height * rng.uniform(0.38, 0.5)) / scale,
                 (t.cx + side * t.width * rng.uniform(0.07, 0.1)) / scale)
        for base in np.linspace(-1.3, 1.3, 5) + rng.normal(0, 0.2, 5):
            angle = base if side == LEFT else np.pi - base
            _branch(canvas, rng, hilum, angle, t.lung_height * rng.uniform(0.1, 0.15) / scale, 4)
        rows, cols = disk(hilum, 0.025 * t.width / scale, shape=canvas.shape)
        canvas[rows, cols] = np.maximum(canvas[rows, cols], 0.8)
    canvas = gaussian_filter(canvas, rng.uniform(0.6, 1.1))
    marked = zoom(canvas, scale, order=1, grid_mode=True, mode="nearest")[: t.height, : t.width]
    mottle = np.clip(smooth_noise(rng, (t.height, t.width), 4, 1.0), -2, 2)
    return (2.0 * marked + 0.08 * mottle) * near_lungs


def breasts(rng: np.random.Generator, t: Thorax) -> np.ndarray:
    """Soft tissue over both lower lung fields, with a curved lower edge (in about one film of two)."""
    if rng.random() > 0.5:
        return np.zeros((t.height, t.width), dtype=np.float32)
    out = np.zeros((t.height, t.width), dtype=np.float32)
    radius = (t.lung_height * rng.uniform(0.2, 0.3), t.half_width * rng.uniform(0.5, 0.7))
    for side in (RIGHT, LEFT):
        centre = (t.bottom - t.lung_height * rng.uniform(0.05, 0.2), t.cx + side * t.half_width * rng.uniform(0.5, 0.7))
        r = np.hypot((t.rows - centre[0]) / radius[0], (t.cols - centre[1]) / radius[1])
        out += np.sqrt(np.clip(1 - r**2, 0, 1))
    return rng.uniform(0.2, 0.5) * out


def consolidation(rng: np.random.Generator, t: Thorax, near_lungs: np.ndarray) -> np.ndarray:
    """Tuberculous infiltrates: irregular soft patches, mostly in the upper zones, that can fill most of the air of a
    region; the lung's outline (and mask) stays where it was."""
    out = np.zeros((t.height, t.width), dtype=np.float32)
    for _ in range(int(rng.integers(1, 3))):
        side = rng.choice([RIGHT, LEFT])
        centre = (t.top + t.lung_height * rng.uniform(0.05, 0.6),
                  t.cx + side * t.half_width * rng.uniform(0.3, 0.9))
        radius = t.lung_height * rng.uniform(0.06, 0.16)
        blob = np.exp(-((t.rows - centre[0]) ** 2 + (t.cols - centre[1]) ** 2) / (2 * radius**2))
        texture = smooth_noise(rng, (t.height, t.width), 8, 1.2)
        out += np.clip(blob * (1.1 + 0.5 * texture) - 0.25, 0, None)
    return rng.uniform(0.25, 0.6) * np.clip(out, 0, 1) * near_lungs


def effusion(rng: np.random.Generator, t: Thorax, lung: np.ndarray, side: int) -> tuple[np.ndarray, np.ndarray]:
    """Fluid at the base of one lung, rising towards the wall in a meniscus: (the lung without it, the fluid as
    soft tissue with a blurred upper edge). It blunts the costophrenic angle and hides the border below it."""
    level = t.bottom - t.lung_height * rng.uniform(0.08, 0.25)
    lateral = side * (t.cols - t.cx) / t.half_width
    meniscus = level - 0.15 * t.lung_height * np.clip(lateral - 0.3, 0, None) ** 2
    fluid = lung & (t.rows > meniscus)
    softness = rng.uniform(3.0, 8.0)
    return lung & ~fluid, gaussian_filter(fluid.astype(np.float32), softness)


def devices(rng: np.random.Generator, t: Thorax) -> np.ndarray:
    """What patients wear: ECG electrodes with their wires, now and then a pacemaker and its lead."""
    out = np.zeros((t.height, t.width), dtype=np.float32)
    if rng.random() < 0.25:
        for _ in range(int(rng.integers(2, 6))):
            centre = (rng.uniform(t.top, t.bottom), t.cx + rng.uniform(-1, 1) * t.half_width * 1.1)
            rows, cols = disk(centre, 0.012 * t.width, shape=out.shape)
            out[rows, cols] += 1.5
            end = (min(t.height - 1, centre[0] + rng.uniform(0.1, 0.4) * t.height), centre[1] + rng.normal(0, 40))
            rows, cols, value = line_aa(int(centre[0]), int(centre[1]), int(end[0]), int(np.clip(end[1], 0, t.width - 1)))
            keep = (rows < t.height) & (cols < t.width)
            out[rows[keep], cols[keep]] += 0.8 * value[keep]
    if rng.random() < 0.06:
        corner = (int(t.top + 0.1 * t.lung_height), int(t.cx - 0.55 * t.half_width))
        out[corner[0]:corner[0] + int(0.06 * t.height), corner[1]:corner[1] + int(0.08 * t.width)] += 3.0
        rows, cols, value = line_aa(corner[0] + 10, corner[1] + 10, int(t.heart[0]), int(t.heart[1]))
        out[rows, cols] += 2.0 * value
    return gaussian_filter(out, 0.7)


def markers(rng: np.random.Generator, t: Thorax) -> np.ndarray:
    """Burned-in lead markers and a label box in the top corners, as radiographers leave them."""
    out = np.zeros((t.height, t.width), dtype=np.float32)
    size = int(t.width * rng.uniform(0.025, 0.04))
    if rng.random() < 0.8:                                   # a side letter: a block with a notch
        r, c = int(rng.uniform(0.02, 0.08) * t.height), int(rng.uniform(0.03, 0.12) * t.width)
        out[r:r + 2 * size, c:c + size] = 1.0
        out[r + size // 2:r + size, c + size // 3:c + size] = 0.0
    if rng.random() < 0.6:                                   # a label: a white box with lines of dark text
        r, c = int(rng.uniform(0.02, 0.06) * t.height), int(rng.uniform(0.72, 0.85) * t.width)
        box = out[r:r + 3 * size, c:c + 5 * size]
        box[:] = 1.0
        for line in range(2):
            text = rng.random(box[1:-1, 1:-1].shape[1] // 3) < 0.6
            row = box[1 + line * (3 * size // 2): (line + 1) * (3 * size // 2) - 1, 1:-1]
            row[:, : 3 * text.size] *= 1.0 - 0.9 * np.repeat(text, 3)[None, : row.shape[1]]
    return out


def expose(rng: np.random.Generator, absorption: np.ndarray, marks: np.ndarray) -> np.ndarray:
    """From absorption to a processed 8-bit-ready radiograph in [0, 1]: a random exposure window and gamma, edge
    enhancement, blur, grain and quantum noise, and a tilt of brightness across the film (the heel effect)."""
    film = 1 - np.exp(-rng.uniform(0.7, 1.3) * np.clip(absorption, 0, None))   # bright where much was absorbed
    high = np.percentile(film, rng.uniform(99.0, 99.9)) * rng.uniform(0.97, 1.1)
    low = high * rng.uniform(0.0, 0.04)                     # the window starts at bare plate, not at the lungs
    image = np.clip((film - low) / (high - low), 0, 1) ** rng.uniform(1.05, 1.5)
    if rng.random() < 0.7:
        sigma = rng.uniform(2.0, 8.0)
        image = image + rng.uniform(0.2, 1.0) * (image - gaussian_filter(image, sigma))
    if rng.random() < 0.4:                                   # scattered radiation: a fog that lifts the blacks
        fog = rng.uniform(0.02, 0.08)
        image = fog + (1 - fog) * image
    image = gaussian_filter(image, rng.uniform(0.4, 1.3))
    heel = 1 + rng.uniform(-0.08, 0.08) * np.linspace(-1, 1, image.shape[1], dtype=np.float32)[None, :]
    image = image * heel
    grain = 0.3 * smooth_noise(rng, image.shape, 2, 0.6) + rng.standard_normal(image.shape, dtype=np.float32)
    image = image + rng.uniform(0.006, 0.025) * grain * np.sqrt(np.clip(image, 0.05, 1))
    return np.clip(np.maximum(image, marks * rng.uniform(0.85, 1.0)), 0, 1)

