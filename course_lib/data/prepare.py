"""The lab's load -> crop -> resize pipeline for a whole folder, decoded in parallel and cached on disk.

Decoding full-size 16-bit originals is the slow part, so cases are prepared by a pool of worker
threads (Pillow's decoder and scikit-image's resampling release the GIL; threads start instantly and
work the same in notebooks on every platform), and the result is cached as an ``.npz`` under ``settings.data_root()/cache``. The cache
key hashes the source files (names, sizes, modification times) and the parameters, so editing the
data or the size makes a new entry. Loading uses ``allow_pickle=False``: a cache never runs code.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
from PIL import Image
from tqdm.auto import tqdm

from course_lib import settings
from course_lib.atomic import atomic_writer
from course_lib.data.errors import DatasetError
from course_lib.data.files import IMAGE_FOLDER, MASK_FOLDER, CaseFiles, find_cases, read_case
from course_lib.data.sources import default_dataset, split_for
from course_lib.data.transforms import crop_case, resize_image, resize_label, size_pair

__all__ = ["prepare_arrays", "prepare_split", "prepare_case", "shrink_large", "cache_path"]

CACHE_VERSION = 2


def shrink_large(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A 2-D float image more than 4x larger than ``size`` pre-shrunk to twice ``size`` by Pillow's
    anti-aliased bilinear filter; smaller images are returned as they are.

    Anti-aliasing a 4892x4020 original for 256x256 costs scikit-image seconds per image; Pillow's
    C filter does the bulk in milliseconds, and the final step stays ``resize_image``. Both map the
    whole extent onto the whole extent, so the label (resized directly) stays aligned.
    """
    height, width = image.shape
    if height <= 4 * size[0] and width <= 4 * size[1]:
        return image
    target = (min(width, 2 * size[1]), min(height, 2 * size[0]))        # Pillow wants (width, height)
    shrunk = Image.fromarray(np.ascontiguousarray(image, dtype=np.float32)).resize(target, Image.Resampling.BILINEAR)
    return np.asarray(shrunk, dtype=np.float32)


def prepare_case(case: CaseFiles, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """One case loaded, cropped to its content and resized: image float32 [0, 1], label float32 {0, 1}."""
    image, label = read_case(case)
    image, label = crop_case(image, label, str(case.image))
    return np.clip(resize_image(shrink_large(image, size), size), 0, 1), resize_label(label, size)


def _prepare_one(args: tuple[CaseFiles, tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    return prepare_case(*args)


def cache_path(cases: Sequence[CaseFiles], size: tuple[int, int], cache_dir: Path | None = None) -> Path:
    """Where the prepared arrays of ``cases`` at ``size`` are cached (a hash of sources and parameters)."""
    sources = []
    for case in cases:
        for path in (case.image, case.left, case.right):
            info = path.stat()
            sources.append([str(path.resolve()), info.st_size, info.st_mtime_ns])
    key = json.dumps({"version": CACHE_VERSION, "size": list(size), "names": [c.name for c in cases],
                      "sources": sources}, sort_keys=True)
    digest = hashlib.sha256(key.encode()).hexdigest()[:24]
    folder = cache_dir if cache_dir is not None else settings.data_root() / "cache"
    return Path(folder) / f"prepared-{size[0]}x{size[1]}-{len(cases)}-{digest}.npz"


def _load_cache(path: Path, names: list[str]) -> dict | None:
    """The cached arrays, or None when the file is missing, damaged or not what we expect."""
    try:
        with np.load(path, allow_pickle=False) as stored:
            result = {"images": stored["images"], "labels": stored["labels"], "names": [str(n) for n in stored["names"]]}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None
    if result["names"] != names or result["images"].shape != result["labels"].shape:
        return None
    return result


def _save_cache(path: Path, result: dict) -> None:
    """Writes the cache atomically; a failure to cache (read-only or full disk) is not an error."""
    try:
        with atomic_writer(path) as out:
            np.savez(out, images=result["images"], labels=result["labels"], names=np.array(result["names"], dtype=str))
    except OSError:
        pass


def prepare_arrays(dataset_dir: str | Path, names: Sequence[str] | None = None, size: int | Sequence[int] = 256,
                   workers: int | None = None, cache: bool = True, progress: bool | None = None) -> dict:
    """Loads, crops and resizes a MontgomerySet folder (all cases, or ``names`` in that order).

    Returns {'images': float32 (N, H, W) in [0, 1], 'labels': float32 (N, H, W) in {0, 1}, 'names':
    list[str]}. ``workers`` threads decode in parallel (default: the CPU count, at most 8);
    ``cache=False`` skips the on-disk cache; ``progress`` (a tqdm bar) defaults to off in quick mode.
    Bad files raise DatasetError naming the file.
    """
    if progress is None:
        progress = not settings.quick_mode()
    dataset_dir = Path(dataset_dir)
    size = size_pair(size)
    cases = find_cases(dataset_dir / IMAGE_FOLDER, dataset_dir / MASK_FOLDER, None if names is None else list(names))
    case_names = [case.name for case in cases]
    path = cache_path(cases, size) if cache else None
    if path is not None and path.is_file():
        cached = _load_cache(path, case_names)
        if cached is not None:
            return cached
    workers = workers or min(os.cpu_count() or 1, 8)
    jobs = [(case, size) for case in cases]
    bar = dict(total=len(jobs), desc=f"preparing {len(jobs)} cases at {size[0]}x{size[1]}", disable=not progress,
               leave=False)
    if workers > 1 and len(jobs) > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            pairs = list(tqdm(pool.map(_prepare_one, jobs), **bar))
    else:
        pairs = [prepare_case(case, size) for case, size in tqdm(jobs, **bar)]
    result = {"images": np.stack([p[0] for p in pairs]), "labels": np.stack([p[1] for p in pairs]),
              "names": case_names}
    if path is not None:
        _save_cache(path, result)
    return result


def prepare_split(dataset_dir: str | Path | None = None, size: int | Sequence[int] = 256,
                  split: Mapping[str, Sequence[str]] | None = None, **options) -> dict[str, dict]:
    """``prepare_arrays`` for a split: {'train': ..., 'val': ..., 'test': ...}, by default the folder's own
    (:func:`course_lib.data.split_for`: the course's 96/20/22 for the Montgomery cases).

    ``split`` maps each part to case names, e.g. one of :func:`course_lib.data.cross_validation_folds`. All its
    cases are prepared in one pass (and cached together), then handed out per part. ``dataset_dir`` defaults to
    :func:`course_lib.data.default_dataset`. The dataset must hold every case the split names. ``options`` go to
    ``prepare_arrays``.
    """
    if dataset_dir is None:
        dataset_dir = default_dataset()
    split = split_for(dataset_dir) if split is None else split
    everything = sorted(name for cases in split.values() for name in cases)
    missing = [n for n in everything if not (Path(dataset_dir) / IMAGE_FOLDER / f"{n}.png").is_file()]
    if missing:
        raise DatasetError(f"{dataset_dir} lacks {len(missing)} of the split's cases (e.g. {missing[:3]}); use the full "
                           "Montgomery set or the phantom (`python -m course_lib.data phantom`), or call "
                           "prepare_arrays with your own names.")
    prepared = prepare_arrays(dataset_dir, names=everything, size=size, **options)
    index = {name: i for i, name in enumerate(prepared["names"])}
    result = {}
    for key, cases in split.items():
        rows = np.array([index[name] for name in cases])
        result[key] = {"images": prepared["images"][rows], "labels": prepared["labels"][rows], "names": list(cases)}
    return result
