"""Two ways a run goes wrong that a student should hear about while it runs, each said once, with what to change.

*Collapse*: the network calls every pixel of every validation image one class, epoch after epoch; its logits
have saturated the sigmoid, whose gradient then vanishes. *Divergence*: validation Dice falls far below its best
and stays there; an update too large for the batch knocked the weights out of the good region (the one-cycle
peak is where it happens). Either way the best weights so far are kept, and fit goes on: the warning says to stop.
"""

from __future__ import annotations

import math
import warnings

from course_lib.train.configs import TrainConfig
from course_lib.train.results import History

__all__ = ["TrainingCollapsedWarning", "TrainingDivergedWarning", "HealthWatch", "COLLAPSE_EPOCHS",
           "DIVERGENCE_DROP", "DIVERGENCE_EPOCHS"]

COLLAPSE_EPOCHS = 3  # a healthy run leaves the all-one-class start within an epoch or two
DIVERGENCE_DROP = 0.1  # validation Dice this far below its best ...
DIVERGENCE_EPOCHS = 3  # ... for this many validations in a row
DIVERGENCE_FROM = 0.5  # only once the best is a real segmentation (early epochs bounce around)


class TrainingCollapsedWarning(RuntimeWarning):
    """The network predicts one class for every pixel of every validation image, epoch after epoch."""


class TrainingDivergedWarning(RuntimeWarning):
    """Validation Dice has stayed far below its best for several epochs: the run left the good region."""


class HealthWatch:
    """Follows one run's validations and warns (once each) about a collapse or a divergence."""

    def __init__(self, config: TrainConfig) -> None:
        self.config = config
        self.constant_epochs = 0
        self.low_epochs = 0
        self.warned: set[type[Warning]] = set()

    def update(self, history: History, constant: str | None) -> None:
        """After a validation: ``history`` holds it as its last row; ``constant`` is the one class predicted, if any."""
        self.constant_epochs = self.constant_epochs + 1 if constant else 0
        if self.constant_epochs == COLLAPSE_EPOCHS:
            self._warn(TrainingCollapsedWarning, self._collapse_message(constant, history.epoch[-1]))
        best, latest = history.best_val_dice, history.val_dice[-1]
        far_below = best >= DIVERGENCE_FROM and not math.isnan(latest) and latest < best - DIVERGENCE_DROP
        self.low_epochs = self.low_epochs + 1 if far_below and not constant else 0
        if self.low_epochs == DIVERGENCE_EPOCHS:
            self._warn(TrainingDivergedWarning, self._divergence_message(history))

    def _warn(self, category: type[Warning], message: str) -> None:
        if category not in self.warned:
            self.warned.add(category)
            warnings.warn(message, category, stacklevel=5)  # the line that called fit

    def _collapse_message(self, constant: str | None, epoch: int) -> str:
        config = self.config
        return (f"fit: for {COLLAPSE_EPOCHS} validations up to epoch {epoch}, the network has predicted every pixel "
                f"of every validation image as {constant}. Training has most likely collapsed: the logits saturated "
                "the sigmoid, whose gradient then vanishes, so it rarely recovers. Interrupt it and restart with a "
                f"lower learning rate (lr is {config.lr:g}), a larger batch (batch_size is {config.batch_size}) or "
                f"augment=False (augment is {config.augment}); the best weights so far are kept.")

    def _divergence_message(self, history: History) -> str:
        config = self.config
        recent = ", ".join(f"{value:.3f}" for value in history.val_dice[-DIVERGENCE_EPOCHS:])
        return (f"fit: validation Dice has been more than {DIVERGENCE_DROP:g} below its best "
                f"({history.best_val_dice:.3f} at epoch {history.best_epoch}) for {DIVERGENCE_EPOCHS} epochs "
                f"({recent} up to epoch {history.epoch[-1]}): the run has diverged; training Dice fell from "
                f"{max(history.train_dice):.3f} to {history.train_dice[-1]:.3f}. The updates were too large for the "
                f"batch: restart with a lower peak learning rate (lr is {config.lr:g}), a larger batch (batch_size "
                f"is {config.batch_size}) or gradient clipping (max_grad_norm is {config.max_grad_norm}); the best "
                "weights so far are kept.")
