"""BatchIterator: loads once, works on a fresh copy each epoch, transforms each batch, keeps the last partial batch."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib.data import BatchIterator, CropActualImage, LungXRayDataset, ResizeImage, ShuffleData


class Counting:
    """Records how often it ran; optionally damages the data in place (to prove epochs do not leak)."""

    def __init__(self, data=None, damage=False):
        self.calls, self.data, self.damage = 0, data, damage

    def __call__(self, data):
        self.calls += 1
        if self.data is not None:
            data.update({k: v.copy() for k, v in self.data.items()})
        if self.damage:
            data["images"] += 100
        return data


def _numbers(n=10):
    return {"images": np.arange(n, dtype=np.float32), "labels": np.arange(n, dtype=np.float32) * 2}


def test_three_stages_run_when_the_lab_says():
    load, epoch, batch = Counting(_numbers()), Counting(damage=True), Counting()
    iterator = BatchIterator(4, ["images", "labels"], [load], [epoch], [batch])
    assert load.calls == 1 and len(iterator) == 3
    for _ in range(2):
        batches = list(iterator)
        assert [len(b["images"]) for b in batches] == [4, 4, 2]             # last partial batch kept
        np.testing.assert_array_equal(np.concatenate([b["images"] for b in batches]), np.arange(10) + 100)
    assert load.calls == 1 and epoch.calls == 2 and batch.calls == 6
    np.testing.assert_array_equal(iterator.data["images"], np.arange(10))   # epochs never leak into self.data


def test_each_epoch_shuffles_differently_and_keeps_pairs():
    iterator = BatchIterator(3, ["images", "labels"], [Counting(_numbers())], [ShuffleData(["images", "labels"], seed=0)])
    epochs = [np.concatenate([b["images"] for b in iterator]) for _ in range(2)]
    assert not np.array_equal(epochs[0], epochs[1])
    for batch in iterator:
        np.testing.assert_array_equal(batch["labels"], batch["images"] * 2)


def test_bad_configurations_are_named():
    with pytest.raises(ValueError, match="batch_size"):
        BatchIterator(0, ["images"])
    with pytest.raises(KeyError, match="names"):
        BatchIterator(2, ["names"], [Counting(_numbers())])
    with pytest.raises(TypeError, match="return data"):
        BatchIterator(2, ["images"], [lambda data: None])


def test_the_lab_pipeline_on_the_phantom(small_phantom_dir):
    iterator = BatchIterator(
        3, ["images", "labels", "names"],
        [LungXRayDataset(small_phantom_dir / "CXR_png", small_phantom_dir / "ManualMask"), CropActualImage(),
         ResizeImage((32, 32))],
        [ShuffleData(["images", "labels", "names"], seed=1)])
    batches = list(iterator)
    assert [b["images"].shape for b in batches] == [(3, 32, 32), (3, 32, 32), (2, 32, 32)]
    assert sorted(n for b in batches for n in b["names"]) == sorted(iterator.data["names"])
    assert "ShuffleData" in repr(iterator)


def test_one_epoch_of_batches_keeps_the_last_small_batch_and_leaves_the_data_alone():
    from course_lib.data.iterators import epoch_batches

    data = {"images": np.arange(10, dtype=np.float32), "labels": np.arange(10) % 2, "names": list("abcdefghij")}
    calls = []

    def mark(batch: dict) -> dict:
        calls.append(len(batch["images"]))
        batch["images"] = batch["images"] * -1  # a transform may change what it is given
        return batch

    batches = list(epoch_batches(data, 4, ["images", "names"], each_iteration=[mark]))
    assert [len(b["images"]) for b in batches] == [4, 4, 2] == calls
    assert set(batches[0]) == {"images", "names"} and batches[2]["names"] == ["i", "j"]
    assert data["images"][0] == 0 and batches[0]["images"][1] == -1, "the epoch works on a copy"
