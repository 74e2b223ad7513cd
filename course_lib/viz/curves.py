"""Training curves that update once per epoch: one live figure in a notebook, one plain line per epoch elsewhere.

The lab drew three figures for every batch, which on a GPU cost more than the training itself; here the figure
is redrawn in place (IPython ``display`` handle) at the end of each epoch only. :class:`LiveCurves` is a ``fit``
callback: ``fit(..., callbacks=[LiveCurves()])``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from course_lib.viz.notebook import in_kernel

if TYPE_CHECKING:  # imported lazily at run time: matplotlib and IPython are optional for the core
    from matplotlib.figure import Figure

    from course_lib.train.results import History


def epoch_line(history: "History", total_epochs: int | None = None) -> str:
    """One line summarising the newest epoch of ``history``."""
    i = len(history) - 1
    total = f"/{total_epochs}" if total_epochs else ""
    val = ("val skipped" if math.isnan(history.val_dice[i])
           else f"val loss {history.val_loss[i]:.4f} dice {history.val_dice[i]:.4f}")
    return (f"epoch {history.epoch[i]}{total}  train loss {history.train_loss[i]:.4f} dice {history.train_dice[i]:.4f}"
            f"  {val}  lr {history.lr[i]:.2e}  {history.seconds[i]:.1f} s")


def plot_history(history: "History", figure: "Figure | None" = None, title: str = "training") -> "Figure":
    """Dice (left) and dice loss (right) per epoch, training (solid, circles) and validation (dashed, squares: told
    apart without colour too); skipped validations are gaps."""
    import matplotlib.pyplot as plt

    if figure is None:
        figure = plt.figure(figsize=(10, 3.6))
    figure.clear()
    dice_axis, loss_axis = figure.subplots(1, 2)
    for axis, key, label in ((dice_axis, "dice", "Dice (higher is better)"), (loss_axis, "loss", "dice loss")):
        axis.plot(history.epoch, getattr(history, f"train_{key}"), "o-", color="tab:blue", label="training")
        axis.plot(history.epoch, getattr(history, f"val_{key}"), "s--", color="tab:red", label="validation")
        axis.set_xlabel("epoch")
        axis.set_ylabel(label)
        axis.grid(alpha=0.3)
    if len(history):
        dice_axis.legend(loc="lower right")
        best = history.best_epoch
        note = f", best validation Dice {history.best_val_dice:.4f} at epoch {best}" if best else ""
        figure.suptitle(f"{title}: epoch {history.epoch[-1]}{note}")
    figure.tight_layout()
    return figure


class LiveCurves:
    """A ``fit`` callback: after each epoch it redraws one figure in a notebook, or prints one line in a terminal."""

    def __init__(self, title: str = "training", total_epochs: int | None = None, notebook: bool | None = None) -> None:
        self.title = title
        self.total_epochs = total_epochs
        self.notebook = in_kernel() if notebook is None else notebook
        self._figure = None
        self._handle = None

    def __call__(self, epoch: int, history: "History") -> None:
        self.update(history)

    def update(self, history: "History") -> None:
        if not len(history):
            return
        if not self.notebook:
            print(epoch_line(history, self.total_epochs), flush=True)
            return
        import matplotlib.pyplot as plt
        from IPython.display import display

        if self._figure is None:
            self._figure = plt.figure(figsize=(10, 3.6))
        plot_history(history, self._figure, self.title)
        if self._handle is None:
            self._handle = display(self._figure, display_id=True)
        else:
            self._handle.update(self._figure)

    def close(self) -> None:
        """Release the figure (it stays displayed), so the notebook does not draw it a second time."""
        if self._figure is not None:
            import matplotlib.pyplot as plt

            plt.close(self._figure)
            self._figure = None
