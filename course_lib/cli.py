"""``python -m course_lib train ...`` and ``python -m course_lib evaluate ...``: arguments in, the training road out.

This module only parses arguments and reports: training is ``course_lib.train.train_run``, the road notebook 4 and
the benchmarks take too. Both commands end by printing ONE line of JSON with the results, so scripts and tests
can read them; everything else (device message, progress, per-epoch lines) comes before it. Errors in the input
(a missing folder or checkpoint, a bad option) print one ``error: ...`` line to stderr and exit with status 2.
Under ``torchrun --nproc_per_node=N`` every process trains its share and only the first one prints.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Sequence

from course_lib.nn.registry import MODELS


class UsageError(Exception):
    """Bad input from the command line; the message says what to change."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m course_lib", description="Train or evaluate a course model.")
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train a model on a MontgomerySet-layout folder")
    train.add_argument("--data", default=None,
                       help="a MontgomerySet-layout folder (CXR_png/, ManualMask/) or a data source's name (e.g. "
                            "phantom); default: course_lib.data.default_dataset()")
    train.add_argument("--model", choices=sorted(MODELS), default="cfcm34")
    train.add_argument("--config", default=None,
                       help="lab | fast | cpu | quick (default: quick in quick mode, else fast on a GPU, cpu otherwise)")
    train.add_argument("--base", type=int, default=None, help="model width (channels of the first stage)")
    train.add_argument("--size", type=int, default=None, help="image size (a multiple of 16)")
    train.add_argument("--epochs", type=int, default=None)
    train.add_argument("--batch-size", type=int, default=None)
    train.add_argument("--lr", type=float, default=None, help="(peak) learning rate")
    train.add_argument("--norm", choices=["batch", "instance", "none"], default=None,
                       help="the models' normalisation (default: the recipe's)")
    train.add_argument("--augment", action=argparse.BooleanOptionalAction, default=None,
                       help="small affine warps of every batch, or not (default: the recipe's)")
    train.add_argument("--max-grad-norm", default=None,
                       help="clip the gradients' total norm to this before each update, or 'none' (default: the "
                            "recipe's)")
    train.add_argument("--device", default=None, help="cpu, cuda, cuda:1, mps (default: the best available)")
    train.add_argument("--out", type=Path, default=None,
                       help="run folder for checkpoints (default: <data root>/runs/<model>-<config>)")
    train.add_argument("--seed", type=int, default=None)
    train.add_argument("--resume", action="store_true", help="continue from the newest good checkpoint in --out")
    train.add_argument("--quiet", action="store_true", help="no progress bars or per-epoch lines")

    evaluate = commands.add_parser("evaluate", help="Dice of every image in a folder under a trained checkpoint")
    evaluate.add_argument("--checkpoint", type=Path, required=True,
                          help="a best.pt / last.pt written by train, or `pretrained`: the course's shipped CFCM34")
    evaluate.add_argument("--data", default=None,
                          help="a MontgomerySet-layout folder or a data source's name; default: the default dataset")
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
    if result is not None:
        print(json.dumps(result), flush=True)
    return 0


def run_train(arguments: argparse.Namespace) -> dict | None:
    """Train through the road; the JSON summary, or None on every process of a multi-process run but the first."""
    from course_lib.data import DatasetError
    from course_lib.settings import data_root
    from course_lib.train import CheckpointError, default_config, get_config, train_run
    from course_lib.train.distributed import world
    from course_lib.viz.curves import LiveCurves

    try:
        config = get_config(arguments.config or default_config(arguments.device), **_recipe_options(arguments))
    except ValueError as error:
        raise UsageError(str(error)) from None
    data = _data_argument(arguments.data)
    out_dir = arguments.out or data_root() / "runs" / f"{arguments.model}-{config.name}"
    progress = not arguments.quiet and world().is_main
    if progress:
        print(f"Run folder: {out_dir}")
    callbacks = [LiveCurves(title=f"training ({config.name})", total_epochs=config.epochs, notebook=False)] \
        if progress else []
    try:
        result = train_run(arguments.model, config, data=data, out_dir=out_dir, resume=arguments.resume,
                           device=arguments.device, progress=not arguments.quiet, callbacks=callbacks)
    except (CheckpointError, DatasetError, ValueError) as error:
        raise UsageError(str(error)) from None
    if not world().is_main:
        return None
    return {"command": "train", "processes": world().size, **result.summary(arguments.model)}


def _recipe_options(arguments: argparse.Namespace) -> dict:
    """The recipe fields set on the command line; an option left out keeps the recipe's value."""
    options = {field: getattr(arguments, field) for field in ("size", "base", "epochs", "batch_size", "lr", "seed",
                                                               "augment") if getattr(arguments, field) is not None}
    if arguments.norm is not None:
        options["norm"] = None if arguments.norm == "none" else arguments.norm
    if arguments.max_grad_norm is not None:
        try:
            options["max_grad_norm"] = None if arguments.max_grad_norm == "none" else float(arguments.max_grad_norm)
        except ValueError:
            raise UsageError(f"--max-grad-norm takes a positive number or 'none'; got {arguments.max_grad_norm!r}") \
                from None
    return options


def run_evaluate(arguments: argparse.Namespace) -> dict:
    from course_lib.data import DatasetError, prepare_arrays, resolve_dataset
    from course_lib.train import CheckpointError, evaluate, load_model
    from course_lib.train.pretrained import PRETRAINED_NAME, pretrained_path

    started = time.perf_counter()
    if str(arguments.checkpoint) == PRETRAINED_NAME and not arguments.checkpoint.exists():
        try:
            arguments.checkpoint = pretrained_path()
        except FileNotFoundError as error:
            raise UsageError(str(error)) from None
    if not arguments.checkpoint.is_file():
        raise UsageError(f"checkpoint {arguments.checkpoint} does not exist; pass --checkpoint <run folder>/best.pt "
                         "written by `python -m course_lib train`")
    try:
        model, state = load_model(arguments.checkpoint, device=arguments.device or "cpu")
    except (CheckpointError, ValueError) as error:
        raise UsageError(str(error)) from None
    size = int(state["config"]["size"])
    try:
        data_dir = resolve_dataset(_data_argument(arguments.data))
        data = prepare_arrays(data_dir, size=size)
    except DatasetError as error:
        raise UsageError(str(error)) from None
    result = evaluate(model, data, batch_size=arguments.batch_size, threshold=float(state["config"]["threshold"]))
    return {"command": "evaluate", "checkpoint": str(arguments.checkpoint), "data": str(data_dir),
            "images": len(result.names), "mean_dice": result.mean, "per_image": result.to_dict()["per_image"],
            "seconds": round(time.perf_counter() - started, 3)}


def _data_argument(requested: str | None) -> str | None:
    """--data as given, once it is known to name a data source or an existing folder."""
    from course_lib.data import SOURCES

    if requested is None or requested in SOURCES or Path(requested).is_dir():
        return requested
    raise UsageError(f"data folder {requested} does not exist; pass --data pointing at a MontgomerySet folder "
                     f"(with CXR_png/ and ManualMask/) or naming a data source ({', '.join(sorted(SOURCES))}), or "
                     "leave --data out to use the default dataset")
