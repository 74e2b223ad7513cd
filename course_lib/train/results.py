"""What training and evaluation hand back: a per-epoch History and a per-image Evaluation."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class History:
    """Per-epoch curves. Validation entries are NaN for epochs where validation was skipped."""

    epoch: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    train_dice: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_dice: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)  # wall time of each epoch (training + validation)
    precision: str | None = None  # the arithmetic fit ran (fp32, bf16, fp16): the run's, not a per-epoch column

    def append(self, **values: float) -> None:
        for name in self.columns():
            getattr(self, name).append(values[name])

    @staticmethod
    def columns() -> tuple[str, ...]:
        return ("epoch", "train_loss", "train_dice", "val_loss", "val_dice", "lr", "seconds")

    def __len__(self) -> int:
        return len(self.epoch)

    @property
    def best_epoch(self) -> int | None:
        """Epoch (1-based) with the highest validation Dice, or None before any validation."""
        scored = [(dice, epoch) for epoch, dice in zip(self.epoch, self.val_dice) if not math.isnan(dice)]
        return max(scored, key=lambda pair: (pair[0], -pair[1]))[1] if scored else None

    @property
    def best_val_dice(self) -> float:
        scored = [dice for dice in self.val_dice if not math.isnan(dice)]
        return max(scored) if scored else float("nan")

    @property
    def total_seconds(self) -> float:
        return float(sum(self.seconds))

    def seconds_to_reach(self, val_dice: float) -> tuple[int, float] | None:
        """(epoch, cumulative seconds) when validation Dice first reached ``val_dice``, or None."""
        elapsed = 0.0
        for epoch, dice, seconds in zip(self.epoch, self.val_dice, self.seconds):
            elapsed += seconds
            if not math.isnan(dice) and dice >= val_dice:
                return epoch, elapsed
        return None

    def to_dict(self) -> dict[str, list]:
        return {name: list(getattr(self, name)) for name in self.columns()}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "History":
        return cls(**{name: [type_(v) for v in values[name]] for name, type_ in zip(cls.columns(), (int,) + (float,) * 6)})

    def same_curves(self, other: "History") -> bool:
        """Equal in everything but wall time (for reproducibility checks); NaNs compare equal."""
        for name in self.columns():
            if name == "seconds":
                continue
            if not np.array_equal(np.asarray(getattr(self, name)), np.asarray(getattr(other, name)), equal_nan=True):
                return False
        return True


@dataclass
class Evaluation:
    """Dice and boundary F-score of every image (thresholded prediction against the mask), with the image names."""

    names: list[str]
    dice: np.ndarray  # (N,) float
    predictions: np.ndarray | None = None  # (N, H, W) probabilities when asked for
    boundary_f: np.ndarray | None = None  # (N,) boundary F-score within 1 pixel (course_lib.metrics)
    precision: str | None = None  # the arithmetic the model ran in (fp32, bf16, fp16)

    @property
    def mean(self) -> float:
        return float(np.mean(self.dice)) if len(self.dice) else float("nan")

    @property
    def std(self) -> float:
        return float(np.std(self.dice)) if len(self.dice) else float("nan")

    def worst(self, k: int = 5) -> list[tuple[int, str, float]]:
        """The ``k`` lowest-scoring images as (index, name, dice), worst first."""
        order = np.argsort(self.dice, kind="stable")[:k]
        return [(int(i), self.names[i], float(self.dice[i])) for i in order]

    def table(self) -> str:
        """Plain-text per-image table, worst first, ending with the mean."""
        width = max([len("image")] + [len(name) for name in self.names])
        lines = [f"{'image':<{width}}  dice"]
        lines += [f"{name:<{width}}  {dice:.4f}" for _, name, dice in self.worst(len(self.names))]
        lines.append(f"{'mean':<{width}}  {self.mean:.4f}")
        return "\n".join(lines)

    def summary(self, worst: int = 5) -> dict[str, Any]:
        """What a person asks of a scored set, in plain types: count, mean, sd, median, 5th percentile, the worst."""
        dice = np.asarray(self.dice, dtype=np.float64)
        stats = {"images": len(dice), "mean_dice": self.mean, "sd_dice": self.std,
                 "median_dice": float(np.median(dice)) if len(dice) else float("nan"),
                 "p5_dice": float(np.percentile(dice, 5)) if len(dice) else float("nan")}
        if self.boundary_f is not None:
            stats["mean_boundary_f"] = float(np.mean(self.boundary_f)) if len(dice) else float("nan")
        stats["worst"] = [{"name": name, "dice": value, **self._border(i)} for i, name, value in self.worst(worst)]
        return {**stats, "precision": self.precision}

    def report(self, worst: int = 5) -> str:
        """The summary as lines a person reads: the spread of Dice, then the worst images by name."""
        numbers = self.summary(worst)
        border = f"; boundary F-score mean {numbers['mean_boundary_f']:.4f}" if "mean_boundary_f" in numbers else ""
        lines = [f"{numbers['images']} images: Dice {numbers['mean_dice']:.4f} ± {numbers['sd_dice']:.4f} "
                 f"(mean ± sd), median {numbers['median_dice']:.4f}, 5th percentile {numbers['p5_dice']:.4f}{border}",
                 f"worst {len(numbers['worst'])}:"]
        width = max([0] + [len(row["name"]) for row in numbers["worst"]])
        for row in numbers["worst"]:
            extra = f"  boundary F {row['boundary_f']:.4f}" if "boundary_f" in row else ""
            lines.append(f"  {row['name']:<{width}}  Dice {row['dice']:.4f}{extra}")
        return "\n".join(lines)

    def rows(self) -> list[dict[str, Any]]:
        """One dict per image, in the data's order: name, dice and (when scored) boundary_f."""
        return [{"name": name, "dice": float(value), **self._border(i)} for i, (name, value) in
                enumerate(zip(self.names, self.dice))]

    def _border(self, index: int) -> dict[str, float]:
        return {"boundary_f": float(self.boundary_f[index])} if self.boundary_f is not None else {}

    def to_dict(self) -> dict[str, Any]:
        return {"mean_dice": self.mean, "per_image": {n: float(d) for n, d in zip(self.names, self.dice)}}
