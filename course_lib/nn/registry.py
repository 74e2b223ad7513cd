"""The course's trainable models by name, and the spec that rebuilds one.

The command line, the training road and checkpoints all name a model through this one table, so adding a model is
one entry here. A network's :class:`ModelSpec` is read from the network itself (:func:`spec_of`: its class's name here,
the width and normalisation its encoder was built with), so nothing is attached to a model after it is built. A
recipe derives the spec of the network it trains (``TrainConfig.model_spec``), and a checkpoint stores the model's
name beside that recipe, from which ``load_model`` derives the same spec again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from course_lib.nn.cfcm import CFCM18, CFCM34, Ladder34, ResidualLadder34

__all__ = ["MODELS", "ModelSpec", "build_model", "spec_of"]

MODELS: dict[str, Callable[..., nn.Module]] = {"cfcm34": CFCM34, "cfcm18": CFCM18, "ladder34": Ladder34,
                                               "resladder34": ResidualLadder34}


@dataclass(frozen=True)
class ModelSpec:
    """What rebuilds a course network: its name in ``MODELS`` (any case) and the two constructor arguments the
    course varies, the width ``base`` and the normalisation ``norm`` (None, "batch", "instance"); every other
    argument is the constructor's default."""

    name: str
    base: int
    norm: str | None

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", self.name.strip().lower())
        if self.name not in MODELS:
            raise ValueError(f"unknown model {self.name!r}; choose one of {sorted(MODELS)}")

    def build(self) -> nn.Module:
        return MODELS[self.name](base=self.base, norm=self.norm)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "ModelSpec":
        """The spec as checkpoints of format 1 stored it whole (``model_spec``), so that they still load."""
        if "name" not in values:
            raise ValueError("the model spec names no model (no 'name'); it was not written by course_lib")
        values = dict(values)
        if "batch_norm" in values:  # checkpoints written before the normalisation became a choice
            values["norm"] = "batch" if values.pop("batch_norm") else None
        return cls(**values)


def spec_of(model: nn.Module) -> ModelSpec | None:
    """How to rebuild ``model``: its class's name in ``MODELS`` with its encoder's ``base`` and ``norm``; None for a
    network the registry would not rebuild as it is (another class, a peer network, other constructor arguments or
    modules added after building: a rebuild on the meta device, which costs no memory, must hold the same tensors)."""
    name = next((name for name, kind in MODELS.items() if type(model) is kind), None)
    if name is None:
        return None
    spec = ModelSpec(name, model.encoder.base, model.encoder.norm)
    with torch.device("meta"):
        rebuilt = spec.build()
    return spec if _shapes(rebuilt) == _shapes(model) else None


def _shapes(model: nn.Module) -> dict[str, tuple[int, ...]]:
    return {key: tuple(value.shape) for key, value in model.state_dict().items()}


def build_model(name: str, base: int = 64, norm: str | None = None) -> nn.Module:
    """The model called ``name`` ("cfcm34", "cfcm18", "ladder34", "resladder34") at width ``base``; the defaults
    are the lab's network (base 64, no normalisation)."""
    return ModelSpec(name, base, norm).build()
