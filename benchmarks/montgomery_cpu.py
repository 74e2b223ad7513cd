"""On this CPU, with the real Montgomery set: time to validation Dice 0.95 and final Dice, reference vs ``cpu`` recipe.

Both recipes run at the same time from this one script, each in its own process with one torch thread, on the
same 96/20/22 split at 128x128, so they share the machine's conditions (other users' load included). One thread
each because on a loaded 2-core machine two OpenMP threads per process spin against each other (measured here:
a CFCM34 base-16 step took ~5x longer with 2 threads than with 1 under load). CPU seconds are reported besides
wall seconds: they measure the work when the machine is shared. The reference is CFCM34 with the ``reference``
recipe, the issue's straightforward one (course_lib/train/configs.py); it stops once validation Dice reaches the
target, to spend less CPU. The issue's own measurement of it is printed alongside.

    python benchmarks/montgomery_cpu.py [--data DIR] [--target 0.95] [--max-reference-epochs 20] [--seed 777]
"""

from __future__ import annotations

import argparse
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from common import machine, table, train_and_test
from course_lib.settings import repository_root

DEFAULT_DATA = repository_root().parent / "shared" / "data" / "montgomery" / "MontgomerySet"
ISSUE_REFERENCE = "issue 5 (same protocol, measured earlier): ~6.5 s/epoch, val 0.95 after 14 epochs (~95 s), 0.964 after 30 (test 0.960)"


def run(name, config, data_dir, target, stop_at_target, threads):
    """Train one recipe in this process; return its table row."""
    import torch

    torch.set_num_threads(threads)
    result = train_and_test(name, "cfcm34", config, data=data_dir, stop_at=target if stop_at_target else None)
    history = result.history
    reached = history.seconds_to_reach(target)
    return [name, history.total_seconds / len(history), result.cpu_at_epoch[-1] / len(history),
            reached[0] if reached else "not reached", reached[1] if reached else "-",
            result.cpu_to_reach(target) if reached else "-", history.best_val_dice, result.test.mean, len(history),
            result.wall_seconds]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--target", type=float, default=0.95)
    parser.add_argument("--max-reference-epochs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=777)
    parser.add_argument("--threads", type=int, default=1, help="torch threads per recipe (both run at once)")
    arguments = parser.parse_args()
    if not arguments.data.is_dir():
        print(f"skipped: the real Montgomery set is not at {arguments.data} (pass --data DIR)")
        return

    from course_lib.data import prepare_split
    from course_lib.train import get_config

    ours = get_config("cpu", seed=arguments.seed)
    reference = get_config("reference", epochs=arguments.max_reference_epochs, seed=arguments.seed)
    started = time.perf_counter()
    splits = prepare_split(arguments.data, size=ours.size, progress=False)  # fills the cache for both workers
    counts = ", ".join(f"{key} {len(split['names'])}" for key, split in splits.items())
    print(f"prepared {counts} at {ours.size}x{ours.size} in {time.perf_counter() - started:.1f} s; {machine()}",
          flush=True)
    jobs = [("reference (stops at target)", reference, True), (f"ours: config '{ours.name}'", ours, False)]
    with ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(run, name, config, arguments.data, arguments.target, stop, arguments.threads)
                   for name, config, stop in jobs]
        rows = [future.result() for future in futures]
    print(table(["recipe", "wall s/epoch", "cpu s/epoch", f"epoch to {arguments.target}", f"wall s to {arguments.target}",
                 f"cpu s to {arguments.target}", "best val Dice", "test Dice (best-val weights)", "epochs run",
                 "wall s total"], rows))
    print(ISSUE_REFERENCE)
    if isinstance(rows[0][5], float) and isinstance(rows[1][5], float):
        print(f"time to val {arguments.target}, ours / reference: wall {rows[1][4] / rows[0][4]:.2f}, "
              f"cpu {rows[1][5] / rows[0][5]:.2f}")


if __name__ == "__main__":
    main()
