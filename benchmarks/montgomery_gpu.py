"""On one GPU, with the real Montgomery set: the ``fast`` recipe against the lab's, time to validation Dice 0.97.

Three runs train CFCM34 at 256x256 on the course's 96/20/22 split: ``fast``, ``fast`` without its augmentation
(on two CPU cores at base 16 augmentation did not pay off in 30 epochs and once collapsed; this row settles it
for the GPU recipe), and ``lab``. They run one after the other on the same device, through
``fit`` itself (mixed precision and channels-last where the GPU supports them). Printed per recipe: seconds per
epoch, the first epoch and the wall seconds at which validation Dice reached the target, best validation Dice, test
Dice with the best-validation weights, and peak GPU memory. The lab recipe validates only after training Dice
passes 0.92, as the lab did, so its time to the target counts from the epochs it validated.

    python benchmarks/montgomery_gpu.py --data DIR/MontgomerySet            # on a GPU machine (~10 minutes)
    python benchmarks/montgomery_gpu.py --device cpu --size 32 --base 4 --epochs 2 --lab-epochs 1  # smoke run
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from common import given, machine, table, train_and_test
from montgomery_cpu import DEFAULT_DATA


def run(label: str, recipe: str, data: Path, device: str, target: float, overrides: dict) -> list:
    """Train CFCM34 with ``recipe`` (and ``overrides``) on ``device``; return its table row, named ``label``."""
    import torch

    from course_lib.train import get_config

    config = get_config(recipe, **given(**overrides))
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    result = train_and_test(label, "cfcm34", config, data=data, device=device)
    history = result.history
    reached = history.seconds_to_reach(target)
    peak = torch.cuda.max_memory_allocated() / 2**20 if device.startswith("cuda") else float("nan")
    return [label, config.size, config.base, config.batch_size, len(history), history.total_seconds / len(history),
            reached[0] if reached else "not reached", reached[1] if reached else "-", history.best_val_dice,
            result.test.mean, result.wall_seconds, peak]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--device", default=None, help="default: cuda when available, else cpu")
    parser.add_argument("--target", type=float, default=0.97)
    parser.add_argument("--lab-epochs", type=int, default=40, help="cap on the lab recipe's epochs (0 skips it)")
    parser.add_argument("--size", type=int, default=None, help="override both recipes (smoke runs)")
    parser.add_argument("--base", type=int, default=None, help="override both recipes (smoke runs)")
    parser.add_argument("--epochs", type=int, default=None, help="override the fast recipe's epochs")
    arguments = parser.parse_args()
    if not arguments.data.is_dir():
        print(f"skipped: the real Montgomery set is not at {arguments.data} (pass --data DIR)")
        return
    import torch

    device = arguments.device or ("cuda" if torch.cuda.is_available() else "cpu")
    shared = {"size": arguments.size, "base": arguments.base}
    print(f"{machine()}; device {device}", flush=True)
    started = time.perf_counter()
    fast = {**shared, "epochs": arguments.epochs}
    rows = [run("fast", "fast", arguments.data, device, arguments.target, fast),
            run("fast, no augmentation", "fast", arguments.data, device, arguments.target, {**fast, "augment": False})]
    if arguments.lab_epochs:
        rows.append(run("lab", "lab", arguments.data, device, arguments.target, {**shared, "epochs": arguments.lab_epochs}))
    if any(value is not None for value in (arguments.size, arguments.base, arguments.epochs)):
        print("SMOKE RUN: sizes or epochs overridden; not the benchmark's numbers")
    print(table(["recipe", "size", "base", "batch", "epochs", "s/epoch", f"epoch to {arguments.target}",
                 f"s to {arguments.target}", "best val Dice", "test Dice", "s total", "peak GPU MiB"], rows))
    print(f"all done in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
