"""The course's trainable models by name, and how to rebuild one from what a checkpoint records.

The command line, the training road and checkpoints all name a model through this one table, so adding a model is
one entry here. A model built by :func:`build_model` carries its :class:`ModelSpec` (``model.spec``), which a
checkpoint stores so that ``python -m course_lib evaluate`` can rebuild the same network later.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from torch import nn

from course_lib.nn.blocks import NORMS
from course_lib.nn.cfcm import CFCM18, CFCM34, Ladder34, ResidualLadder34

__all__ = ["MODELS", "ModelSpec", "build_model"]

MODELS: dict[str, Callable[..., nn.Module]] = {"cfcm34": CFCM34, "cfcm18": CFCM18, "ladder34": Ladder34,
                                               "resladder34": ResidualLadder34}


@dataclass(frozen=True)
class ModelSpec:
    """What rebuilds a trained model: its name in ``MODELS``, its width and its normalisation (None, "batch",
    "instance")."""

    name: str
    base: int = 64
    norm: str | None = None

    def __post_init__(self) -> None:
        if self.name not in MODELS:
            raise ValueError(f"unknown model {self.name!r}; choose one of {sorted(MODELS)}")
        if self.norm is not None and self.norm not in NORMS:
            raise ValueError(f"norm must be None or one of {NORMS}, got {self.norm!r}")

    def build(self) -> nn.Module:
        model = MODELS[self.name](base=self.base, norm=self.norm)
        model.spec = self  # type: ignore[assignment] - read by fit when it writes a checkpoint
        return model

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "ModelSpec":
        if "name" not in values:
            raise ValueError("the model spec names no model (no 'name'); it was not written by course_lib")
        values = dict(values)
        if "batch_norm" in values:  # checkpoints written before the normalisation became a choice
            values["norm"] = "batch" if values.pop("batch_norm") else None
        return cls(**values)


def build_model(name: str, base: int = 64, norm: str | None = None) -> nn.Module:
    """The model called ``name`` ("cfcm34", "cfcm18", "ladder34", "resladder34") at width ``base``."""
    return ModelSpec(name.strip().lower(), base, norm).build()
