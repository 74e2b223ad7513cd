"""An offline stand-in for the Montgomery set: synthetic chest radiographs with left/right lung masks.

The phantom is the course's default data, so it has to be as hard as real radiographs and alike enough that
what a network learns on it carries over (benchmarks/phantom_realism.py measures both, RESULTS.md records them).
Each case is an anatomy (:mod:`phantom_anatomy`: lung outlines, the heart's shadow cutting the smaller left lung,
costophrenic angles, domes) seen through an X-ray (:mod:`phantom_xray`: the layers a ray crosses, then a film's
exposure, processing and noise). Tuberculosis cases (``_1``) add opacities, fluid that blunts a base, or a lung
that has lost volume; any case may carry devices; some have black bands of unexposed plate (so cropping matters).
Every case is drawn from its own seed, so a dataset is identical for a given ``seed`` whatever ``n_cases`` or the
number of workers. 8-bit PNGs, like the reduced set.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import zlib
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image
from scipy.ndimage import gaussian_filter, label, rotate
from tqdm.auto import tqdm

from course_lib.data import phantom_xray as xray
from course_lib.data.files import IMAGE_FOLDER, LEFT_FOLDER, RIGHT_FOLDER
from course_lib.data.phantom_anatomy import LEFT, RIGHT, Thorax, draw_thorax, fill, heart_radius
from course_lib.data.splits import all_case_names

__all__ = ["make_phantom_dataset", "render_case", "PHANTOM_VERSION"]

PHANTOM_VERSION = 2
_MARKER = "phantom.json"


def _unexposed_bands(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Black bands of unexposed plate at some borders, the reason the lab crops: True where the plate is black.
    The bottom band's edge is sometimes tilted, which leaves a black wedge that cropping cannot remove."""
    band = np.zeros((height, width), dtype=bool)
    rows = np.arange(height)[:, None]
    if rng.random() < 0.5:
        edge = height * (1 - rng.uniform(0.03, 0.14)) + rng.normal(0, 0.012) * (np.arange(width) - width / 2)
        band |= rows > edge[None, :]
    for probability, index in ((0.3, np.s_[:, -int(width * rng.uniform(0.02, 0.10)):]),
                               (0.12, np.s_[:int(height * rng.uniform(0.02, 0.06)), :]),
                               (0.12, np.s_[:, :int(width * rng.uniform(0.02, 0.06))])):
        if rng.random() < probability:
            band[index] = True
    return band


def _largest_piece(mask: np.ndarray) -> np.ndarray:
    """The largest connected piece of ``mask``: the heart can cut a sliver off a lung's base, which a reader
    would not draw as lung."""
    pieces, count = label(mask)
    if count <= 1:
        return mask
    return pieces == 1 + int(np.argmax(np.bincount(pieces.ravel())[1:]))


def _absorption(rng: np.random.Generator, thorax: Thorax, outlines: list[np.ndarray], lungs: list[np.ndarray],
                tb: bool) -> np.ndarray:
    """Every layer of :mod:`phantom_xray` added up in absorption units. ``outlines`` are the lungs' whole outlines,
    ``lungs`` the parts a reader outlines (the heart cut out); an effusion takes its fluid out of both."""
    fluid = np.zeros((thorax.height, thorax.width), dtype=np.float32)
    if tb and rng.random() < 0.35:
        side = int(rng.integers(0, 2))
        lungs[side], fluid = xray.effusion(rng, thorax, lungs[side], (RIGHT, LEFT)[side])
        outlines[side] = outlines[side] & ~(fluid > 0.5)
    both = lungs[0] | lungs[1]
    near_lungs = gaussian_filter(both.astype(np.float32), 3.0)
    heart = xray.heart_shadow(rng, thorax)
    air, rim = xray.lung_air(rng, thorax, outlines, heart)
    # the lungs replace part of the chest's thickness with air, never all of it: a lung field is never black
    absorption = xray.body(rng, thorax) * (1 - rng.uniform(0.8, 0.95) * np.clip(air, 0, 1))
    absorption += rng.uniform(0.15, 0.35) * rim
    # the heart's lower part lies behind the abdomen, as dense as it: the denser of the two shows
    absorption += np.maximum(xray.mediastinum_and_heart(rng, thorax, heart),
                             rng.uniform(0.5, 0.8) * xray.abdomen(rng, thorax))
    absorption += xray.bones(rng, thorax, near_lungs) * rng.uniform(0.6, 1.2)
    absorption += rng.uniform(0.1, 0.25) * xray.vessels(rng, thorax, near_lungs) + xray.breasts(rng, thorax)
    absorption += rng.uniform(0.4, 0.7) * fluid
    if tb:
        absorption += xray.consolidation(rng, thorax, near_lungs)
    return absorption + xray.devices(rng, thorax)


def render_case(seed: int, tb: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One synthetic radiograph: (image uint8 (H, W), right-lung mask, left-lung mask), masks 0/255.

    'Left' is the patient's left lung, shown on the image's right side (the radiological convention). Every
    random number comes from ``seed``, drawn in a fixed order by the parts below, so a case never changes.
    """
    rng = np.random.default_rng(seed)
    height, width = int(rng.integers(60, 71)) * 8, int(rng.integers(56, 67)) * 8
    volume_loss = (RIGHT, LEFT)[int(rng.integers(0, 2))] if tb and rng.random() < 0.25 else 0
    thorax = draw_thorax(rng, height, width, volume_loss)
    outlines = [fill(thorax, outline) for outline in thorax.lungs]
    outside_heart = heart_radius(thorax) >= 1
    lungs = [_largest_piece(outline & outside_heart) for outline in outlines]
    absorption = rotate(_absorption(rng, thorax, outlines, lungs, tb), thorax.tilt, reshape=False, order=1, mode="nearest")
    sides = rotate(lungs[0] + 2 * lungs[1].astype(np.uint8), thorax.tilt, reshape=False, order=0)
    lungs = [sides == 1, sides == 2]
    image = xray.expose(rng, absorption, xray.markers(rng, thorax))
    band = _unexposed_bands(rng, height, width)
    image[band] = 0.0
    pixels = np.round(image * 255).astype(np.uint8)
    right_mask, left_mask = ((lung & ~band).astype(np.uint8) * 255 for lung in lungs)
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


def _write_case(job: tuple[Path, str, int]) -> None:
    """Renders one named case and writes its image and two masks under ``folder`` (a worker's whole job)."""
    folder, name, seed = job
    image, right, left = render_case(_case_seed(seed, name), tb=name.endswith("_1"))
    for sub, pixels in ((IMAGE_FOLDER, image), (LEFT_FOLDER, left), (RIGHT_FOLDER, right)):
        Image.fromarray(pixels, mode="L").save(folder / sub / f"{name}.png", compress_level=1)


def make_phantom_dataset(root: str | Path, n_cases: int = 138, seed: int = 0, progress: bool = True,
                         workers: int | None = None) -> Path:
    """Writes ``root/MontgomerySet`` (CXR_png/, ManualMask/leftMask/, ManualMask/rightMask/) and returns it.

    Uses the real set's case names (all 138 by default; fewer are spread over the sorted names).
    Idempotent: an existing phantom with the same ``n_cases``, ``seed`` and version is reused. The set
    is written to a temporary folder and renamed into place, so a half-written set is never visible.
    ``workers`` processes render cases in parallel (default: the CPU count, at most 8); every case comes from
    its own seed, so the set is the same whatever the number of workers.
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
        jobs = [(staged, name, int(seed)) for name in names]
        workers = min(workers or os.cpu_count() or 1, 8, len(jobs))
        bar = dict(total=len(jobs), desc="phantom cases", disable=not progress, leave=False)
        if workers > 1:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                list(tqdm(pool.map(_write_case, jobs, chunksize=2), **bar))
        else:
            list(tqdm(map(_write_case, jobs), **bar))
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
