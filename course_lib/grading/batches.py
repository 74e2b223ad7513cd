"""Check for notebook 1's batch exercise: one epoch of the batch iterator, its three stages in their places.

The reference is ``course_lib.data.iterators.epoch_batches``, which ``BatchIterator`` runs for every epoch. The
check hands the learner's function data with arrays and lists, transforms that record when they run and what
they see (and that change their dictionary in place, as transforms may), and compares batch by batch: how many,
which keys, which cases, whether the last smaller batch is kept, whether the data it was given is left as it was,
and whether the per-epoch transforms ran once before slicing and the per-batch ones once per batch.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable

import numpy as np

from course_lib.data.iterators import epoch_batches as reference_epoch_batches
from course_lib.grading.core import call_learner, describe
from course_lib.grading.declare import Declaration, declare

__all__ = ["check_epoch_batches"]


class _Reverse:
    """A per-epoch transform: reverses every key's order in place (as a shuffle would reorder) and counts its runs."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    def __call__(self, data: dict) -> dict:
        self.calls.append(len(data["images"]))
        data["images"][:] = data["images"][::-1].copy()
        data["names"].reverse()
        return data


class _Negate:
    """A per-batch transform: negates the batch's images in place and records each batch's size."""

    def __init__(self) -> None:
        self.sizes: list[int] = []

    def __call__(self, batch: dict) -> dict:
        self.sizes.append(len(batch["images"]))
        batch["images"] *= -1
        return batch


def _dataset(rng: np.random.Generator, n: int) -> dict:
    return {"images": rng.normal(size=(n, 3, 2)).astype(np.float32), "names": [f"case_{i}" for i in range(n)],
            "labels": rng.integers(0, 2, size=(n, 3, 2)).astype(np.float32), "extra": "not a key"}


def _batches(function: Callable[..., Iterable[dict]], data: dict, batch_size: int, keys: list[str], epoch: list,
             each: list, call: str) -> list[dict]:
    result = call_learner(lambda: list(function(data, batch_size, keys, epoch, each)), exercise="epoch_batches",
                          call=call)
    if not all(isinstance(batch, dict) for batch in result):
        raise AssertionError(f"{call} gave {[type(b).__name__ for b in result]}; every batch must be a dict of keys.")
    return result


def _epoch(epoch_batches: Callable[..., Iterable[dict]], *, seed: int) -> str:
    """``epoch_batches(data, batch_size, keys, each_epoch, each_iteration)`` must give the reference's batches."""
    rng = np.random.default_rng(seed)
    settings = [(10, 4), (8, 4), (7, 1), (3, 5), (int(rng.integers(5, 20)), int(rng.integers(2, 6)))]
    keys = ["images", "labels", "names"]
    for n, batch_size in settings:
        data = _dataset(rng, n)
        original = copy.deepcopy(data)
        call = f"epoch_batches({n} cases, batch_size={batch_size})"
        plain = _batches(epoch_batches, data, batch_size, keys, [], [], call)
        expected = list(reference_epoch_batches(original, batch_size, keys))
        if len(plain) != len(expected):
            short = len(plain) == n // batch_size and n % batch_size
            raise AssertionError(f"{call} gave {len(plain)} batches, expected {len(expected)} = ceil({n} / "
                                 f"{batch_size})." + (" The last, smaller batch was dropped: keep it." if short else ""))
        for index, (got, want) in enumerate(zip(plain, expected)):
            if sorted(got) != sorted(keys):
                raise AssertionError(f"{call}: batch {index} holds the keys {sorted(got)}; give exactly {keys} (only "
                                     "the keys asked for: other entries of the data stay out).")
            if list(got["names"]) != want["names"] or not np.array_equal(got["images"], want["images"]):
                raise AssertionError(f"{call}: batch {index} holds {list(got['names'])}, expected {want['names']}: "
                                     f"cases start:start + batch_size, in order.")
        _check_stages(epoch_batches, _dataset(rng, n), batch_size, keys, call)
    return (f"gives the reference's batches for {len(settings)} dataset sizes and batch sizes (last batch kept), with "
            f"the per-epoch transforms once before slicing, the per-batch ones once per batch, and the data it was "
            f"given left unchanged (seed {seed}).")


check_epoch_batches = declare(Declaration("01_data_transforms", 5, "one epoch of batches (epoch_batches)", 3,
                                          "epoch_batches", hook=_epoch))


def _check_stages(epoch_batches: Callable[..., Iterable[dict]], data: dict, batch_size: int, keys: list[str],
                  call: str) -> None:
    original = copy.deepcopy(data)
    epoch, each = _Reverse(), _Negate()
    got = _batches(epoch_batches, data, batch_size, keys, [epoch], [each], f"{call} with a per-epoch and a per-batch "
                   "transform")
    expected = list(reference_epoch_batches(original, batch_size, keys, [_Reverse()], [_Negate()]))
    n = len(original["names"])
    if not (np.array_equal(data["images"], original["images"]) and data["names"] == original["names"]):
        raise AssertionError(f"{call}: after one epoch the data you were given has changed (the transforms work in "
                             "place). Start the epoch from copy.deepcopy(data), so the next epoch starts from the "
                             "same data.")
    if epoch.calls != [n]:
        raise AssertionError(f"{call}: the per-epoch transform ran {len(epoch.calls)} times on "
                             f"{epoch.calls or 'nothing'} cases; run it once, on the whole (copied) data, before "
                             "slicing.")
    sizes = [min(batch_size, n - start) for start in range(0, n, batch_size)]
    if each.sizes != sizes:
        raise AssertionError(f"{call}: the per-batch transform saw batches of {each.sizes} cases, expected {sizes}: "
                             "run it once on every batch, after slicing.")
    for index, (batch, want) in enumerate(zip(got, expected)):
        if list(batch["names"]) != want["names"] or not np.array_equal(batch["images"], want["images"]):
            raise AssertionError(f"{call}: batch {index} is {describe(batch['images'])} of {list(batch['names'])}, "
                                 f"expected {want['names']} (reversed by the per-epoch transform, negated by the "
                                 "per-batch one): use what each transform returns.")
    if len(got) != math.ceil(n / batch_size):
        raise AssertionError(f"{call} gave {len(got)} batches, expected {math.ceil(n / batch_size)}.")
