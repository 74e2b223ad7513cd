"""The course's fixed train/val/test split, kept as a small JSON manifest of case names (no copied files).

The manifest was drawn once, stratified by the ``_0`` (normal) / ``_1`` (tuberculosis) suffix, so every
run, notebook and benchmark compares models on the same 96/20/22 cases. The phantom set uses the same
case names, so one manifest serves both the real and the offline data.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

__all__ = ["SPLIT_FILE", "SPLIT_NAMES", "load_split", "all_case_names", "cross_validation_folds"]

SPLIT_FILE = Path(__file__).with_name("split_montgomery.json")
SPLIT_NAMES = ("train", "val", "test")


@lru_cache(maxsize=1)
def _manifest() -> dict[str, tuple[str, ...]]:
    raw = json.loads(SPLIT_FILE.read_text(encoding="utf-8"))
    return {key: tuple(raw[key]) for key in SPLIT_NAMES}


def load_split() -> dict[str, list[str]]:
    """Case names (without ``.png``) for 'train' (96), 'val' (20) and 'test' (22); a fresh copy each call."""
    return {key: list(names) for key, names in _manifest().items()}


def all_case_names() -> list[str]:
    """The 138 Montgomery case names, sorted (80 ending ``_0``, 58 ending ``_1``)."""
    return sorted(name for names in _manifest().values() for name in names)


def cross_validation_folds(folds: int = 3, val_size: int = 20, seed: int = 20141101) -> list[dict[str, list[str]]]:
    """The 138 cases dealt into ``folds`` test folds, each with the rest split into 'train' and 'val' (``val_size``).

    The CFCM paper scored on three folds. Every case is then tested exactly once, so a mean over all 138 images
    is much steadier than one over the fixed split's 22 test images. Folds and validation sets are stratified by
    the normal / tuberculosis suffix and drawn from ``seed``, so they are the same on every machine.
    """
    names = all_case_names()
    if not 2 <= folds <= len(names) // 2:
        raise ValueError(f"cross_validation_folds: folds must be between 2 and {len(names) // 2}; got {folds}")
    rest_size = len(names) - -(-len(names) // folds)  # the smallest training-and-validation pool
    if not 1 <= val_size < rest_size:
        raise ValueError(f"cross_validation_folds: val_size must be between 1 and {rest_size - 1}; got {val_size}")
    rng = np.random.default_rng(seed)
    groups = [[name for name in names if name.endswith(suffix)] for suffix in ("_0", "_1")]
    shuffled = [[group[i] for i in rng.permutation(len(group))] for group in groups]
    dealt = [name for group in shuffled for name in group]  # normals first, then TB: dealing keeps both balanced
    test_folds = [sorted(dealt[k::folds]) for k in range(folds)]
    result = []
    for test in test_folds:
        tested = set(test)
        rest = [[name for name in group if name not in tested] for group in shuffled]
        total = sum(len(group) for group in rest)
        val_counts = [round(val_size * len(rest[0]) / total)]
        val_counts.append(val_size - val_counts[0])
        val = sorted(name for group, count in zip(rest, val_counts) for name in group[:count])
        train = sorted(name for group, count in zip(rest, val_counts) for name in group[count:])
        result.append({"train": train, "val": val, "test": test})
    return result
