"""The lab's transforms: corrected crop, resize that keeps labels binary, one shuffle for all keys, augmentations."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib.data import DatasetError
from course_lib.data.transforms import (CropActualImage, RandomAffine, RandomFlip, RandomIntensity, RandomShift,
                                        ResizeImage, ShuffleData, crop_box)


def _padded(top=2, bottom=3, left=1, right=4, shape=(5, 6), seed=0):
    rng = np.random.default_rng(seed)
    content = rng.uniform(0.1, 1.0, shape).astype(np.float32)
    image = np.pad(content, ((top, bottom), (left, right)))
    label = np.pad((content > 0.5).astype(np.float32), ((top, bottom), (left, right)))
    return content, image, label


def test_crop_keeps_the_last_row_and_column_of_content():
    content, image, label = _padded()
    data = CropActualImage()({"images": [image], "labels": [label], "names": ["a"], "other": 7})
    assert data["images"][0].shape == content.shape           # the lab's slice would give (4, 5)
    np.testing.assert_array_equal(data["images"][0], content)
    np.testing.assert_array_equal(data["labels"][0], (content > 0.5).astype(np.float32))
    assert data["other"] == 7


def test_crop_keeps_black_pixels_inside_the_content_and_unpadded_images():
    content, image, label = _padded(top=0, bottom=0, left=0, right=0)
    content[2, :] = 0
    data = CropActualImage()({"images": [content.copy()], "labels": [label]})
    np.testing.assert_array_equal(data["images"][0], content)


def test_crop_of_an_all_black_image_names_it():
    black = np.zeros((4, 4), np.float32)
    with pytest.raises(DatasetError, match="MCUCXR_0001_0.*all black"):
        CropActualImage()({"images": [black], "labels": [black], "names": ["MCUCXR_0001_0"]})
    assert issubclass(DatasetError, ValueError)


def test_crop_rejects_labels_of_another_shape_and_missing_keys():
    _, image, _ = _padded()
    with pytest.raises(ValueError, match="label shape"):
        CropActualImage()({"images": [image], "labels": [np.ones((2, 2))]})
    with pytest.raises(KeyError, match="labels"):
        CropActualImage()({"images": [image]})
    with pytest.raises(ValueError, match="2-D"):
        crop_box(np.ones((2, 2, 2)))


def test_resize_stacks_float32_and_keeps_labels_binary_without_anti_aliasing():
    rng = np.random.default_rng(1)
    images = [rng.random((40, 30)).astype(np.float32), rng.random((25, 50)).astype(np.float32)]
    labels = [(rng.random(i.shape) > 0.5).astype(np.float32) for i in images]
    data = ResizeImage((16, 12))({"images": images, "labels": labels, "names": ["a", "b"]})
    assert data["images"].shape == data["labels"].shape == (2, 16, 12)
    assert data["images"].dtype == data["labels"].dtype == np.float32
    assert set(np.unique(data["labels"])) <= {0.0, 1.0}
    assert data["names"] == ["a", "b"]
    # nearest neighbour: every output label pixel is some input label pixel of that case (a thin line survives)
    line = np.zeros((64, 64), np.float32)
    line[:, 31] = 1
    resized = ResizeImage(32)({"images": [line], "labels": [line]})
    assert resized["labels"].max() == 1.0 and 0 < resized["images"].max() < 1.0   # the image IS smoothed
    assert repr(ResizeImage(32)) == "ResizeImage(size=(32, 32))"


@pytest.mark.parametrize("size", [0, (3,), "big", (4, -1)])
def test_resize_rejects_bad_sizes(size):
    with pytest.raises(ValueError, match="size"):
        ResizeImage(size)


def test_shuffle_uses_one_permutation_for_every_key_and_is_seedable():
    n = 20
    data = {"images": np.arange(n, dtype=np.float32)[:, None, None] * np.ones((n, 2, 2), np.float32),
            "labels": np.arange(n, dtype=np.float32), "names": [f"c{i}" for i in range(n)], "other": "x"}
    first = ShuffleData(["images", "labels", "names"], seed=3)
    out = first(dict(data))
    order = out["labels"].astype(int)
    assert sorted(order) == list(range(n)) and not np.array_equal(order, np.arange(n))
    np.testing.assert_array_equal(out["images"][:, 0, 0], order)
    assert out["names"] == [f"c{i}" for i in order] and isinstance(out["names"], list)
    assert out["other"] == "x"
    again = ShuffleData(["images", "labels", "names"], seed=3)(dict(data))
    np.testing.assert_array_equal(again["labels"], out["labels"])
    second_epoch = first(dict(data))
    assert not np.array_equal(second_epoch["labels"], out["labels"])
    assert "seed=3" in repr(first)


def test_shuffle_rejects_keys_of_different_lengths():
    with pytest.raises(ValueError, match=r"\['labels'\] has 2"):
        ShuffleData(["images", "labels"])({"images": np.zeros((3, 1)), "labels": np.zeros(2)})
    with pytest.raises(ValueError):
        ShuffleData("images")


def _batch(n=6, size=16, seed=0):
    rng = np.random.default_rng(seed)
    labels = np.zeros((n, size, size), np.float32)
    labels[:, 4:12, 3:9] = 1
    images = labels * 0.8 + rng.uniform(0, 0.1, labels.shape).astype(np.float32)
    return {"images": images, "labels": labels, "names": [f"c{i}" for i in range(n)]}


def test_random_flip_moves_image_and_label_together_per_sample():
    data = _batch(n=40)
    out = RandomFlip(seed=0)({k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in data.items()})
    flipped = [not np.array_equal(o, i) for o, i in zip(out["labels"], data["labels"])]
    assert 0 < sum(flipped) < 40                                   # drawn per sample
    for image, label, source in zip(out["images"], out["labels"], data["images"]):
        assert np.array_equal(image, source) or np.array_equal(image, source[:, ::-1])
        np.testing.assert_array_equal(label > 0, image > 0.5)


def test_random_shift_moves_alike_with_zero_fill():
    data = _batch(n=30)
    out = RandomShift(3, seed=1)(dict(data))
    for image, label in zip(out["images"], out["labels"]):
        np.testing.assert_array_equal(label > 0, image > 0.5)
        assert label.sum() == data["labels"][0].sum()             # the square stays inside 16x16 for |shift| <= 3
    assert len({tuple(np.argwhere(label)[0]) for label in out["labels"]}) > 1


def test_random_affine_keeps_labels_binary_and_aligned():
    data = _batch(n=8, size=32)
    out = RandomAffine(max_rotation=20, max_scale=0.2, max_shift=0.1, seed=2)(dict(data))
    assert out["images"].dtype == np.float32 and out["labels"].shape == (8, 32, 32)
    assert set(np.unique(out["labels"])) <= {0.0, 1.0}
    agreement = np.mean((out["labels"] > 0) == (out["images"] > 0.45))
    assert agreement > 0.97
    assert not np.array_equal(out["labels"], data["labels"])
    with pytest.raises(ValueError, match="same shape"):
        RandomAffine()({"images": np.zeros((2, 4, 4)), "labels": np.zeros((2, 4, 5))})


def test_random_intensity_changes_images_only_and_stays_in_range():
    data = _batch()
    labels = data["labels"].copy()
    out = RandomIntensity(seed=0)(dict(data))
    assert out["images"].min() >= 0 and out["images"].max() <= 1
    assert not np.allclose(out["images"], data["images"])
    np.testing.assert_array_equal(out["labels"], labels)
    assert "max_gamma=0.3" in repr(RandomIntensity())


@pytest.mark.parametrize("transform, text", [
    (RandomFlip(0.3, seed=1), "RandomFlip(probability=0.3, seed=1)"),
    (RandomShift(2), "RandomShift(max_shift=2, seed=None)"),
    (RandomAffine(5, 0.1, 0.02, seed=4), "RandomAffine(max_rotation=5.0, max_scale=0.1, max_shift=0.02, seed=4)"),
    (CropActualImage(), "CropActualImage()"),
])
def test_reprs_show_the_parameters(transform, text):
    assert repr(transform) == text


def test_augmentation_parameters_are_checked():
    for build in (lambda: RandomFlip(1.5), lambda: RandomShift(-1), lambda: RandomAffine(max_scale=1.0),
                  lambda: RandomIntensity(max_gamma=1.0)):
        with pytest.raises(ValueError):
            build()
