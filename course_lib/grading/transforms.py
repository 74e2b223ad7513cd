"""Checks for notebook 1's transforms: merging the masks, the crop, the resize, the consistent shuffle, the shift.

``merge_masks`` and ``ResizeImage`` are declarations (``grading.declare``: cases drawn from the seed, compared with
``course_lib.data.files.merge_masks`` and ``course_lib.data.transforms.ResizeImage``, their slips recomputed; the
resize's ``run`` builds the learner's class and applies it). The crop, the shuffle and the shift keep a hook that
builds the learner's class, runs it on many random cases at once and compares the result with the reference or,
for random transforms, with the properties every correct answer has; a cause is named only after confirming that
the answer has it.
"""

from __future__ import annotations

import copy
from typing import Any, Callable

import numpy as np

from course_lib.data import transforms as reference
from course_lib.data.files import merge_masks as reference_merge_masks
from course_lib.grading.core import call_learner, describe, refusal
from course_lib.grading.declare import Case, Declaration, Output, Slip, arrays, declare

__all__ = ["check_merge_masks", "check_crop", "check_resize", "check_shuffle", "check_random_shift"]

NOTEBOOK = "01_data_transforms"
Transform = Callable[[dict], dict]


# ----------------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------------
def _run(transform: Transform, data: dict, exercise: str, call: str) -> dict:
    """The learner's ``transform(data)``, run quietly; a crash or a non-dict result fails clearly."""
    result = call_learner(transform, data, exercise=exercise, call=call)
    if not isinstance(result, dict):
        raise AssertionError(f"{exercise}: {call} returned {describe(result)}, not the data dictionary; "
                             "end __call__ with `return data`.")
    return result


def _build(cls: Any, *args: Any, exercise: str, **kwargs: Any) -> Transform:
    """The learner's class instantiated with the exercise's constructor arguments."""
    if not callable(cls):
        raise AssertionError(f"{exercise}: pass the class itself to the check, got {describe(cls)}.")
    signature = ", ".join([repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()])
    return call_learner(cls, *args, exercise=exercise, call=f"{exercise}({signature})", **kwargs)


def _as_array_list(value: Any, key: str, what: str, n: int) -> list[np.ndarray]:
    """The learner's images/labels as a list of 2-D arrays (a list or an (N, H, W) array both qualify)."""
    if isinstance(value, np.ndarray) and value.ndim == 3:
        value = list(value)
    if not isinstance(value, (list, tuple)):
        raise AssertionError(f"{what}: data['{key}'] is a {type(value).__name__}; expected a list of 2-D arrays.")
    if len(value) != n:
        raise AssertionError(f"{what}: data['{key}'] has {len(value)} entries, expected {n} (one per case).")
    return [np.asarray(v) for v in value]


# ----------------------------------------------------------------------------------------------
# exercise 1: one label from two masks
# ----------------------------------------------------------------------------------------------
def _mask_pairs(rng: np.random.Generator) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """Pairs of masks as files hold them: 0/255 uint8 (the Montgomery PNGs), 0/1 and other 'on' values, an
    overlap, one empty mask, and a non-square shape."""
    pairs = []
    for what, on, dtype in (("0/255 uint8 masks", 255, np.uint8), ("0/1 masks", 1, np.uint8),
                            ("masks whose 'on' value is 128", 128, np.uint8), ("0/1 float masks", 1.0, np.float32)):
        height, width = rng.integers(6, 14, size=2)
        left = (rng.random((height, width)) < 0.35) * on
        right = (rng.random((height, width)) < 0.35) * on
        pairs.append((what, left.astype(dtype), right.astype(dtype)))
    empty = np.zeros((7, 9), np.uint8)
    pairs.append(("an empty right mask", (rng.random((7, 9)) < 0.5).astype(np.uint8) * 255, empty))
    return pairs


check_merge_masks = declare(Declaration(
    NOTEBOOK, 1, "one label from the two lung masks (merge_masks)", 1, "merge_masks",
    reference=reference_merge_masks, output=arrays(),
    cases=lambda seed: [Case(f"merge_masks({what} of shape {left.shape})", (left, right))
                        for what, left, right in _mask_pairs(np.random.default_rng(seed))],
    slips=(Slip("It looks like you added the two masks, so overlapping pixels become 2 and 'on' values stay 255: "
                "take their union instead (np.logical_or of the masks compared with 0).",
                lambda left, right: left.astype(np.float32) + right.astype(np.float32)),
           Slip("Adding uint8 masks overflows (128 + 128 wraps around to 0): compare each mask with 0 first, then "
                "combine (np.logical_or).", lambda left, right: ((left + right) > 0).astype(np.float32)
                if left.dtype == np.uint8 else None)),
    hints={"shape": "One label per pixel.",
           "values": lambda got, want: f"It has the right values but dtype {got.dtype}; the training code expects "
           "float32 labels (.astype(np.float32))." if np.array_equal(np.asarray(got, np.float64), want) else
           "Give 1 where either mask is above 0, else 0."},
    refuse=lambda seed: [Case(f"merge_masks(a {left} and a {right} mask)", (np.ones(left, np.uint8),
                                                                             np.ones(right, np.uint8)))
                         for left, right in (((6, 5), (5, 6)), ((6, 5), (1, 5)))],  # the second would broadcast
    refuse_advice="masks of different shapes cannot belong to one image: raise ValueError naming both shapes (NumPy "
                  "broadcasts some pairs without complaint).",
    success="matches the reference on {n} pairs (0/255, 0/1, other 'on' values, overlaps, an empty mask) and refuses "
            "masks of different shapes (seed {seed})."))


# ----------------------------------------------------------------------------------------------
# exercise 2: the crop
# ----------------------------------------------------------------------------------------------
def _padded_case(rng: np.random.Generator, hard: bool) -> tuple[np.ndarray, np.ndarray]:
    """A random image whose content is surrounded by black bands of random widths, and a label."""
    height, width = rng.integers(6, 30, size=2)
    content = rng.uniform(0.05, 1.0, size=(height, width)).astype(np.float32)
    if hard:
        # black pixels, rows and columns *inside* the content must survive the crop
        content[rng.random(content.shape) < 0.3] = 0.0
        if height > 3:
            content[rng.integers(1, height - 1)] = 0.0
        if width > 3:
            content[:, rng.integers(1, width - 1)] = 0.0
        # the content's own border rows/columns keep at least one bright pixel
        for index in (0, -1):
            content[index, rng.integers(width)] = rng.uniform(0.05, 1.0)
            content[rng.integers(height), index] = rng.uniform(0.05, 1.0)
        if rng.random() < 0.5:  # a faint first row: dark, but not black, so it is content all the same
            content[0] = np.where(content[0] > 0, 0.001, 0.0)
    top, bottom, left, right = rng.integers(0, 8, size=4) if hard else rng.integers(1, 8, size=4)
    image = np.pad(content, ((top, bottom), (left, right)))
    label = (rng.random(image.shape) < 0.4).astype(np.float32)
    return image, label


def _crop_slips(image: np.ndarray) -> list[tuple[np.ndarray, str]]:
    """What the usual wrong crops make of ``image``, each with the advice that fixes it."""
    content = image > 0
    rows, cols = np.flatnonzero(content.any(axis=1)), np.flatnonzero(content.any(axis=0))
    if rows.size == 0:
        return []
    slips = [
        (image[rows[0]:rows[-1], cols[0]:cols[-1]],
         "You drop the last row and column of the content (the lab's bug): a slice excludes its end, so slice up "
         "to last + 1."),
        (image[rows][:, cols],
         "You removed every black row and column, including the ones inside the content: keep the whole "
         "rectangle from the first to the last row/column with content, black lines inside it included."),
        (image[rows[0]:rows[-1] + 1],
         "You cropped the rows only: cut the columns with their own first and last index too."),
        (image[:, cols[0]:cols[-1] + 1],
         "You cropped the columns only: cut the rows with their own first and last index too."),
    ]
    height, width = image.shape
    if height != width:
        swapped_rows, swapped_cols = cols[cols < height], rows[rows < width]
        if swapped_rows.size and swapped_cols.size:
            slips.append((image[swapped_rows[0]:swapped_rows[-1] + 1, swapped_cols[0]:swapped_cols[-1] + 1],
                          "Rows and columns are swapped: image.sum(axis=1) gives one value per ROW, "
                          "image.sum(axis=0) one per column."))
    return slips


def _crop_advice(got: np.ndarray, image: np.ndarray, expected: np.ndarray) -> str:
    """The advice of the slip ``got`` really is, or a neutral description when it is none of them."""
    for slip, advice in _crop_slips(image):
        if got.shape == slip.shape and np.array_equal(got, slip):
            return " " + advice
    if got.shape[0] >= expected.shape[0] and got.shape[1] >= expected.shape[1] and got.shape != expected.shape:
        return " You keep too much: only the rows/columns at the borders whose pixels are all zero are padding."
    return " Keep the rectangle from the first to the last row and column (inclusive) that hold a non-zero pixel."


def _crop(crop_class: Any, *, seed: int, n_cases: int = 24) -> str:
    """Compare ``crop_class()`` with ``reference.CropActualImage()`` on ``n_cases`` random padded images.

    The first half are plainly padded; the second half have black pixels, rows and columns inside the
    content and sides without padding; then an all-black image must raise a ``ValueError`` that says so.
    """
    rng = np.random.default_rng(seed)
    cases = [_padded_case(rng, hard=index >= n_cases // 2) for index in range(n_cases)]
    data = {
        "images": [image for image, _ in cases],
        "labels": [label for _, label in cases],
        "names": [f"case_{i:02d}" for i in range(n_cases)],
        "extra": "left alone",
    }
    expected = reference.CropActualImage()(copy.deepcopy(data))
    crop = _build(crop_class, exercise="CropActualImage")
    result = _run(crop, copy.deepcopy(data), "CropActualImage", f"CropActualImage()(data with {n_cases} images)")
    if result.get("extra") != "left alone":
        raise AssertionError("CropActualImage: data['extra'] was changed or removed; keep the keys you do not crop.")
    images = _as_array_list(result.get("images"), "images", "CropActualImage", n_cases)
    labels = _as_array_list(result.get("labels"), "labels", "CropActualImage", n_cases)
    for i in range(n_cases):
        want_image, want_label = expected["images"][i], expected["labels"][i]
        original = data["images"][i]
        if images[i].shape != want_image.shape:
            raise AssertionError(
                f"CropActualImage, {data['names'][i]}: an image of shape {original.shape} was cropped to "
                f"{images[i].shape}, expected {want_image.shape}.{_crop_advice(images[i], original, want_image)}"
            )
        if not np.array_equal(images[i], want_image):
            raise AssertionError(
                f"CropActualImage, {data['names'][i]}: the cropped image has the right shape {want_image.shape} "
                f"but different pixels.{_crop_advice(images[i], original, want_image)}"
            )
        if labels[i].shape != want_label.shape or not np.array_equal(labels[i], want_label):
            raise AssertionError(
                f"CropActualImage, {data['names'][i]}: the label was not cropped with the image's box "
                f"(label shape {labels[i].shape}, expected {want_label.shape}): crop both with the same slices."
            )
    _check_black_image_raises(crop)
    return (f"all {n_cases} random padded images match the reference crop, black lines inside the content and "
            f"sides without padding included, and an all-black image raises ValueError (seed {seed}).")


check_crop = declare(Declaration(
    NOTEBOOK, 2, "crop the padding (CropActualImage)", 2, "CropActualImage", hook=_crop))



def _check_black_image_raises(crop: Transform) -> None:
    black = {"images": [np.zeros((6, 5), np.float32)], "labels": [np.zeros((6, 5), np.float32)],
             "names": ["all_black"]}
    outcome = refusal(crop, black, exercise="CropActualImage", call="CropActualImage()(an all-black image)")
    if isinstance(outcome, str):
        instead = "accepted it" if outcome == "returned a result" else outcome
        raise AssertionError(f"CropActualImage, an all-black image: your crop {instead}. Such an image has no "
                             "content: raise a ValueError that says it is black (check rows.size == 0 before "
                             "using rows[0]).")
    if "black" not in str(outcome).lower():
        raise AssertionError(f"CropActualImage raised ValueError({str(outcome)!r}) for an all-black image: the error "
                             "is right, its message is not: say that the image is black (and name it) so the user "
                             "knows what happened.")


# ----------------------------------------------------------------------------------------------
# exercise 3: the resize
# ----------------------------------------------------------------------------------------------
def _resize_case(rng: np.random.Generator, low: int, high: int) -> tuple[np.ndarray, np.ndarray]:
    """A smooth random image in [0, 1] with fine detail, and an elliptical binary label."""
    height, width = rng.integers(low, high, size=2)
    y, x = np.mgrid[0:height, 0:width]
    image = 0.5 + 0.25 * np.sin(x / rng.uniform(1.0, 4.0)) * np.cos(y / rng.uniform(1.0, 4.0))
    image = np.clip(image + rng.normal(0, 0.1, image.shape), 0, 1).astype(np.float32)
    cy, cx = rng.uniform(0.3, 0.7) * height, rng.uniform(0.3, 0.7) * width
    ry, rx = rng.uniform(0.15, 0.4) * height, rng.uniform(0.15, 0.4) * width
    label = ((((y - cy) / ry) ** 2 + ((x - cx) / rx) ** 2) <= 1).astype(np.float32)
    return image, label


def _resize_cases(seed: int, n_cases: int = 6) -> list[Case]:
    """Three sizes: shrinking, growing (given as a list, as a user might) and a small square with thin structures."""
    rng = np.random.default_rng(seed)
    cases = []
    for size in [(24, 32), [70, 45], (13, 13)]:
        pairs = [_resize_case(rng, 20, 90) for _ in range(n_cases)]
        data = {"images": [image for image, _ in pairs], "labels": [label for _, label in pairs],
                "names": [f"case_{i:02d}" for i in range(n_cases)], "extra": "left alone"}
        cases.append(Case(f"ResizeImage({size!r})(data)", (size, data)))
    return cases


def _resized(data: Any) -> dict:
    """The data a resize returns: a dictionary with ``extra`` kept and float32 arrays of images and labels."""
    if not isinstance(data, dict) or data.get("extra") != "left alone" or not all(
            isinstance(data.get(key), np.ndarray) and data[key].dtype == np.float32 for key in ("images", "labels")):
        raise TypeError(type(data).__name__)
    return data


def _not_resized_data(data: Any, want: dict) -> str:
    """What to change where the resize returned something else than the data dictionary of float32 arrays."""
    if not isinstance(data, dict):
        return "End __call__ with `return data`."
    if data.get("extra") != "left alone":
        return "data['extra'] was changed or removed; keep the keys you do not resize."
    key = next(key for key in ("images", "labels") if not isinstance(data.get(key), np.ndarray)
               or data[key].dtype != np.float32)
    if not isinstance(data.get(key), np.ndarray):
        return (f"data['{key}'] is a {type(data.get(key)).__name__}; stack the resized arrays into one numpy array of "
                "shape (N, height, width) with np.stack.")
    return f"data['{key}'] has dtype {data[key].dtype}; convert with .astype(np.float32)."


def _label_advice(got: dict, want: dict) -> str:
    between = (got["labels"] > 0) & (got["labels"] < 1)
    if between.any():
        example = float(got["labels"][between][0])
        return (f"{int(between.sum())} label pixels lie strictly between 0 and 1 (e.g. {example:.3f}); a label is a "
                "class, not an intensity: resize labels with order=0 and anti_aliasing=False.")
    if not np.array_equal(got["labels"], want["labels"]):
        return (f"The labels are binary but {int(np.sum(got['labels'] != want['labels']))} pixels differ from the "
                "reference; use skimage.transform.resize(label, size, order=0, anti_aliasing=False, "
                "preserve_range=True).")
    return "Resize images with order=1, anti_aliasing=True, preserve_range=True."


def _interpolated(order: int, anti_aliasing: bool, said: str) -> Slip:
    """The slip of images resized with another interpolation (the labels right)."""
    from skimage.transform import resize

    def variant(size: Any, data: dict) -> dict:
        right = reference.ResizeImage(size)(copy.deepcopy(data))
        images = [resize(image, tuple(size), order=order, anti_aliasing=anti_aliasing, preserve_range=True)
                  for image in data["images"]]
        return {**right, "images": np.stack(images).astype(np.float32)}
    return Slip(f"It matches order={order}, anti_aliasing={anti_aliasing}: {said}; resize images with order=1, "
                "anti_aliasing=True, preserve_range=True.", variant)


RESIZED = Output("the data dictionary with float32 arrays of images and labels", _resized,
                 lambda got, want: np.array_equal(got["labels"], want["labels"])
                 and float(np.abs(got["images"] - want["images"]).max()) <= 1e-4,
                 lambda data: (data["images"].shape, data["labels"].shape),
                 lambda got, want: f"differs from the reference's resize: images by up to "
                                   f"{float(np.abs(got['images'] - want['images']).max()):.4f}, "
                                   f"{int(np.sum(got['labels'] != want['labels']))} label pixels")
check_resize = declare(Declaration(
    NOTEBOOK, 3, "resize images and labels (ResizeImage)", 2, "ResizeImage",
    reference=lambda size, data: reference.ResizeImage(size)(copy.deepcopy(data)),
    run=lambda resize_class, size, data: resize_class(size)(data), cases=_resize_cases, output=RESIZED,
    slips=(_interpolated(1, False, "anti-aliasing off"), _interpolated(0, False, "nearest neighbour"),
           _interpolated(0, True, "nearest neighbour"), _interpolated(3, True, "cubic interpolation")),
    hints={"kind": _not_resized_data, "values": _label_advice},
    success="random images and masks match the reference at sizes (24, 32), (70, 45) and (13, 13) (seed {seed})."))


# ----------------------------------------------------------------------------------------------
# exercise 4: the consistent shuffle
# ----------------------------------------------------------------------------------------------
def _numbered_dataset(n: int) -> dict:
    """Case i has an image filled with i, a label filled with i, and the name 'case_i'."""
    index = np.arange(n, dtype=np.float32)[:, None, None]
    return {"images": np.broadcast_to(index, (n, 3, 4)).copy(),
            "labels": np.broadcast_to(index, (n, 3, 4)).copy() + 0.5,
            "names": [f"case_{i}" for i in range(n)],
            "extra": "left alone"}


def _shuffled_order(result: dict, keys: list[str], n: int, call: str) -> np.ndarray:
    """The permutation the learner applied, read back from the numbered dataset; checks every key agrees."""
    if result.get("extra") != "left alone":
        raise AssertionError(f"{call}: data['extra'] is not in keys and must be left alone.")
    images = result.get("images")
    if not isinstance(images, np.ndarray) or images.shape != (n, 3, 4):
        raise AssertionError(f"{call}: data['images'] should stay a numpy array of shape {(n, 3, 4)}, got "
                             f"{type(images).__name__} {getattr(images, 'shape', '')}; reorder with images[order].")
    order = images[:, 0, 0].astype(int)
    if sorted(order.tolist()) != list(range(n)) or not np.all(images == order[:, None, None]):
        raise AssertionError(f"{call}: the shuffled images are not a reordering of the input (some cases were "
                             "lost, repeated or mixed); use one permutation of range(N).")
    if "labels" in keys:
        labels = result.get("labels")
        if not isinstance(labels, np.ndarray) or labels.shape != (n, 3, 4):
            raise AssertionError(f"{call}: data['labels'] should stay a numpy array of shape {(n, 3, 4)}.")
        if not np.array_equal(labels[:, 0, 0] - 0.5, order):
            raise AssertionError(f"{call}: images and labels were reordered differently, so image i no longer has "
                                 "its own mask; draw ONE permutation per call and apply it to every key.")
    if "names" in keys:
        names = result.get("names")
        if names is None or len(names) != n:
            raise AssertionError(f"{call}: data['names'] should still hold {n} names.")
        if [str(name) for name in names] != [f"case_{i}" for i in order]:
            raise AssertionError(f"{call}: the names were not reordered like the images (a list needs "
                                 "[names[i] for i in order]); every key gets the same permutation.")
        if not isinstance(names, list):
            raise AssertionError(f"{call}: data['names'] was a list and became a {type(names).__name__}; "
                                 "keep lists as lists.")
    return order


def _shuffle(shuffle_class: Any, *, seed: int) -> str:
    """Check ``shuffle_class(keys, seed=...)``: one permutation for all keys, a new one per call, reproducible.

    A shuffle is random, so instead of matching the reference's draws the check verifies what every
    correct shuffle does (and the reference passes it), on keys in two orders, with a key left out of
    ``keys`` that must stay in place, and on a one-case dataset.
    """
    n = 12
    keys = ["images", "labels", "names"]
    what = getattr(shuffle_class, "__name__", "ShuffleData")
    shuffle = _build(shuffle_class, keys, seed=seed, exercise=what)
    orders = [_shuffled_order(_run(shuffle, _numbered_dataset(n), what, f"{what}(keys)(data)"), keys, n,
                              f"{what}(keys={keys})") for _ in range(3)]
    if all(np.array_equal(order, np.arange(n)) for order in orders):
        raise AssertionError(f"{what}: three calls left {n} cases in their original order; nothing was shuffled.")
    if np.array_equal(orders[0], orders[1]) and np.array_equal(orders[1], orders[2]):
        raise AssertionError(f"{what}: three calls (three epochs) gave the same order; create the random generator "
                             "once in __init__ (self.rng) and draw a new permutation from it at every call.")
    again = _build(shuffle_class, keys, seed=seed, exercise=what)
    repeated = [_shuffled_order(_run(again, _numbered_dataset(n), what, f"{what}(keys)(data)"), keys, n, what)
                for _ in range(3)]
    if not all(np.array_equal(a, b) for a, b in zip(orders, repeated)):
        raise AssertionError(f"{what}: two shuffles built with the same seed gave different orders; draw from "
                             "self.rng (made from the seed in __init__), not from np.random.")
    other = _build(shuffle_class, keys, seed=seed + 1, exercise=what)
    different = _shuffled_order(_run(other, _numbered_dataset(n), what, f"{what}(keys)(data)"), keys, n, what)
    if np.array_equal(different, orders[0]):
        raise AssertionError(f"{what}: different seeds gave the same order; use the seed given to __init__.")
    reordered = ["labels", "images"]
    data = _numbered_dataset(n)
    out = _run(_build(shuffle_class, reordered, seed=seed, exercise=what), data, what, f"{what}({reordered})(data)")
    _shuffled_order(out, reordered, n, f"{what}(keys={reordered})")
    if out["names"] != [f"case_{i}" for i in range(n)]:
        raise AssertionError(f"{what}(keys={reordered}): 'names' is not in keys but was reordered.")
    single = _run(_build(shuffle_class, keys, seed=seed, exercise=what), _numbered_dataset(1), what, f"{what}(data)")
    _shuffled_order(single, keys, 1, f"{what} on a one-case dataset")
    return (f"every key shares one permutation, each call draws a new one, seeds reproduce them, keys left out "
            f"stay in place and a one-case dataset works (seed {seed}).")


check_shuffle = declare(Declaration(
    NOTEBOOK, 4, "shuffle all keys with one permutation (ShuffleData)", 2, "ShuffleData", hook=_shuffle))



# ----------------------------------------------------------------------------------------------
# exercise 6: the random shift
# ----------------------------------------------------------------------------------------------
def _find_offset(moved: np.ndarray, original: np.ndarray, reach: int) -> tuple[int, int] | None:
    """The offset within ``reach`` that turns ``original`` into ``moved``, or None."""
    for dy in range(-reach, reach + 1):
        for dx in range(-reach, reach + 1):
            if np.array_equal(moved, reference.shift_array(original, dy, dx)):
                return dy, dx
    return None


def _offsets_of(result: dict, data: dict, max_shift: int, what: str) -> list[tuple[int, int]]:
    """Read each case's offset back from the learner's output and check the label moved alike."""
    n, height, width = data["images"].shape
    for key in ("images", "labels"):
        value = result.get(key)
        if not isinstance(value, np.ndarray) or value.shape != (n, height, width):
            raise AssertionError(f"{what}: data['{key}'] should be an array of shape {(n, height, width)}, got "
                                 f"{type(value).__name__} {getattr(value, 'shape', '')}.")
        if value.dtype != data[key].dtype:
            raise AssertionError(f"{what}: data['{key}'] changed dtype from {data[key].dtype} to {value.dtype}.")
    offsets = []
    for i in range(n):
        image, label = result["images"][i], result["labels"][i]
        offset = _find_offset(image, data["images"][i], max_shift)
        if offset is None:
            if _find_offset(image, data["images"][i], max(height, width) - 1) is not None:
                far = _find_offset(image, data["images"][i], max(height, width) - 1)
                raise AssertionError(f"{what}: case {i} was moved by {far}, outside [-{max_shift}, {max_shift}]; "
                                     "draw with rng.integers(-max_shift, max_shift + 1).")
            for dy in range(-max_shift, max_shift + 1):
                for dx in range(-max_shift, max_shift + 1):
                    if (dy, dx) != (0, 0) and np.array_equal(image, np.roll(data["images"][i], (dy, dx), axis=(0, 1))):
                        raise AssertionError(f"{what}: case {i} wraps around the border (np.roll); pixels that "
                                             "leave the image must be lost and the ones entering must be 0.")
            raise AssertionError(f"{what}: image {i} is not the input moved by one offset (dy, dx) with zero "
                                 f"fill, for any offset within [-{max_shift}, {max_shift}].")
        if not np.array_equal(label, reference.shift_array(data["labels"][i], *offset)):
            moved = _find_offset(label, data["labels"][i], max_shift)
            detail = f"by {moved}" if moved is not None else "differently (or was interpolated)"
            raise AssertionError(f"{what}: in case {i} the image moved by {offset} but the label {detail}; move "
                                 "both with the same (dy, dx).")
        offsets.append(offset)
    return offsets


def _shift_batch(rng: np.random.Generator, n: int, height: int, width: int) -> dict:
    """Random images whose every pixel value is distinct (so an offset can be read back) and blob labels."""
    images = rng.permutation(n * height * width).reshape(n, height, width).astype(np.float32) + 1
    labels = (rng.random((n, height, width)) < 0.5).astype(np.float32)
    return {"images": images / images.max(), "labels": labels, "names": [f"case_{i}" for i in range(n)]}


def _random_shift(shift_class: Any, *, seed: int) -> str:
    """Check ``shift_class(max_shift, seed=...)`` on random batches.

    Every case must be moved by one integer offset within ``[-max_shift, max_shift]`` with zero fill,
    its label by the same offset; offsets are drawn per case, cover the whole range including both
    ends, and repeat for the same seed. Tried with ``max_shift`` 2, 0 and 5, square and non-square images.
    """
    what = getattr(shift_class, "__name__", "RandomShift")
    rng = np.random.default_rng(seed)
    settings = [(2, 400, 9, 9), (0, 5, 7, 11), (5, 60, 13, 17)]  # max_shift, cases, height, width
    for max_shift, n, height, width in settings:
        data = _shift_batch(rng, n, height, width)
        call = f"{what}({max_shift})(data)"
        result = _run(_build(shift_class, max_shift, seed=seed, exercise=what), copy.deepcopy(data), what, call)
        offsets = _offsets_of(result, data, max_shift, call)
        if max_shift == 0:
            continue
        if len(set(offsets)) == 1:
            raise AssertionError(f"{call}: all {n} cases were moved by {offsets[0]}; draw a new offset for "
                                 "each case, not one per batch.")
        reached = {value for offset in offsets for value in offset}
        for end in (-max_shift, max_shift):
            if end not in reached:
                raise AssertionError(f"{call}: no case out of {n} was ever moved by {end} in either direction; the "
                                     f"range is inclusive: rng.integers(-max_shift, max_shift + 1).")
        if n >= 200 and len(set(offsets)) < (2 * max_shift + 1) ** 2:
            raise AssertionError(f"{call}: only {len(set(offsets))} of the {(2 * max_shift + 1) ** 2} possible "
                                 f"offsets occurred in {n} cases; draw dy and dx independently.")
        repeat = _run(_build(shift_class, max_shift, seed=seed, exercise=what), copy.deepcopy(data), what, call)
        if not (np.array_equal(repeat["images"], result["images"]) and np.array_equal(repeat["labels"], result["labels"])):
            raise AssertionError(f"{call}: the same seed gave different shifts; draw from self.rng, not np.random.")
    return ("every case moved by its own offset within range, image and label alike, zero fill, reproducible; "
            f"max_shift 2, 0 and 5 on square and non-square images (seed {seed}).")


check_random_shift = declare(Declaration(
    NOTEBOOK, 6, "a random shift, alike for image and mask (RandomShift)", 2, "RandomShift", hook=_random_shift))
