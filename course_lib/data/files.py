"""Finding a case's three files in the Montgomery layout and decoding PNGs without surprises.

Montgomery keeps one image per case in ``CXR_png/`` and two masks of the same name in
``ManualMask/leftMask/`` and ``ManualMask/rightMask/``. Everything that can go wrong with a file
(missing, truncated, random bytes, an RGB or palette PNG, a mask of another size, a constant image)
becomes a :class:`DatasetError` naming the file and the fix, never a crash deep inside Pillow.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from course_lib.data.errors import CorruptImageError, DatasetError, MaskMismatchError

__all__ = ["CaseFiles", "IMAGE_FOLDER", "MASK_FOLDER", "LEFT_FOLDER", "RIGHT_FOLDER", "find_cases", "read_png",
           "read_case", "merge_masks", "has_montgomery_layout"]

IMAGE_FOLDER = "CXR_png"
MASK_FOLDER = "ManualMask"
LEFT_FOLDER = f"{MASK_FOLDER}/leftMask"
RIGHT_FOLDER = f"{MASK_FOLDER}/rightMask"
# Pillow modes of single-channel PNGs: 1-bit, 8-bit, and the 16-bit ones (opened as I;16* or I).
_GRAY_MODES = {"1", "L", "I;16", "I;16B", "I;16L", "I"}
_FIX_MODE = "save it as a single-channel 8- or 16-bit grayscale PNG (e.g. Image.open(f).convert('L').save(f))"


@dataclass(frozen=True)
class CaseFiles:
    """The image and the two lung masks of one case."""

    name: str
    image: Path
    left: Path
    right: Path


def has_montgomery_layout(folder: Path) -> bool:
    """True when ``folder`` has ``CXR_png/`` with PNGs and both mask folders (a cheap completeness check)."""
    folder = Path(folder)
    if not ((folder / IMAGE_FOLDER).is_dir() and (folder / LEFT_FOLDER).is_dir() and (folder / RIGHT_FOLDER).is_dir()):
        return False
    return any((folder / IMAGE_FOLDER).glob("*.png"))


def find_cases(images_path: Path | str, labels_path: Path | str, names: list[str] | None = None) -> list[CaseFiles]:
    """The cases in ``images_path`` (all ``*.png``, sorted, or only ``names``) with their masks in ``labels_path``.

    ``labels_path`` holds ``leftMask/`` and ``rightMask/``. Raises DatasetError for a missing or empty
    folder, a requested name without an image, or an image without one of its masks.
    """
    images_path, labels_path = Path(images_path), Path(labels_path)
    if not images_path.is_dir():
        raise DatasetError(f"image folder {images_path} does not exist; point images_path at a MontgomerySet/"
                           f"{IMAGE_FOLDER} folder (run `python -m course_lib.data phantom` for an offline set).")
    for side in ("leftMask", "rightMask"):
        if not (labels_path / side).is_dir():
            raise DatasetError(f"mask folder {labels_path / side} does not exist; labels_path must be the "
                               "MontgomerySet/ManualMask folder holding leftMask/ and rightMask/.")
    if names is None:
        names = sorted(path.stem for path in images_path.glob("*.png"))
        if not names:
            raise DatasetError(f"image folder {images_path} holds no .png files; copy or generate the dataset "
                               "there (e.g. `python -m course_lib.data phantom`).")
    cases = []
    for name in names:
        name = str(name)[:-4] if str(name).endswith(".png") else str(name)
        case = CaseFiles(name, images_path / f"{name}.png", labels_path / "leftMask" / f"{name}.png",
                         labels_path / "rightMask" / f"{name}.png")
        if not case.image.is_file():
            raise DatasetError(f"image {case.image} does not exist; remove '{name}' from the names or restore the file.")
        for mask in (case.left, case.right):
            if not mask.is_file():
                raise MaskMismatchError(f"image {case.image} has no mask {mask}; restore the mask or remove the image.")
        cases.append(case)
    return cases


def read_png(path: Path | str) -> np.ndarray:
    """A single-channel PNG as uint8, uint16 or int32 array (H, W), its full bit depth kept.

    Raises CorruptImageError when the file is empty, truncated, not an image, or not single-channel.
    """
    path = Path(path)
    try:
        if path.stat().st_size == 0:
            raise CorruptImageError(f"{path} is an empty file (0 bytes); download or generate the dataset again.")
        with Image.open(path) as image:
            mode, format_ = image.mode, image.format
            if mode not in _GRAY_MODES:
                raise CorruptImageError(f"{path} is a {mode} {format_} image, but the course reads single-channel "
                                        f"grayscale PNGs; {_FIX_MODE}.")
            image.load()
            array = np.array(image)
    except DatasetError:
        raise
    except FileNotFoundError:
        raise DatasetError(f"{path} does not exist; restore it or download/generate the dataset again.") from None
    except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError) as error:
        raise CorruptImageError(f"{path} cannot be decoded as a PNG ({type(error).__name__}: {error}); the file is "
                                "truncated or not an image: download or generate the dataset again.") from None
    if array.ndim != 2 or array.size == 0:
        raise CorruptImageError(f"{path} decodes to an array of shape {array.shape}, not one 2-D image; {_FIX_MODE}.")
    return array


def read_case(case: CaseFiles) -> tuple[np.ndarray, np.ndarray]:
    """The image scaled to [0, 1] by its own min and max (the lab's rule) and the fused lung label in {0, 1}.

    Both float32 (H, W). A constant (e.g. all-black) image or a mask of another size is a DatasetError.
    """
    raw = read_png(case.image)
    left, right = read_png(case.left), read_png(case.right)
    for mask in (case.left, case.right):
        shape = left.shape if mask == case.left else right.shape
        if shape != raw.shape:
            raise MaskMismatchError(f"mask {mask} is {shape[1]}x{shape[0]} but its image {case.image} is "
                                    f"{raw.shape[1]}x{raw.shape[0]} (width x height); resize the mask to the "
                                    "image with nearest-neighbour interpolation or restore the original files.")
    low, high = float(raw.min()), float(raw.max())
    if high <= low:
        what = "all black" if high == 0 else f"constant (every pixel is {high:g})"
        raise DatasetError(f"image {case.image} is {what}: it has no content to learn from; remove the case "
                           "(with its masks) or restore the original file.")
    image = raw.astype(np.float32)
    image -= low                                # in place: originals are 20 million pixels
    image /= np.float32(high - low)             # a division, so the maximum is exactly 1
    np.clip(image, 0.0, 1.0, out=image)
    return image, merge_masks(left, right)


def merge_masks(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """One float32 label in {0, 1} from the two lung masks: 1 where either mask is set (any value above 0)."""
    left, right = np.asarray(left), np.asarray(right)
    if left.shape != right.shape:
        raise ValueError(f"merge_masks: the left mask is {left.shape} and the right one {right.shape}; both masks of "
                         "a case must have its image's shape")
    return np.logical_or(left > 0, right > 0).astype(np.float32)
