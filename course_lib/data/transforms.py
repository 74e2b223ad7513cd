"""The lab's dict transforms: each is a callable taking the data dict and returning it, changed.

Chaining small transforms (load -> crop -> resize -> shuffle -> augment) keeps every step testable
and lets :class:`~course_lib.data.iterators.BatchIterator` decide *when* each one runs. Keys:
'images' and 'labels' (lists of float32 (H, W) arrays, or after resizing float32 (N, H, W) arrays,
labels in {0, 1}) and 'names' (list of case names). Keys a transform does not use are left alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple, Sequence

import numpy as np
from skimage.transform import AffineTransform, resize, warp

from course_lib.data.errors import DatasetError
from course_lib.data.files import find_cases, read_case

__all__ = ["LungXRayDataset", "CropActualImage", "ResizeImage", "ShuffleData", "RandomFlip", "RandomShift",
           "RandomAffine", "RandomIntensity", "crop_box", "crop_case", "resize_image", "resize_label", "shift_array",
           "size_pair", "AFFINE_LIMITS"]


class AffineLimits(NamedTuple):
    """How far a random affine augmentation may go: what patient positioning really varies."""

    rotation_deg: float  # up to this many degrees either way
    scale: float         # up to this fraction larger or smaller
    shift: float         # up to this fraction of the image size in each direction


# The one home of the augmentation limits: RandomAffine here and the trainer's on-device warps use them.
AFFINE_LIMITS = AffineLimits(rotation_deg=10.0, scale=0.1, shift=0.05)


# ----------------------------------------------------------------------------------------------
# single-array helpers, shared by the transforms and by prepare.py's parallel workers
# ----------------------------------------------------------------------------------------------
def crop_box(image: np.ndarray, name: str = "image") -> tuple[slice, slice]:
    """The rows/columns from the first to the LAST (inclusive) that hold a non-zero pixel of a 2-D image.

    The lab sliced up to the last index and so dropped the content's last row and column; this keeps
    them. An all-black image has no content: DatasetError (a ValueError) naming the case.
    """
    if image.ndim != 2:
        raise ValueError(f"crop_box expects a 2-D image (H, W); {name} has shape {image.shape}.")
    content = image > 0
    rows, cols = np.flatnonzero(content.any(axis=1)), np.flatnonzero(content.any(axis=0))
    if rows.size == 0:
        raise DatasetError(f"{name} is all black (no pixel > 0), so there is nothing to crop to; remove this "
                           "case or restore its original file.")
    return slice(int(rows[0]), int(rows[-1]) + 1), slice(int(cols[0]), int(cols[-1]) + 1)


def crop_case(image: np.ndarray, label: np.ndarray, name: str = "image") -> tuple[np.ndarray, np.ndarray]:
    """``image`` and ``label`` (same shape (H, W)) cut to the image's content box."""
    if np.shape(label) != np.shape(image):
        raise ValueError(f"{name}: label shape {np.shape(label)} differs from image shape {np.shape(image)}.")
    box = crop_box(image, name)
    return image[box], label[box]


def size_pair(size: Any) -> tuple[int, int]:
    """``size`` as (height, width): one int for a square, or a pair; ValueError for anything else."""
    try:
        pair = (int(size), int(size)) if np.isscalar(size) else tuple(int(s) for s in size)
    except (TypeError, ValueError):
        pair = ()
    if len(pair) != 2 or min(pair) < 1:
        raise ValueError(f"size must be a positive int or a pair (height, width), got {size!r}.")
    return pair  # type: ignore[return-value]


def resize_image(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A 2-D image resized to ``size`` with bilinear interpolation and anti-aliasing, float32."""
    return resize(image, size, order=1, anti_aliasing=True, preserve_range=True).astype(np.float32)


def resize_label(label: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A 2-D label resized to ``size`` by nearest neighbour WITHOUT anti-aliasing, so it stays {0, 1}."""
    return resize(label, size, order=0, anti_aliasing=False, preserve_range=True).astype(np.float32)


def _names(data: dict, n: int) -> list[str]:
    names = data.get("names")
    return [str(v) for v in names] if names is not None and len(names) == n else [f"image {i}" for i in range(n)]


def _require(data: dict, keys: Sequence[str], who: str) -> None:
    if not isinstance(data, dict):
        raise TypeError(f"{who} expects the data dict, got {type(data).__name__}.")
    for key in keys:
        if key not in data:
            raise KeyError(f"{who}: data has no '{key}' (keys: {sorted(data)}); run the loading transform first.")


# ----------------------------------------------------------------------------------------------
# the lab's transforms
# ----------------------------------------------------------------------------------------------
class LungXRayDataset:
    """Loads a Montgomery-layout folder: sets 'images', 'labels' (lists of float32 (H, W)) and 'names'.

    ``images_path`` is ``.../CXR_png``; ``labels_path`` is ``.../ManualMask`` with ``leftMask/`` and
    ``rightMask/``; ``names`` (without ``.png``) restricts loading to a split. Images are scaled to
    [0, 1] by their own min and max; the two lung masks are fused into one binary label.
    """

    def __init__(self, images_path: str | Path, labels_path: str | Path, names: Sequence[str] | None = None):
        self.images_path, self.labels_path = Path(images_path), Path(labels_path)
        self.cases = find_cases(self.images_path, self.labels_path, None if names is None else list(names))

    def __repr__(self) -> str:
        return f"LungXRayDataset(images_path='{self.images_path}', labels_path='{self.labels_path}', cases={len(self.cases)})"

    def __call__(self, data: dict) -> dict:
        pairs = [read_case(case) for case in self.cases]
        data["images"] = [image for image, _ in pairs]
        data["labels"] = [label for _, label in pairs]
        data["names"] = [case.name for case in self.cases]
        return data


class CropActualImage:
    """Cuts each image and its label to the image's non-black box (the unexposed bands go).

    Corrected lab behaviour: the last row and column of content are kept. An all-black image raises
    DatasetError (a ValueError) naming the case, rather than the lab's crash on an empty ``np.min``.
    """

    def __repr__(self) -> str:
        return "CropActualImage()"

    def __call__(self, data: dict) -> dict:
        _require(data, ("images", "labels"), "CropActualImage")
        images, labels = data["images"], data["labels"]
        if len(images) != len(labels):
            raise ValueError(f"CropActualImage: {len(images)} images but {len(labels)} labels.")
        names = _names(data, len(images))
        cropped = [crop_case(np.asarray(i), np.asarray(l), n) for i, l, n in zip(images, labels, names)]
        data["images"] = [image for image, _ in cropped]
        data["labels"] = [label for _, label in cropped]
        return data


class ResizeImage:
    """Resizes every image (bilinear, anti-aliased) and label (nearest, no anti-aliasing) to ``size``.

    ``size`` is (height, width) or one int; the results are stacked float32 arrays (N, H, W).
    """

    def __init__(self, size: int | Sequence[int]):
        self.size = size_pair(size)

    def __repr__(self) -> str:
        return f"ResizeImage(size={self.size})"

    def __call__(self, data: dict) -> dict:
        _require(data, ("images", "labels"), "ResizeImage")
        if len(data["images"]) == 0:
            raise ValueError("ResizeImage: data['images'] is empty; nothing was loaded.")
        data["images"] = np.stack([resize_image(np.asarray(i), self.size) for i in data["images"]])
        data["labels"] = np.stack([resize_label(np.asarray(l), self.size) for l in data["labels"]])
        return data


class ShuffleData:
    """Reorders every key in ``keys`` by ONE random permutation per call, so image i keeps its label i.

    A new permutation is drawn at each call (each epoch) from a generator seeded once by ``seed``.
    Arrays are indexed, lists stay lists.
    """

    def __init__(self, keys: Sequence[str], seed: int | None = None):
        if isinstance(keys, str) or len(keys) == 0:
            raise ValueError(f"ShuffleData needs a non-empty list of keys, got {keys!r}.")
        self.keys, self.seed = list(keys), seed
        self.rng = np.random.default_rng(seed)

    def __repr__(self) -> str:
        return f"ShuffleData(keys={self.keys}, seed={self.seed})"

    def __call__(self, data: dict) -> dict:
        _require(data, self.keys, "ShuffleData")
        n = len(data[self.keys[0]])
        for key in self.keys:
            if len(data[key]) != n:
                raise ValueError(f"ShuffleData: data['{key}'] has {len(data[key])} entries but "
                                 f"data['{self.keys[0]}'] has {n}; every key needs one entry per case.")
        order = self.rng.permutation(n)
        for key in self.keys:
            value = data[key]
            data[key] = value[order] if isinstance(value, np.ndarray) else [value[i] for i in order]
        return data


# ----------------------------------------------------------------------------------------------
# augmentations for the per-iteration stage: parameters drawn once per sample, image and label alike
# ----------------------------------------------------------------------------------------------
def _parameters_repr(transform: Any) -> str:
    """``Name(a=1, b=2)`` from the attribute names listed in ``transform._shown``."""
    shown = ", ".join(f"{name}={getattr(transform, name)!r}" for name in transform._shown)
    return f"{type(transform).__name__}({shown})"


class _PerSample:
    """Base for augmentations: applies ``_one(image, label)`` to every sample of 'images'/'labels'."""

    _shown: tuple[str, ...] = ("seed",)

    def __init__(self, seed: int | None = None):
        self.seed = seed
        self.rng = np.random.default_rng(seed)

    def __repr__(self) -> str:
        return _parameters_repr(self)

    def __call__(self, data: dict) -> dict:
        name = type(self).__name__
        _require(data, ("images", "labels"), name)
        images, labels = np.asarray(data["images"]), np.asarray(data["labels"])
        if images.ndim != 3 or images.shape != labels.shape:
            raise ValueError(f"{name} expects 'images' and 'labels' of the same shape (N, H, W), got "
                             f"{images.shape} and {labels.shape}; resize before augmenting.")
        pairs = [self._one(image, label) for image, label in zip(images, labels)]
        data["images"] = np.stack([p[0] for p in pairs]).astype(images.dtype, copy=False)
        data["labels"] = np.stack([p[1] for p in pairs]).astype(labels.dtype, copy=False)
        return data

    def _one(self, image: np.ndarray, label: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError


class RandomFlip(_PerSample):
    """Mirrors each sample left-right with probability ``probability`` (image and label together)."""

    def __init__(self, probability: float = 0.5, seed: int | None = None):
        if not 0.0 <= probability <= 1.0:
            raise ValueError(f"RandomFlip: probability must be in [0, 1], got {probability}.")
        super().__init__(seed)
        self.probability = float(probability)

    _shown = ("probability", "seed")

    def _one(self, image, label):
        if self.rng.random() < self.probability:
            return image[:, ::-1], label[:, ::-1]
        return image, label


def shift_array(array: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """``array`` (H, W) moved by (dy, dx) pixels; what leaves is lost, what enters is 0 (no wrap-around)."""
    out = np.zeros_like(array)
    height, width = array.shape
    if abs(dy) < height and abs(dx) < width:
        out[max(dy, 0):height + min(dy, 0), max(dx, 0):width + min(dx, 0)] = \
            array[max(-dy, 0):height + min(-dy, 0), max(-dx, 0):width + min(-dx, 0)]
    return out


class RandomShift(_PerSample):
    """Moves each sample by integer (dy, dx) drawn from [-max_shift, max_shift] (inclusive), zero fill."""

    def __init__(self, max_shift: int, seed: int | None = None):
        if int(max_shift) < 0:
            raise ValueError(f"RandomShift: max_shift must be >= 0, got {max_shift}.")
        super().__init__(seed)
        self.max_shift = int(max_shift)

    _shown = ("max_shift", "seed")

    def _one(self, image, label):
        dy, dx = (int(v) for v in self.rng.integers(-self.max_shift, self.max_shift + 1, size=2))
        return shift_array(image, dy, dx), shift_array(label, dy, dx)


class RandomAffine(_PerSample):
    """Rotates (degrees), scales and shifts (fraction of size) each sample about its centre.

    One random transform per sample; images bilinear, labels nearest neighbour (they stay {0, 1}),
    zero outside the original field of view.
    """

    def __init__(self, max_rotation: float = AFFINE_LIMITS.rotation_deg, max_scale: float = AFFINE_LIMITS.scale,
                 max_shift: float = AFFINE_LIMITS.shift, seed: int | None = None):
        if max_rotation < 0 or not 0 <= max_scale < 1 or max_shift < 0:
            raise ValueError("RandomAffine: need max_rotation >= 0, 0 <= max_scale < 1, max_shift >= 0; got "
                             f"{max_rotation}, {max_scale}, {max_shift}.")
        super().__init__(seed)
        self.max_rotation, self.max_scale, self.max_shift = float(max_rotation), float(max_scale), float(max_shift)

    _shown = ("max_rotation", "max_scale", "max_shift", "seed")

    def _one(self, image, label):
        height, width = image.shape
        angle = np.deg2rad(self.rng.uniform(-self.max_rotation, self.max_rotation))
        scale = 1.0 + self.rng.uniform(-self.max_scale, self.max_scale)
        shift = self.rng.uniform(-self.max_shift, self.max_shift, size=2) * (width, height)
        centre = np.array([(width - 1) / 2, (height - 1) / 2])
        matrix = (AffineTransform(translation=-centre) + AffineTransform(rotation=angle, scale=scale)
                  + AffineTransform(translation=centre + shift))
        inverse = matrix.inverse
        warped_image = warp(image, inverse, order=1, mode="constant", cval=0.0, preserve_range=True)
        warped_label = warp(label, inverse, order=0, mode="constant", cval=0.0, preserve_range=True)
        return warped_image, warped_label


class RandomIntensity:
    """Changes each image's contrast (gamma) and brightness; labels are untouched. Images stay in [0, 1]."""

    def __init__(self, max_gamma: float = 0.3, max_brightness: float = 0.1, seed: int | None = None):
        if not 0 <= max_gamma < 1 or max_brightness < 0:
            raise ValueError(f"RandomIntensity: need 0 <= max_gamma < 1 and max_brightness >= 0, got "
                             f"{max_gamma}, {max_brightness}.")
        self.max_gamma, self.max_brightness, self.seed = float(max_gamma), float(max_brightness), seed
        self.rng = np.random.default_rng(seed)

    _shown = ("max_gamma", "max_brightness", "seed")

    def __repr__(self) -> str:
        return _parameters_repr(self)

    def __call__(self, data: dict) -> dict:
        _require(data, ("images",), "RandomIntensity")
        images = np.asarray(data["images"])
        if images.ndim != 3:
            raise ValueError(f"RandomIntensity expects 'images' of shape (N, H, W), got {images.shape}.")
        n = images.shape[0]
        gamma = np.exp(self.rng.uniform(np.log1p(-self.max_gamma), -np.log1p(-self.max_gamma), size=n))
        brightness = self.rng.uniform(-self.max_brightness, self.max_brightness, size=n)
        out = np.clip(np.clip(images, 0, 1) ** gamma[:, None, None] + brightness[:, None, None], 0, 1)
        data["images"] = out.astype(images.dtype, copy=False)
        return data
