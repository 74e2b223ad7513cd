"""``python -m course_lib train ...`` and ``python -m course_lib evaluate ...``.

Both end by printing ONE line of JSON with the results, so scripts and tests can read them; everything else
(device message, progress, per-epoch lines) comes before it. Errors in the input (a missing folder or checkpoint,
a bad option) print one ``error: ...`` line to stderr and exit with status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Sequence

MODELS = ("cfcm34", "cfcm18", "ladder34", "resladder34")


class UsageError(Exception):
    """Bad input from the command line; the message says what to change."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m course_lib", description="Train or evaluate a course model.")
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train a model on a MontgomerySet-layout folder")
    train.add_argument("--data", type=Path, default=None,
                       help="MontgomerySet folder (CXR_png/, ManualMask/); default: course_lib.data.default_dataset()")
    train.add_argument("--model", choices=MODELS, default="cfcm34")
    train.add_argument("--config", default=None,
                       help="lab | fast | cpu | quick (default: quick in quick mode, else fast on a GPU, cpu otherwise)")
    train.add_argument("--base", type=int, default=None, help="model width (channels of the first stage)")
    train.add_argument("--size", type=int, default=None, help="image size (a multiple of 16)")
    train.add_argument("--epochs", type=int, default=None)
    train.add_argument("--batch-size", type=int, default=None)
    train.add_argument("--lr", type=float, default=None, help="(peak) learning rate")
    train.add_argument("--device", default=None, help="cpu, cuda, cuda:1, mps (default: the best available)")
    train.add_argument("--out", type=Path, default=None,
                       help="run folder for checkpoints (default: <data root>/runs/<model>-<config>)")
    train.add_argument("--seed", type=int, default=None)
    train.add_argument("--resume", action="store_true", help="continue from the newest good checkpoint in --out")
    train.add_argument("--quiet", action="store_true", help="no progress bars or per-epoch lines")

    evaluate = commands.add_parser("evaluate", help="Dice of every image in a folder under a trained checkpoint")
    evaluate.add_argument("--checkpoint", type=Path, required=True, help="a best.pt / last.pt written by train")
    evaluate.add_argument("--data", type=Path, default=None, help="MontgomerySet folder; default: the default dataset")
    evaluate.add_argument("--device", default=None)
    evaluate.add_argument("--batch-size", type=int, default=16)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)
    try:
        result = run_train(arguments) if arguments.command == "train" else run_evaluate(arguments)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(result), flush=True)
    return 0


def run_train(arguments: argparse.Namespace) -> dict:
    import torch

    from course_lib.nn import build_model
    from course_lib.settings import data_root
    from course_lib.train import CheckpointError, evaluate, fit, get_config

    started = time.perf_counter()
    try:
        config = get_config(arguments.config or _default_config_name(arguments.device), size=arguments.size,
                            base=arguments.base, epochs=arguments.epochs, batch_size=arguments.batch_size,
                            lr=arguments.lr, seed=arguments.seed)
    except ValueError as error:
        raise UsageError(str(error)) from None
    data_dir = _data_folder(arguments.data)
    out_dir = arguments.out or data_root() / "runs" / f"{arguments.model}-{config.name}"
    splits = _prepare_splits(data_dir, config.size, verbose=not arguments.quiet)
    torch.manual_seed(config.seed)
    model = build_model(arguments.model, base=config.base, batch_norm=config.batch_norm)
    spec = {"name": arguments.model, "base": config.base, "batch_norm": config.batch_norm}
    progress = not arguments.quiet
    if progress:
        print(f"Run folder: {out_dir}")
    try:
        history = fit(model, splits["train"], splits["val"], config=config, out_dir=out_dir, resume=arguments.resume,
                      device=arguments.device, progress=progress, model_spec=spec)
    except (CheckpointError, ValueError) as error:
        raise UsageError(str(error)) from None
    test = evaluate(model, _limited(splits["test"], config.limit_images), batch_size=config.eval_batch_size,
                    threshold=config.threshold)
    return {
        "command": "train", "model": arguments.model, "config": config.name, "data": str(data_dir),
        "epochs": len(history), "best_epoch": history.best_epoch, "val_dice": history.best_val_dice,
        "test_dice": test.mean, "train_seconds": round(history.total_seconds, 3),
        "seconds": round(time.perf_counter() - started, 3), "checkpoint": str(Path(out_dir) / "best.pt"),
        "history": {k: v for k, v in history.to_dict().items() if k != "seconds"},
    }


def run_evaluate(arguments: argparse.Namespace) -> dict:
    from course_lib.data import DatasetError, prepare_arrays
    from course_lib.train import CheckpointError, evaluate, load_model

    started = time.perf_counter()
    if not arguments.checkpoint.is_file():
        raise UsageError(f"checkpoint {arguments.checkpoint} does not exist; pass --checkpoint <run folder>/best.pt "
                         "written by `python -m course_lib train`")
    try:
        model, state = load_model(arguments.checkpoint, device=arguments.device or "cpu")
    except (CheckpointError, ValueError) as error:
        raise UsageError(str(error)) from None
    size = int(state["config"]["size"])
    data_dir = _data_folder(arguments.data)
    try:
        data = prepare_arrays(data_dir, size=size)
    except DatasetError as error:
        raise UsageError(str(error)) from None
    result = evaluate(model, data, batch_size=arguments.batch_size, threshold=float(state["config"]["threshold"]))
    return {"command": "evaluate", "checkpoint": str(arguments.checkpoint), "data": str(data_dir),
            "images": len(result.names), "mean_dice": result.mean, "per_image": result.to_dict()["per_image"],
            "seconds": round(time.perf_counter() - started, 3)}


def _default_config_name(device: str | None) -> str:
    import torch

    from course_lib.settings import quick_mode

    if quick_mode():
        return "quick"
    wants_gpu = device is None or not str(device).startswith("cpu")
    return "fast" if wants_gpu and torch.cuda.is_available() else "cpu"


def _data_folder(requested: Path | None) -> Path:
    if requested is None:
        from course_lib.data import default_dataset

        return default_dataset()
    if not requested.is_dir():
        raise UsageError(f"data folder {requested} does not exist; pass --data pointing at a MontgomerySet folder "
                         "(with CXR_png/ and ManualMask/), or leave --data out to use the default dataset")
    return requested


def _prepare_splits(data_dir: Path, size: int, verbose: bool) -> dict[str, dict]:
    """The course's fixed 96/20/22 split when the folder has all its cases; else a seeded 70/15/15 split of what
    is there (so any MontgomerySet-layout folder, e.g. a small phantom, can be trained on)."""
    import numpy as np

    from course_lib.data import DatasetError, load_split, prepare_arrays, prepare_split

    present = sorted(path.stem for path in (data_dir / "CXR_png").glob("*.png"))
    wanted = [name for names in load_split().values() for name in names]
    try:
        if set(wanted) <= set(present):
            return prepare_split(data_dir, size=size)
        if len(present) < 3:
            raise UsageError(f"data folder {data_dir} has {len(present)} images in CXR_png/; at least 3 are needed "
                             "(train, validation, test)")
        order = np.random.default_rng(0).permutation(len(present))
        n_val = n_test = max(1, round(0.15 * len(present)))
        parts = {"val": order[:n_val], "test": order[n_val:n_val + n_test], "train": order[n_val + n_test:]}
        if verbose:
            print(f"{data_dir} lacks some of the course split's cases: using a seeded split of its {len(present)} "
                  f"images ({len(parts['train'])} train / {n_val} val / {n_test} test)")
        return {key: prepare_arrays(data_dir, names=[present[i] for i in sorted(rows)], size=size)
                for key, rows in parts.items()}
    except DatasetError as error:
        raise UsageError(str(error)) from None


def _limited(split: dict, limit: int | None) -> dict:
    if limit is None:
        return split
    return {key: value[:limit] for key, value in split.items()}
