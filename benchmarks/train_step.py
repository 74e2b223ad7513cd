"""Training-step throughput (images/s) and peak memory of CFCM34, fp32 versus the optimised path.

The optimised path is what ``fit`` does on a GPU: mixed precision (bf16 where supported, else fp16 with a grad
scaler) and channels-last. It is measured through ``fit`` itself on synthetic arrays, so the numbers are those of
the real loop (batch indexing on the device, loss, optimiser step, metric accumulation). On a CPU both paths are
fp32 (fit keeps CPUs in fp32), so the CPU rows show the loop's cost at a small size and that the script runs.

    python benchmarks/train_step.py                 # CUDA when present (256x256), else CPU at 64x64
    python benchmarks/train_step.py --device cpu --size 64 --batches 1 4 16
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys

from common import machine, table

MODES = ("fp32", "optimised")


def measure(device: str, size: int, base: int, batch: int, mode: str, steps: int) -> dict:
    """Images/s over the second epoch of ``steps`` steps (the first warms up), and peak memory in MiB."""
    import numpy as np
    import torch

    from course_lib.nn import build_model
    from course_lib.train import fit, get_config

    rng = np.random.default_rng(0)
    n = batch * steps
    arrays = {"images": rng.random((n, size, size), dtype=np.float32),
              "labels": (rng.random((n, size, size)) > 0.5).astype(np.float32)}
    config = get_config("fast", size=size, base=base, batch_size=batch, epochs=2, augment=False,
                        amp=mode == "optimised", channels_last=mode == "optimised", validate_after_train_dice=2.0)
    torch.manual_seed(0)
    model = build_model("cfcm34", base=base, norm="batch")
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    history = fit(model, arrays, arrays, config=config, device=device, progress=False)
    seconds = history.seconds[-1]
    if device.startswith("cuda"):
        peak = torch.cuda.max_memory_allocated() / 2**20
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # process peak RSS (Linux: KiB)
    return {"batch": batch, "mode": mode, "images_per_s": n / seconds, "step_ms": 1000 * seconds / steps,
            "peak_mib": peak}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default=None, help="cuda or cpu (default: cuda when available)")
    parser.add_argument("--size", type=int, default=None, help="image size (default 256 on CUDA, 64 on CPU)")
    parser.add_argument("--base", type=int, default=64, help="CFCM34 width (64 = the paper's 49 M parameters)")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 2, 4, 8, 16])
    parser.add_argument("--steps", type=int, default=None, help="timed steps per row (default 20 CUDA, 3 CPU)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--worker", nargs=1, help=argparse.SUPPRESS)  # internal: one mode in a fresh process
    arguments = parser.parse_args()

    import torch

    if arguments.threads:
        torch.set_num_threads(arguments.threads)
    device = arguments.device or ("cuda" if torch.cuda.is_available() else "cpu")
    size = arguments.size or (256 if device.startswith("cuda") else 64)
    steps = arguments.steps or (20 if device.startswith("cuda") else 3)
    if arguments.worker:
        # batches in increasing order, so the process's monotonic peak RSS is the peak of the current row
        for batch in sorted(arguments.batches):
            print(json.dumps(measure(device, size, arguments.base, batch, arguments.worker[0], steps)), flush=True)
        return

    rows = []
    for mode in MODES:  # one process per mode: peak memory is per process on a CPU
        command = [sys.executable, __file__, "--device", device, "--size", str(size), "--base", str(arguments.base),
                   "--steps", str(steps), "--worker", mode,
                   *(["--threads", str(arguments.threads)] if arguments.threads else []), "--batches", *map(str, arguments.batches)]
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        rows += [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    fp32 = {row["batch"]: row["images_per_s"] for row in rows if row["mode"] == "fp32"}
    print(f"CFCM34 base {arguments.base} training step, {size}x{size}, {device}: {machine()}")
    print(table(["batch", "mode", "images/s", "ms/step", "peak MiB", "speed-up vs fp32"],
                [[r["batch"], r["mode"], r["images_per_s"], r["step_ms"], r["peak_mib"],
                  r["images_per_s"] / fp32[r["batch"]]] for r in sorted(rows, key=lambda r: (r["batch"], r["mode"]))]))
    if not device.startswith("cuda"):
        print("CPU: fit runs fp32 on CPUs, so both modes take the same path; peak MiB is the process's peak RSS.")


if __name__ == "__main__":
    main()
