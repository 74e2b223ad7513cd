"""Training-step cost and peak memory of CFCM34: fp32 against the precision ``fit`` chooses by itself (``auto``).

``auto`` is what a recipe does unless told otherwise: on a GPU, mixed precision (bf16 where supported, else fp16
with a grad scaler) and channels-last; on a CPU with native bf16 (AMX or AVX512-BF16), bf16 autocast; on any other
CPU, fp32, so that there both rows run the same path and their difference is noise (the script says so). Each row
is measured through ``fit`` itself on synthetic arrays (the second of two epochs; validation skipped), one process
per mode so that peak memory is the mode's own. On a CPU the cost is CPU seconds per step (all threads of the
process), which a busy machine disturbs less than wall time; on CUDA it is wall time.

    python benchmarks/train_step.py                 # CUDA when present (256x256), else CPU at 64x64
    python benchmarks/train_step.py --device cpu --size 128 --base 16 --batches 8 --threads 1
    python benchmarks/train_step.py --device cpu --modes fp32 auto bf16   # bf16 forced too (emulated without support)
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

from common import machine, table

MODES = ("fp32", "auto", "bf16")  # the precision settings of TrainConfig


def measure(device: str, size: int, base: int, batch: int, mode: str, steps: int) -> dict:
    """Cost per step over the second epoch of ``steps`` steps (the first warms up), and peak memory in MiB."""
    import numpy as np
    import torch

    from course_lib.nn import build_model
    from course_lib.train import fit, get_config

    rng = np.random.default_rng(0)
    n = batch * steps
    arrays = {"images": rng.random((n, size, size), dtype=np.float32),
              "labels": (rng.random((n, size, size)) > 0.5).astype(np.float32)}
    config = get_config("fast", size=size, base=base, batch_size=batch, epochs=2, augment=False, precision=mode,
                        channels_last=mode != "fp32", validate_after_train_dice=2.0)
    torch.manual_seed(0)
    model = build_model("cfcm34", base=base, norm="batch")
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    cpu_at_epoch = []
    history = fit(model, arrays, arrays, config=config, device=device, progress=False,
                  callbacks=[lambda epoch, history: cpu_at_epoch.append(time.process_time())])
    seconds = history.seconds[-1]
    if device.startswith("cuda"):
        peak = torch.cuda.max_memory_allocated() / 2**20
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # process peak RSS (Linux: KiB)
    return {"batch": batch, "mode": mode, "runs_as": history.precision, "images_per_s": n / seconds,
            "step_ms": 1000 * seconds / steps, "cpu_s_per_step": (cpu_at_epoch[-1] - cpu_at_epoch[-2]) / steps,
            "peak_mib": peak}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default=None, help="cuda or cpu (default: cuda when available)")
    parser.add_argument("--size", type=int, default=None, help="image size (default 256 on CUDA, 64 on CPU)")
    parser.add_argument("--base", type=int, default=64, help="CFCM34 width (64 = the paper's 49 M parameters)")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 2, 4, 8, 16])
    parser.add_argument("--steps", type=int, default=None, help="timed steps per row (default 20 CUDA, 3 CPU)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--modes", nargs="+", choices=MODES, default=["fp32", "auto"],
                        help="precision settings to measure (default: fp32 and auto)")
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
    for mode in arguments.modes:  # one process per mode: peak memory is per process on a CPU
        command = [sys.executable, __file__, "--device", device, "--size", str(size), "--base", str(arguments.base),
                   "--steps", str(steps), "--worker", mode, "--batches", *map(str, arguments.batches),
                   *(["--threads", str(arguments.threads)] if arguments.threads else [])]
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        rows += [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    print(f"CFCM34 base {arguments.base} training step, {size}x{size}, {device}: {machine()}")
    print(_table(rows, cpu=not device.startswith("cuda")))
    print(_verdict(rows, device))


def _table(rows: list[dict], cpu: bool) -> str:
    """One row per batch and mode; the cost column is CPU seconds on a CPU and wall milliseconds on a GPU."""
    baseline = {row["batch"]: row for row in rows if row["mode"] == "fp32"}
    cost = "cpu_s_per_step" if cpu else "step_ms"
    headers = ["batch", "mode", "runs as", "CPU s/step" if cpu else "ms/step", "images/s",
               "peak MiB (process RSS)" if cpu else "peak MiB (CUDA)", "cost vs fp32"]
    ordered = sorted(rows, key=lambda r: (r["batch"], MODES.index(r["mode"])))
    return table(headers, [[r["batch"], r["mode"], r["runs_as"], r[cost], r["images_per_s"], r["peak_mib"],
                            r[cost] / baseline[r["batch"]][cost] if r["batch"] in baseline else "-"] for r in ordered])


def _verdict(rows: list[dict], device: str) -> str:
    """What the automatic choice was here, and whether the fp32 and auto rows measured different paths at all."""
    from course_lib.train.device import cpu_has_native_bf16

    chosen = sorted({row["runs_as"] for row in rows if row["mode"] == "auto"})
    if device.startswith("cuda"):
        return f"auto on this GPU: {', '.join(chosen) or 'not measured'} with channels-last."
    native, about = cpu_has_native_bf16()
    line = f"{about}: auto runs {', '.join(chosen) or ('bf16' if native else 'fp32')}."
    if chosen == ["fp32"]:
        line += (" The fp32 and auto rows take the same path here (no native bf16), so their difference is noise, "
                 "not the method; a bf16 comparison needs a CPU with AMX or AVX512-BF16.")
    return line + " Peak MiB is the process's peak RSS."


if __name__ == "__main__":
    main()
