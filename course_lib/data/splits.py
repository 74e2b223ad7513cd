"""The course's fixed train/val/test split, kept as a small JSON manifest of case names (no copied files).

The manifest was drawn once, stratified by the ``_0`` (normal) / ``_1`` (tuberculosis) suffix, so every
run, notebook and benchmark compares models on the same 96/20/22 cases. The phantom set uses the same
case names, so one manifest serves both the real and the offline data.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

__all__ = ["SPLIT_FILE", "SPLIT_NAMES", "load_split", "all_case_names"]

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
