#!/usr/bin/env python3
"""Make the course's shipped weights (``course_lib/train/weights/cfcm34-cpu.pt``) the way a user would train them.

It runs the README's training command, ``python -m course_lib train --model cfcm34 --config cpu --seed 1`` with one
torch thread and ``--precision fp32`` (the shipped weights were trained in fp32; ``auto`` would pick bf16 on a CPU
with native bf16), on the real Montgomery set, into ``build/weights/cfcm34-cpu-seed1`` (``--resume``: an
interrupted run continues), then stores that run's ``best.pt`` in half precision with its provenance: the command,
the data folder, the validation and test Dice. Training is deterministic for a given machine and thread count, so the same
command gives the same weights. About ten CPU minutes.

    python tools/make_weights.py [--data DIR] [--seed 1] [--out build/weights]

``--data`` defaults to the reduced real set next to the project (``../shared/data/montgomery/MontgomerySet``) when it
is there, else to the ``montgomery`` source (``python -m course_lib.data download`` fetches it).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from course_lib.instructor.course import checkout

REPO_ROOT = checkout()
SHARED_DATA = REPO_ROOT.parent / "shared" / "data" / "montgomery" / "MontgomerySet"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(SHARED_DATA) if SHARED_DATA.is_dir() else "montgomery")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "build" / "weights")
    arguments = parser.parse_args()

    run_dir = arguments.out / f"cfcm34-cpu-seed{arguments.seed}"
    data = os.path.relpath(arguments.data, REPO_ROOT) if Path(arguments.data).exists() else arguments.data
    command = ["python", "-m", "course_lib", "train", "--data", data, "--model", "cfcm34", "--config", "cpu",
               "--device", "cpu", "--seed", str(arguments.seed), "--out", os.path.relpath(run_dir, REPO_ROOT),
               "--precision", "fp32", "--resume", "--json"]
    # paths relative to the repository, where it runs: the provenance reads on any machine; fp32 on every CPU, so
    # that the same command gives the same weights on a CPU with native bf16 too
    print("OMP_NUM_THREADS=1 " + " ".join(command), flush=True)
    finished = subprocess.run([sys.executable, *command[1:]], cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True,
                              env=dict(os.environ, OMP_NUM_THREADS="1", MPLBACKEND="Agg"))
    if finished.returncode != 0:
        print(f"error: training failed (status {finished.returncode}); nothing was exported", file=sys.stderr)
        return finished.returncode
    summary = json.loads(finished.stdout.strip().splitlines()[-1])

    from course_lib.train.pretrained import PRETRAINED, export_pretrained

    provenance = {"command": "OMP_NUM_THREADS=1 " + " ".join(command), "data": data,
                  "test_dice": summary["test_dice"], "best_val_dice": summary["val_dice"],
                  "best_epoch": summary["best_epoch"], "seed": arguments.seed}
    export_pretrained(run_dir / "best.pt", provenance)
    print(f"wrote {PRETRAINED} ({PRETRAINED.stat().st_size / 1e6:.1f} MB): test Dice {summary['test_dice']:.4f}, "
          f"best validation Dice {summary['val_dice']:.4f} (epoch {summary['best_epoch']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
