"""Is a recipe stable? The command a user types, run for several seeds on the real set, checked epoch by epoch.

Each seed is one ``python -m course_lib train --data DIR --model M --config R --device cpu --seed S`` (the README's
command), with one torch thread, two seeds at a time. Per seed it reports the best and the final validation Dice,
the largest fall of validation Dice below its best so far once that best passed 0.9 (the stability criterion:
at most 0.03), the gap between the final and the best epoch (at most 0.005), the test Dice of ``best.pt`` and of
the final weights, the CPU seconds and the precision that ran; then the mean and worst over the seeds.

    python benchmarks/recipe_seeds.py [--data DIR] [--config cpu] [--model cfcm34] [--seeds 1 2 3 4 5]
                                      [--out DIR] [--workers 2] [extra train options after --]

bf16 against fp32 on a CPU with native bf16 (AMX or AVX512-BF16; not measured yet, this project's machine has
neither): ``--label fp32 -- --precision fp32``, then ``--label bf16 -- --precision bf16``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from common import table
from montgomery_cpu import DEFAULT_DATA
from course_lib.settings import repository_root

REPO_ROOT = repository_root()
STABLE_FROM = 0.9
MAX_FALL = 0.03
MAX_FINAL_GAP = 0.005


def largest_fall(val_dice: list[float]) -> float:
    """The largest distance of an epoch's validation Dice below the best before it, once that best passed 0.9."""
    best, fall = float("nan"), 0.0
    for value in val_dice:
        if math.isnan(value):
            continue
        if not math.isnan(best) and best > STABLE_FROM:
            fall = max(fall, best - value)
        best = value if math.isnan(best) else max(best, value)
    return fall


def run_seed(seed: int, arguments: argparse.Namespace) -> dict:
    """One seed through the command line, timed in CPU seconds of its own process."""
    out_dir = arguments.out / f"{arguments.model}-{arguments.label or arguments.config}-seed{seed}"
    command = [sys.executable, "-m", "course_lib", "train", "--data", str(arguments.data), "--model", arguments.model,
               "--config", arguments.config, "--device", "cpu", "--seed", str(seed), "--out", str(out_dir), "--quiet",
               "--json",
               *arguments.extra]
    env = dict(os.environ, OMP_NUM_THREADS="1", MPLBACKEND="Agg")
    with open(out_dir.with_suffix(".log"), "w") as log:
        process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=log, text=True)
        stdout = process.stdout.read()
        _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        raise RuntimeError(f"seed {seed} failed (status {status}); see {out_dir.with_suffix('.log')}")
    summary = json.loads(stdout.strip().splitlines()[-1])
    final = subprocess.run([sys.executable, "-m", "course_lib", "evaluate", "--checkpoint", str(out_dir / "last.pt"),
                            "--data", str(arguments.data), "--quiet", "--json"], cwd=REPO_ROOT, env=env,
                           capture_output=True, text=True, check=True)
    val = summary["history"]["val_dice"]
    return {"seed": seed, "best_val": summary["val_dice"], "best_epoch": summary["best_epoch"], "final_val": val[-1],
            "largest_fall": largest_fall(val), "final_gap": summary["val_dice"] - val[-1],
            "test_best": summary["test_dice"],
            "test_final": _test_dice(json.loads(final.stdout.strip().splitlines()[-1]), arguments),
            "cpu_seconds": usage.ru_utime + usage.ru_stime, "precision": summary["precision"], "val_dice": val}


def _test_dice(evaluation: dict, arguments: argparse.Namespace) -> float:
    """The mean Dice over the test part only (evaluate scores the whole folder)."""
    from course_lib.data import split_for

    test = split_for(arguments.data)["test"]
    return sum(evaluation["per_image"][name] for name in test) / len(test)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--config", default="cpu")
    parser.add_argument("--model", default="cfcm34")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "build" / "recipe_seeds")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--label", default=None, help="name of this variant in the output files (default: the config)")
    parser.add_argument("extra", nargs="*", help="more `train` options, after --")
    arguments = parser.parse_args()
    if not arguments.data.is_dir():
        print(f"skipped: the real Montgomery set is not at {arguments.data} (pass --data DIR)")
        return 0
    arguments.out.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(max_workers=arguments.workers) as pool:
        rows = list(pool.map(lambda seed: run_seed(seed, arguments), arguments.seeds))
    (arguments.out / f"{arguments.model}-{arguments.label or arguments.config}.json").write_text(json.dumps(rows, indent=1))
    print(f"`python -m course_lib train --data {arguments.data} --model {arguments.model} --config "
          f"{arguments.config} --device cpu --seed S {' '.join(arguments.extra)}` with OMP_NUM_THREADS=1")
    print(table(["seed", "precision", "best val", "best epoch", "final val", "largest fall", "final gap",
                 "test (best.pt)", "test (final)", "CPU s"],
                [[r["seed"], r["precision"], r["best_val"], r["best_epoch"], r["final_val"], r["largest_fall"],
                  r["final_gap"], r["test_best"], r["test_final"], r["cpu_seconds"]] for r in rows]))
    tests = [r["test_best"] for r in rows]
    stable = all(r["largest_fall"] <= MAX_FALL and r["final_gap"] <= MAX_FINAL_GAP for r in rows)
    print(f"test Dice (best.pt): mean {sum(tests) / len(tests):.4f}, worst {min(tests):.4f}, "
          f"sd {_sd(tests):.4f}; largest fall {max(r['largest_fall'] for r in rows):.4f} (limit {MAX_FALL}); "
          f"largest final gap {max(r['final_gap'] for r in rows):.4f} (limit {MAX_FINAL_GAP}); "
          f"mean CPU s {sum(r['cpu_seconds'] for r in rows) / len(rows):.0f}; stable: {'yes' if stable else 'NO'}")
    return 0


def _sd(values: list[float]) -> float:
    mean = sum(values) / len(values)
    return (sum((v - mean) ** 2 for v in values) / max(len(values) - 1, 1)) ** 0.5


if __name__ == "__main__":
    sys.exit(main())
