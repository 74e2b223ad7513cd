"""Every benchmark, one after the other (``make bench``). Prints tables; record them in benchmarks/RESULTS.md.

    python benchmarks/run_all.py [--skip-montgomery] [--with-folds]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--skip-montgomery", action="store_true",
                        help="skip the few-minute training runs (montgomery_cpu, full_mode_epochs)")
    parser.add_argument("--with-folds", action="store_true",
                        help="add the three-fold comparison of five models (about 45 minutes on 2 CPU cores)")
    arguments = parser.parse_args()
    import torch

    step = ["train_step.py"] if torch.cuda.is_available() else ["train_step.py", "--size", "64", "--base", "16", "--threads", "1"]
    scripts = [step, ["prepare_data.py"], ["quick_notebooks.py"]]
    if not arguments.skip_montgomery:
        scripts.append(["montgomery_cpu.py"])
        if not torch.cuda.is_available():
            scripts.append(["full_mode_epochs.py"])
    if torch.cuda.is_available():
        scripts.append(["montgomery_gpu.py"])
    if arguments.with_folds:
        scripts.append(["montgomery_folds.py"])
    failures = 0
    for script in scripts:
        print(f"\n## {' '.join(script)}", flush=True)
        failures += subprocess.run([sys.executable, str(HERE / script[0]), *script[1:]]).returncode != 0
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
