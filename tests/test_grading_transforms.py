"""Notebook 1's checkers pass the reference transforms and name the typical mistakes precisely."""

from __future__ import annotations

import numpy as np
import pytest
from skimage.transform import resize

from course_lib.data import transforms as reference
from course_lib.grading import transforms as checks

pytestmark = pytest.mark.usefixtures("strict_checks")


def as_learner(library_class):
    """The reference transform in a class of the test's own, as a learner who wraps it would write it (the
    checkers refuse course_lib's own classes)."""

    class Answer:
        def __init__(self, *args, **kwargs):
            self.transform = library_class(*args, **kwargs)

        def __call__(self, data):
            return self.transform(data)

    Answer.__name__ = library_class.__name__
    return Answer


# --- the crop ---------------------------------------------------------------------------------
class LabCrop:
    """The original lab's crop: its slices stop one row and one column short of the content."""

    def __call__(self, data):
        images, labels = [], []
        for image, label in zip(data["images"], data["labels"]):
            rows = np.where(np.sum(image, axis=1) > 0)[0]
            cols = np.where(np.sum(image, axis=0) > 0)[0]
            images.append(image[rows.min():rows.max(), cols.min():cols.max()])
            labels.append(label[rows.min():rows.max(), cols.min():cols.max()])
        data["images"], data["labels"] = images, labels
        return data


class CropImageOnly(LabCrop):
    """Crops the image correctly but leaves the label as it was."""

    def __call__(self, data):
        labels = data["labels"]
        boxes = []
        for image in data["images"]:
            rows = np.flatnonzero(image.sum(axis=1) > 0)
            cols = np.flatnonzero(image.sum(axis=0) > 0)
            boxes.append((slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)))
        data["images"] = [image[box] for image, box in zip(data["images"], boxes)]
        data["labels"] = labels
        return data


def test_reference_crop_passes_the_visible_and_hidden_checks(capsys):
    checks.check_crop(as_learner(reference.CropActualImage))
    checks.check_crop(as_learner(reference.CropActualImage), seed=2024, n_cases=60)
    captured = capsys.readouterr()
    assert "match the reference crop" in captured.out
    assert captured.err == ""


def test_the_library_class_itself_is_refused():
    with pytest.raises(AssertionError, match="course_lib's own"):
        checks.check_crop(reference.CropActualImage)


def test_lab_crop_is_told_about_the_missing_last_row_and_column():
    with pytest.raises(AssertionError, match="last row and column"):
        checks.check_crop(LabCrop)


def test_crop_that_forgets_the_label_is_named():
    with pytest.raises(AssertionError, match="label was not cropped"):
        checks.check_crop(CropImageOnly)


# --- the resize -------------------------------------------------------------------------------
class SmoothLabels:
    """Resizes the labels like images: the mistake the notebook warns about."""

    def __init__(self, size):
        self.size = tuple(size)

    def __call__(self, data):
        for key in ("images", "labels"):
            data[key] = np.stack([resize(a, self.size, order=1, anti_aliasing=True, preserve_range=True)
                                  for a in data[key]]).astype(np.float32)
        return data


class NoAntiAliasing(SmoothLabels):
    """Labels right, images without anti-aliasing."""

    def __call__(self, data):
        data["images"] = np.stack([resize(a, self.size, order=1, anti_aliasing=False, preserve_range=True)
                                   for a in data["images"]]).astype(np.float32)
        data["labels"] = np.stack([resize(a, self.size, order=0, anti_aliasing=False, preserve_range=True)
                                   for a in data["labels"]]).astype(np.float32)
        return data


def test_reference_resize_passes(capsys):
    checks.check_resize(as_learner(reference.ResizeImage))
    checks.check_resize(as_learner(reference.ResizeImage), seed=77, n_cases=12)
    assert capsys.readouterr().err == ""


def test_interpolated_labels_are_caught():
    with pytest.raises(AssertionError, match="order=0 and anti_aliasing=False"):
        checks.check_resize(SmoothLabels)


def test_images_without_anti_aliasing_are_diagnosed():
    with pytest.raises(AssertionError, match="anti-aliasing off"):
        checks.check_resize(NoAntiAliasing)


# --- the shuffle ------------------------------------------------------------------------------
class SeparateShuffles:
    """A new permutation per key: images and masks no longer match."""

    def __init__(self, keys, seed=None):
        self.keys, self.rng = list(keys), np.random.default_rng(seed)

    def __call__(self, data):
        for key in self.keys:
            order = self.rng.permutation(len(data[key]))
            value = data[key]
            data[key] = value[order] if isinstance(value, np.ndarray) else [value[i] for i in order]
        return data


class SameOrderEveryEpoch(SeparateShuffles):
    """A generator made afresh inside __call__: every epoch gets the same order."""

    def __call__(self, data):
        order = np.random.default_rng(0).permutation(len(data[self.keys[0]]))
        for key in self.keys:
            value = data[key]
            data[key] = value[order] if isinstance(value, np.ndarray) else [value[i] for i in order]
        return data


def test_reference_shuffle_passes(capsys):
    checks.check_shuffle(as_learner(reference.ShuffleData))
    checks.check_shuffle(as_learner(reference.ShuffleData), seed=31)
    assert capsys.readouterr().err == ""


def test_separate_permutations_are_caught():
    with pytest.raises(AssertionError, match="ONE permutation"):
        checks.check_shuffle(SeparateShuffles)


def test_same_order_every_epoch_is_caught():
    with pytest.raises(AssertionError, match="once in __init__"):
        checks.check_shuffle(SameOrderEveryEpoch)


# --- the random shift -------------------------------------------------------------------------
class RollShift:
    """Shifts with np.roll: pixels wrap around the border."""

    def __init__(self, max_shift, seed=None):
        self.max_shift, self.rng = int(max_shift), np.random.default_rng(seed)

    def __call__(self, data):
        images, labels = [], []
        for image, label in zip(data["images"], data["labels"]):
            dy, dx = (int(v) for v in self.rng.integers(-self.max_shift, self.max_shift + 1, size=2))
            images.append(np.roll(image, (dy, dx), axis=(0, 1)))
            labels.append(np.roll(label, (dy, dx), axis=(0, 1)))
        data["images"], data["labels"] = np.stack(images), np.stack(labels)
        return data


class OneOffsetPerBatch(RollShift):
    """Draws one offset for the whole batch."""

    def __call__(self, data):
        dy, dx = (int(v) for v in self.rng.integers(-self.max_shift, self.max_shift + 1, size=2))
        for key in ("images", "labels"):
            data[key] = np.stack([reference.shift_array(a, dy, dx) for a in data[key]])
        return data


class ExclusiveRange(RollShift):
    """Forgets that the range includes max_shift."""

    def __call__(self, data):
        out = {k: [] for k in ("images", "labels")}
        for image, label in zip(data["images"], data["labels"]):
            dy, dx = (int(v) for v in self.rng.integers(-self.max_shift, self.max_shift, size=2))
            out["images"].append(reference.shift_array(image, dy, dx))
            out["labels"].append(reference.shift_array(label, dy, dx))
        data.update({k: np.stack(v) for k, v in out.items()})
        return data


class LabelNotMoved(RollShift):
    def __call__(self, data):
        images = []
        for image in data["images"]:
            dy, dx = (int(v) for v in self.rng.integers(-self.max_shift, self.max_shift + 1, size=2))
            images.append(reference.shift_array(image, dy, dx))
        data["images"] = np.stack(images)
        return data


@pytest.mark.parametrize("wrong, message", [
    (RollShift, "np.roll"),
    (OneOffsetPerBatch, "not one per batch"),
    (ExclusiveRange, "inclusive"),
    (LabelNotMoved, "same \\(dy, dx\\)"),
])
def test_shift_mistakes_are_named(wrong, message):
    with pytest.raises(AssertionError, match=message):
        checks.check_random_shift(wrong)


def test_checkers_are_deterministic_for_a_seed():
    """A grade must be reproducible: the same seed draws the same inputs."""
    first = checks._shift_batch(np.random.default_rng(3), 4, 5, 6)
    second = checks._shift_batch(np.random.default_rng(3), 4, 5, 6)
    assert all(np.array_equal(first[k], second[k]) for k in ("images", "labels"))


class CorrectShift(RollShift):
    """The notebook's answer, written independently of the checker's helper."""

    def __call__(self, data):
        images, labels = [], []
        for image, label in zip(data["images"], data["labels"]):
            dy, dx = (int(v) for v in self.rng.integers(-self.max_shift, self.max_shift + 1, size=2))
            height, width = image.shape
            pad = ((max(dy, 0), max(-dy, 0)), (max(dx, 0), max(-dx, 0)))
            rows = slice(max(-dy, 0), max(-dy, 0) + height)
            cols = slice(max(-dx, 0), max(-dx, 0) + width)
            images.append(np.pad(image, pad)[rows, cols])
            labels.append(np.pad(label, pad)[rows, cols])
        data["images"], data["labels"] = np.stack(images), np.stack(labels)
        return data


@pytest.mark.parametrize("answer", [as_learner(reference.RandomShift), CorrectShift])
def test_correct_shifts_pass(answer, capsys):
    checks.check_random_shift(answer)
    checks.check_random_shift(answer, seed=5)
    assert capsys.readouterr().err == ""
