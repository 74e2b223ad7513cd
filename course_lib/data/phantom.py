"""An offline stand-in for the Montgomery set: synthetic chest radiographs with left/right lung masks.

The phantom is meant to be a real (if easier) learning problem, so the course runs without a
download: a body outline with neck and shoulders, lungs darker than the soft tissue around them,
a heart that overlaps the left lung (and is cut out of its mask, as in the real masks), mediastinum
and spine, ribs and clavicles crossing the lungs, diaphragm domes with the bright abdomen below,
noise and lung texture, varied sizes, positions and aspect ratios, TB-like opacities in ``_1`` cases,
and black bands at some borders (so cropping matters). Each case is drawn from its own seed, so a
dataset is identical for a given ``seed`` whatever ``n_cases``. 8-bit PNGs, like the reduced set.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from scipy.ndimage import gaussian_filter, zoom
from tqdm.auto import tqdm

from course_lib.data.files import IMAGE_FOLDER, LEFT_FOLDER, RIGHT_FOLDER
from course_lib.data.splits import all_case_names

__all__ = ["make_phantom_dataset", "render_case", "PHANTOM_VERSION"]

PHANTOM_VERSION = 1
_MARKER = "phantom.json"


def _smooth_inside(distance: np.ndarray, softness: float) -> np.ndarray:
    """1 inside (distance < 0), 0 outside, with a soft edge ``softness`` pixels wide."""
    return 1.0 / (1.0 + np.exp(np.clip(distance / max(softness, 1e-3), -30, 30)))


def _band(y: np.ndarray, centre: np.ndarray, half_thickness: float) -> np.ndarray:
    """A smooth bright band around the curve y = centre (a rib or a clavicle)."""
    return np.clip(1.0 - ((y - centre) / half_thickness) ** 2, 0.0, 1.0)


def _coarse_noise(rng: np.random.Generator, shape: tuple[int, int], factor: int, sigma: float) -> np.ndarray:
    """Smooth unit-scale noise: drawn and blurred on a grid ``factor`` times coarser, then enlarged (fast)."""
    small = gaussian_filter(rng.standard_normal((-(-shape[0] // factor), -(-shape[1] // factor)), dtype=np.float32), sigma)
    small /= small.std() + 1e-6
    large = zoom(small, factor, order=1, mode="nearest", grid_mode=True)
    return large[: shape[0], : shape[1]]


@dataclass(frozen=True)
class _Frame:
    """Where a case's anatomy sits: the image size, its pixel grids and the body and lung landmarks (pixels)."""

    height: int
    width: int
    y: np.ndarray  # (H, 1) row coordinates
    x: np.ndarray  # (1, W) column coordinates: rows and columns broadcast, half the arithmetic
    cx: float
    body_half: float
    lung_top: float
    lung_bottom: float
    shoulder_y: float
    medial: float
    lateral: float

    @property
    def lung_height(self) -> float:
        return self.lung_bottom - self.lung_top


def _frame(rng: np.random.Generator) -> _Frame:
    height, width = int(rng.integers(60, 71)) * 8, int(rng.integers(56, 67)) * 8
    cx = width / 2 + rng.normal(0, 0.025 * width)
    body_half = width * rng.uniform(0.40, 0.47)
    lung_top = height * rng.uniform(0.10, 0.20)
    lung_bottom = height * rng.uniform(0.62, 0.76)
    shoulder_y = lung_top - height * rng.uniform(0.02, 0.06)
    medial = width * rng.uniform(0.035, 0.06)
    lateral = body_half * rng.uniform(0.76, 0.88)
    return _Frame(height, width, np.arange(height, dtype=np.float32)[:, None],
                  np.arange(width, dtype=np.float32)[None, :], cx, body_half, lung_top, lung_bottom, shoulder_y,
                  medial, lateral)


def _body(f: _Frame) -> tuple[np.ndarray, np.ndarray]:
    """(the soft-tissue image, the body's mask): a cylinder brighter where thicker, a neck above the shoulders."""
    half_width = f.body_half * (0.32 + 0.68 / (1 + np.exp(-(f.y - f.shoulder_y) / (0.025 * f.height))))
    across = (f.x - f.cx) / half_width
    body = _smooth_inside(np.abs(f.x - f.cx) - half_width, 3.0)
    return 0.08 + body * (0.28 + 0.30 * np.sqrt(np.clip(1 - across**2, 0, 1))), body


def _lungs(rng: np.random.Generator, f: _Frame, image: np.ndarray, body: np.ndarray) -> list[np.ndarray]:
    """Both lung masks (patient's right first): rounded apex, lateral wall along the ribcage, a diaphragm dome;
    adds the bright abdomen below each dome to ``image``."""
    masks = []
    for side in (-1, 1):                        # -1: image left = patient's right lung
        distance_x = side * (f.x - f.cx)
        v = np.clip((f.y - f.lung_top) / f.lung_height, 0, 1.3)
        width_here = (f.lateral - f.medial) * (0.55 + 0.45 * np.sqrt(np.clip(v * 1.4, 0, 1)))
        u = (distance_x - f.medial) / width_here
        dome = f.lung_height * rng.uniform(0.07, 0.13) * (1.15 if side == -1 else 1.0)
        bottom = f.lung_bottom + 0.07 * f.lung_height * u - dome * np.clip(4 * u * (1 - u), 0, 1)
        top = f.lung_top + 0.30 * f.lung_height * (1 - np.sqrt(np.clip(1 - ((u - 0.45) / 0.62) ** 2, 0, 1)))
        masks.append((u > 0) & (u < 1) & (f.y > top) & (f.y < bottom))
        image += 0.10 * body * _smooth_inside(bottom - f.y, 3.0) * ((u > -0.2) & (u < 1.1))
    return masks


def _heart(rng: np.random.Generator, f: _Frame, masks: list[np.ndarray]) -> np.ndarray:
    """The heart's elliptic radius map: low on the patient's left, overlapping that lung, cut out of both masks."""
    heart_cx = f.cx + f.width * rng.uniform(0.03, 0.07)
    heart_cy = f.lung_bottom - f.lung_height * rng.uniform(0.18, 0.26)
    heart_rx, heart_ry = f.width * rng.uniform(0.12, 0.17), f.lung_height * rng.uniform(0.20, 0.27)
    tilt = rng.uniform(-0.35, -0.1)
    hx, hy = f.x - heart_cx, f.y - heart_cy
    heart_r = ((hx * np.cos(tilt) + hy * np.sin(tilt)) / heart_rx) ** 2 + \
              ((-hx * np.sin(tilt) + hy * np.cos(tilt)) / heart_ry) ** 2
    masks[1] &= ~(heart_r < 1)
    masks[0] &= ~(heart_r < 0.8)
    return heart_r


def _air_and_soft_tissue(rng: np.random.Generator, f: _Frame, image: np.ndarray, masks: list[np.ndarray],
                         heart_r: np.ndarray, body: np.ndarray, tb: bool) -> np.ndarray:
    """Darken the lungs (with texture), brighten heart and mediastinum; returns the blurred air map."""
    air = gaussian_filter((masks[0] | masks[1]).astype(np.float32), 2.0)
    texture = 0.12 * _coarse_noise(rng, image.shape, 2, 1.25)
    texture_scale = 0.10 if tb else 0.06
    image -= air * (rng.uniform(0.30, 0.40) - texture_scale * texture
                    - 0.06 * np.clip((f.y - f.lung_top) / f.lung_height, 0, 1))
    image += 0.13 * _smooth_inside(np.sqrt(heart_r) - 1, 0.08) * body
    image += 0.08 * _smooth_inside(np.abs(f.x - f.cx) - f.medial * 1.1, 3.0) * (f.y > f.shoulder_y)
    return air


def _bones(rng: np.random.Generator, f: _Frame, image: np.ndarray, body: np.ndarray) -> None:
    """The spine (vertebrae with darker discs), the ribs (arcs leaving the spine, curving down the lateral wall)
    and the clavicles (gently S-shaped, from the sternum towards the shoulders)."""
    spine = _smooth_inside(np.abs(f.x - f.cx) - f.width * 0.035, 2.0) * (f.y > f.shoulder_y - 0.1 * f.height)
    vertebra = 0.5 + 0.5 * np.cos(2 * np.pi * (f.y - f.lung_top) / (f.lung_height / rng.uniform(7.5, 9.5)))
    image += spine * (0.04 + 0.05 * vertebra)
    spacing = f.lung_height / rng.uniform(8.0, 9.5)
    thickness = spacing * rng.uniform(0.18, 0.26)
    for side in (-1, 1):
        t = side * (f.x - f.cx) / f.lateral               # (1, W): a rib's height depends on the column only
        along = ((t > 0.03) & (t < 1.12)).astype(np.float32)
        for k in range(11):
            start = f.lung_top - 0.45 * spacing + k * spacing
            curve = (start - 0.05 * f.lung_height * t
                     + 0.30 * f.lung_height * np.clip(t - 0.35, 0, None) ** 2 * (1 + 0.1 * k))
            rows = slice(max(int(curve[along > 0].min() - thickness), 0) if along.any() else 0,
                         max(int(curve[along > 0].max() + thickness) + 2, 0) if along.any() else 0)
            image[rows] += 0.07 * along * body[rows] * _band(f.y[rows], curve, thickness)
    for side in (-1, 1):
        t = side * (f.x - f.cx) / (0.36 * f.width)
        curve = f.lung_top + 0.02 * f.height - 0.09 * f.height * t + 0.02 * f.height * np.sin(np.pi * t)
        image += 0.17 * ((t > 0.08) & (t < 1.0)) * _band(f.y, curve, 0.016 * f.height)


def _opacities(rng: np.random.Generator, f: _Frame, image: np.ndarray, air: np.ndarray) -> None:
    """Tuberculosis-like opacities: a few soft bright patches, mostly in the upper lung fields."""
    for _ in range(int(rng.integers(1, 4))):
        side = rng.choice([-1, 1])
        bx = f.cx + side * rng.uniform(f.medial + 0.2 * (f.lateral - f.medial), f.medial + 0.8 * (f.lateral - f.medial))
        by = f.lung_top + f.lung_height * rng.uniform(0.1, 0.55)
        radius = f.lung_height * rng.uniform(0.04, 0.10)
        image += 0.14 * air * np.exp(-((f.x - bx) ** 2 + (f.y - by) ** 2) / (2 * radius**2))


def _unexposed_bands(rng: np.random.Generator, f: _Frame) -> np.ndarray:
    """Black bands of unexposed plate at some borders, the reason the lab crops: True where the plate is black."""
    band = np.zeros((f.height, f.width), dtype=bool)
    for probability, index in ((0.5, np.s_[-int(f.height * rng.uniform(0.03, 0.14)):, :]),
                               (0.3, np.s_[:, -int(f.width * rng.uniform(0.02, 0.10)):]),
                               (0.12, np.s_[:int(f.height * rng.uniform(0.02, 0.06)), :]),
                               (0.12, np.s_[:, :int(f.width * rng.uniform(0.02, 0.06))])):
        if rng.random() < probability:
            band[index] = True
    return band


def render_case(seed: int, tb: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One synthetic radiograph: (image uint8 (H, W), right-lung mask, left-lung mask), masks 0/255.

    'Left' is the patient's left lung, shown on the image's right side (the radiological convention). Every
    random number comes from ``seed``, drawn in a fixed order by the parts below, so a case never changes.
    """
    rng = np.random.default_rng(seed)
    frame = _frame(rng)
    image, body = _body(frame)
    masks = _lungs(rng, frame, image, body)
    heart_r = _heart(rng, frame, masks)
    air = _air_and_soft_tissue(rng, frame, image, masks, heart_r, body, tb)
    _bones(rng, frame, image, body)
    if tb:
        _opacities(rng, frame, image, air)
    image += 0.012 * rng.standard_normal(image.shape, dtype=np.float32) + 0.03 * _coarse_noise(rng, image.shape, 8, 1.0)
    image = np.clip(image, 2 / 255, 1.0)
    band = _unexposed_bands(rng, frame)
    image[band] = 0.0
    pixels = np.round(image * 255).astype(np.uint8)
    right_mask, left_mask = ((m & ~band).astype(np.uint8) * 255 for m in masks)
    return pixels, right_mask, left_mask


def _case_seed(seed: int, name: str) -> int:
    return (int(seed) * 1_000_003 + zlib.crc32(name.encode())) % 2**32


def _phantom_names(n_cases: int) -> list[str]:
    names = all_case_names()
    if not 1 <= n_cases <= len(names):
        raise ValueError(f"n_cases must be between 1 and {len(names)} (the Montgomery case names), got {n_cases}.")
    picked = np.linspace(0, len(names) - 1, n_cases).round().astype(int)
    return [names[i] for i in picked]


def _recipe_of(folder: Path) -> dict | None:
    """The recipe a finished phantom folder was made with, or None."""
    try:
        return json.loads((folder / _MARKER).read_text())
    except (OSError, ValueError):
        return None


def make_phantom_dataset(root: str | Path, n_cases: int = 138, seed: int = 0, progress: bool = True) -> Path:
    """Writes ``root/MontgomerySet`` (CXR_png/, ManualMask/leftMask/, ManualMask/rightMask/) and returns it.

    Uses the real set's case names (all 138 by default; fewer are spread over the sorted names).
    Idempotent: an existing phantom with the same ``n_cases``, ``seed`` and version is reused. The set
    is written to a temporary folder and renamed into place, so a half-written set is never visible.
    """
    root = Path(root)
    final = root / "MontgomerySet"
    names = _phantom_names(int(n_cases))
    recipe = {"kind": "phantom", "version": PHANTOM_VERSION, "n_cases": int(n_cases), "seed": int(seed)}
    if _recipe_of(final) == recipe:
        return final
    root.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix=".phantom-", dir=root))
    try:
        staged = workdir / "MontgomerySet"
        for folder in (IMAGE_FOLDER, LEFT_FOLDER, RIGHT_FOLDER):
            (staged / folder).mkdir(parents=True)
        for name in tqdm(names, desc="phantom cases", disable=not progress, leave=False):
            image, right, left = render_case(_case_seed(seed, name), tb=name.endswith("_1"))
            for folder, pixels in ((IMAGE_FOLDER, image), (LEFT_FOLDER, left), (RIGHT_FOLDER, right)):
                Image.fromarray(pixels, mode="L").save(staged / folder / f"{name}.png", compress_level=1)
        (staged / _MARKER).write_text(json.dumps(recipe))
        if _recipe_of(final) == recipe:             # another process finished the same set meanwhile
            return final
        if final.exists():
            shutil.move(str(final), str(workdir / "old"))
        try:
            staged.rename(final)
        except OSError:
            if _recipe_of(final) != recipe:         # unless another process won the race with the same set
                raise
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return final
