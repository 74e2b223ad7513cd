"""Helpers shared by the benchmark scripts: the machine description, plain-text tables and a busy machine."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import platform
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Sequence


def machine() -> str:
    """One line naming the CPU, core count, GPU (if any) and torch version."""
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            names = [line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return f"{cpu}, {os.cpu_count()} cores visible, {torch.get_num_threads()} torch threads, {gpu}, torch {torch.__version__}"


def given(**values: Any) -> dict[str, Any]:
    """The options a benchmark's user gave (None: not given), for ``get_config``, which applies every key as given."""
    return {key: value for key, value in values.items() if value is not None}


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table (readable as plain text too)."""
    cells = [[str(h) for h in headers]] + [[_format(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |" for row in cells]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def _spin() -> None:
    while True:
        pass


@contextlib.contextmanager
def busy_cores(count: int) -> Iterator[None]:
    """``count`` other processes spinning on a core each for the duration: a machine shared with other work."""
    spinners = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(count)]
    for spinner in spinners:
        spinner.start()
    try:
        yield
    finally:
        for spinner in spinners:
            spinner.terminate()


def _format(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1000 else f"{value:.0f}"
    return str(value)


@dataclass
class RunRecord:
    """What one training run measured: its History, the test Evaluation and CPU seconds after each epoch."""

    history: Any
    test: Any
    cpu_at_epoch: list[float]
    wall_seconds: float
    parameters: int

    def cpu_to_reach(self, val_dice: float) -> float | None:
        reached = self.history.seconds_to_reach(val_dice)
        return self.cpu_at_epoch[reached[0] - 1] if reached else None


def train_and_test(name: str, model: Any, config: Any, *, data: Any, split: Any = None, stop_at: float | None = None,
                   device: str = "cpu") -> RunRecord:
    """Train through the course's own road (``course_lib.train.train_run``, as the command line does) and score the
    test part with the best-validation weights. ``model``: a course model's name or a module (a peer network).

    CPU seconds (all threads of this process) are recorded per epoch: on a shared machine they measure the work
    better than wall time does. ``stop_at``: stop once validation Dice reaches it.
    """
    from course_lib.train import train_run

    cpu_start = time.process_time()
    cpu_at_epoch: list[float] = []

    def record(epoch, history):
        cpu_at_epoch.append(time.process_time() - cpu_start)
        print(f"  {name}: epoch {epoch} val Dice {history.val_dice[-1]:.4f} wall {history.seconds[-1]:.1f} s "
              f"cpu {cpu_at_epoch[-1]:.1f} s", flush=True)
        return stop_at is not None and history.val_dice[-1] >= stop_at

    started = time.perf_counter()
    result = train_run(model, config, data=data, split=split, device=device, progress=False, callbacks=[record])
    return RunRecord(result.history, result.test, cpu_at_epoch, time.perf_counter() - started,
                     sum(parameter.numel() for parameter in result.model.parameters()))


def basicunet(seed: int) -> Any:
    """MONAI's BasicUNet as the benchmarks compare with it (2-D, one channel in and one out: 1.98 M parameters),
    initialised after seeding with ``seed``, as the course's road seeds the networks it builds."""
    import torch
    from monai.networks.nets import BasicUNet

    torch.manual_seed(seed)
    return BasicUNet(spatial_dims=2, in_channels=1, out_channels=1)


def without_missing_monai(models: Sequence[str]) -> list[str]:
    """``models`` once each, in order, less ``basicunet`` (saying so) where MONAI is not installed."""
    models = list(dict.fromkeys(models))
    if "basicunet" in models:
        try:
            import monai  # noqa: F401
        except ImportError:
            print("basicunet skipped: MONAI is not installed (pip install monai)")
            models.remove("basicunet")
    return models
