"""Seconds per epoch of notebooks 2 and 4's full-mode training on the CPU: one or two threads, the course's code or a
student's, with cores kept busy by other processes.

Notebook 2 trains ``EncoderDecoder`` networks with ``fit`` and notebook 4 trains CFCM34 with ``train_run``, both on
the ``cpu`` recipe. Since the notebooks run the student's own fusion, decoder and Dice loss once their checks pass,
this times an epoch with the course's code and with the student's; the student's is the solution notebooks' answer
cells, run as a notebook would. It also times one thread against two: on a busy 2-core machine two OpenMP threads
spin against each other.

    python benchmarks/full_mode_epochs.py [--data DIR] [--epochs 2] [--threads 1 2] [--code course student] [--load 1]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import busy_cores, machine, table  # noqa: E402

from course_lib.data import prepare_split, resolve_dataset  # noqa: E402
from course_lib.losses import dice_loss  # noqa: E402
from course_lib.nn import EncoderDecoder, build_model, unroll  # noqa: E402
from course_lib.train import fit, get_config  # noqa: E402

SOLUTIONS = Path(__file__).resolve().parent.parent / "solutions"
DEPTH = 5  # notebook 2's networks (its DEPTH; tests/test_benchmarks.py checks that they agree)


def answers(notebook: str, *grade_ids: str) -> dict:
    """The namespace a student's notebook has after running these answer cells of the solution notebook."""
    cells = json.loads((SOLUTIONS / notebook / f"{notebook}.ipynb").read_text())["cells"]
    namespace = {"torch": torch, "unroll": unroll}
    for grade_id in grade_ids:
        cell = next((c for c in cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id), None)
        if cell is None:
            raise SystemExit(f"full_mode_epochs: solutions/{notebook} has no answer cell with grade id {grade_id!r}")
        exec("".join(cell["source"]), namespace)
    return namespace


def model_and_loss(notebook: str, code: str, config) -> tuple[torch.nn.Module, object]:
    """What the notebook trains, built from the course's code or the student's, and the loss it minimises."""
    torch.manual_seed(config.seed)
    if notebook == "02_skip_connections":
        fusion = answers(notebook, "concat-fusion-answer")["concat_fusion"] if code == "student" else "concat"
        return EncoderDecoder(fusion=fusion, norm=config.norm, depth=DEPTH), dice_loss
    model = build_model("cfcm34", base=config.base, norm=config.norm)
    if code == "course":
        return model, dice_loss
    student = answers(notebook, "dice-answer", "score-loss-answer", "decoder-answer")
    model.decoder = student["decode_coarse_to_fine"]
    return model, student["dice_loss"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=None, help="dataset folder or source (default: the course's default)")
    parser.add_argument("--notebooks", nargs="+", default=["02_skip_connections", "04_cfcm_training"])
    parser.add_argument("--code", nargs="+", default=["course", "student"], choices=["course", "student"])
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--load", type=int, default=1, help="processes spinning on a core meanwhile (default 1)")
    parser.add_argument("--size", type=int, default=None, help="image size (default: the cpu recipe's)")
    parser.add_argument("--limit", type=int, default=None, help="use only this many images per split (smoke runs)")
    arguments = parser.parse_args()
    print(machine())
    folder, rows = resolve_dataset(arguments.data), []
    with busy_cores(arguments.load):
        for notebook in arguments.notebooks:
            for code in arguments.code:
                for threads in arguments.threads:
                    config = get_config("cpu", epochs=arguments.epochs, threads=threads, size=arguments.size,
                                        limit_images=arguments.limit)
                    data = prepare_split(folder, size=config.size, progress=False)
                    model, loss = model_and_loss(notebook, code, config)
                    cpu = time.process_time()
                    history = fit(model, data["train"], data["val"], config=config, device="cpu", progress=False,
                                  loss=loss)
                    cpu_per_epoch = (time.process_time() - cpu) / len(history)
                    rows.append([notebook, code, threads, arguments.load, statistics.median(history.seconds),
                                 max(history.seconds), cpu_per_epoch, history.best_val_dice])
                    print(f"  {notebook} {code} code, {threads} thread(s): "
                          f"{' '.join(f'{s:.1f}' for s in history.seconds)} s per epoch", flush=True)
    print(table(["notebook", "code", "threads", "busy cores", "median wall s/epoch", "slowest epoch s",
                 "CPU s/epoch", "best val Dice"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
