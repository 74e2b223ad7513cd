"""The lab's batch iterator: one object that loads once, reshuffles per epoch and augments per batch.

Three stages, as in the lab: ``transforms_before_iterating`` run once when the iterator is built
(loading, cropping, resizing); ``transforms_each_epoch`` run at the start of every pass over the
data, on a deep copy so one epoch never leaks into the next (shuffling); ``transforms_each_iteration``
run on every batch (augmentation). The last, smaller batch is kept.
"""

from __future__ import annotations

import copy
import math
from typing import Callable, Iterator, Sequence

__all__ = ["BatchIterator", "epoch_batches"]

Transform = Callable[[dict], dict]


class BatchIterator:
    """Iterating yields dicts holding ``keys``, each a slice of at most ``batch_size`` cases."""

    def __init__(self, batch_size: int, keys: Sequence[str], transforms_before_iterating: Sequence[Transform] = (),
                 transforms_each_epoch: Sequence[Transform] = (), transforms_each_iteration: Sequence[Transform] = ()):
        if int(batch_size) < 1:
            raise ValueError(f"BatchIterator: batch_size must be >= 1, got {batch_size}.")
        if isinstance(keys, str) or len(keys) == 0:
            raise ValueError(f"BatchIterator: keys must be a non-empty list of data keys, got {keys!r}.")
        self.batch_size, self.keys = int(batch_size), list(keys)
        self.transforms_before_iterating = list(transforms_before_iterating)
        self.transforms_each_epoch = list(transforms_each_epoch)
        self.transforms_each_iteration = list(transforms_each_iteration)
        self.data: dict = {}
        for transform in self.transforms_before_iterating:
            self.data = _apply(transform, self.data, "transforms_before_iterating")
        missing = [key for key in self.keys if key not in self.data]
        if missing:
            raise KeyError(f"BatchIterator: keys {missing} are not in the data after transforms_before_iterating "
                           f"(it has {sorted(self.data)}); add a loading transform or fix keys.")
        lengths = {key: len(self.data[key]) for key in self.keys}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"BatchIterator: keys have different lengths {lengths}; every key needs one entry per case.")

    def __repr__(self) -> str:
        return (f"BatchIterator(batch_size={self.batch_size}, keys={self.keys}, "
                f"transforms_before_iterating={self.transforms_before_iterating}, "
                f"transforms_each_epoch={self.transforms_each_epoch}, "
                f"transforms_each_iteration={self.transforms_each_iteration})")

    def __len__(self) -> int:
        """Batches per epoch (the last one may be smaller)."""
        return math.ceil(len(self.data[self.keys[0]]) / self.batch_size)

    def __iter__(self) -> Iterator[dict]:
        return epoch_batches(self.data, self.batch_size, self.keys, self.transforms_each_epoch,
                             self.transforms_each_iteration)


def epoch_batches(data: dict, batch_size: int, keys: Sequence[str], each_epoch: Sequence[Transform] = (),
                  each_iteration: Sequence[Transform] = ()) -> Iterator[dict]:
    """One epoch: a deep copy of ``data`` through ``each_epoch``, then slices of ``batch_size`` cases holding
    ``keys``, each through ``each_iteration``; the last, smaller batch is kept. (Notebook 1's exercise.)"""
    data = copy.deepcopy(data)
    for transform in each_epoch:
        data = _apply(transform, data, "transforms_each_epoch")
    n = len(data[keys[0]])
    for start in range(0, n, batch_size):
        batch = {key: data[key][start:start + batch_size] for key in keys}
        for transform in each_iteration:
            batch = _apply(transform, batch, "transforms_each_iteration")
        yield batch


def _apply(transform: Transform, data: dict, stage: str) -> dict:
    result = transform(data)
    if not isinstance(result, dict):
        raise TypeError(f"BatchIterator: {transform!r} in {stage} returned {type(result).__name__}, not the data "
                        "dict; end its __call__ with `return data`.")
    return result
