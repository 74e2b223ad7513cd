"""``python -m course_lib train|evaluate|data|figures ...``: the course's one command line, arguments in, results out.

This module only parses arguments and reports: training is ``course_lib.train.train_run``, the road notebook 4 and
the benchmarks take too; ``data`` (download the real set, write the phantom set, time preparing a folder) and
``figures`` (redraw the teaching figures) are their packages' commands (``course_lib.data.command``,
``course_lib.figures.command``), also run as ``python -m course_lib.data`` and ``python -m course_lib.figures``.
``train`` and ``evaluate`` end with a summary a person reads (train: best epoch, validation and test Dice, time,
files; evaluate: the spread of Dice over the images and the worst ones by name), or, with ``--json``, with ONE line
of JSON that scripts and tests read (train's carries the whole history). Progress (bars, per-epoch lines) comes
before it, and ``--quiet`` turns it off. Errors in the input of any command (a missing folder or checkpoint, a set
without masks, a mask of another size than its image, a failed download, a folder that cannot be written, a bad
option) print one ``error: ...`` line to stderr and exit with status 2. Under ``torchrun --nproc_per_node=N`` every
process trains its share and only the first prints.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import time
from pathlib import Path
from typing import Sequence

from course_lib.data import command as data_command
from course_lib.data.errors import DatasetError
from course_lib.figures import command as figures_command
from course_lib.metrics import THRESHOLD
from course_lib.nn.registry import MODELS
from course_lib.train.configs import CONFIGS
from course_lib.train.device import PRECISIONS


class UsageError(Exception):
    """Bad input from the command line; the message says what to change."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m course_lib", description="The course's command line: train or "
                                     "evaluate a model, prepare the data, redraw the figures.")
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train a model on a MontgomerySet-layout folder")
    train.add_argument("--data", default=None,
                       help="a MontgomerySet-layout folder (CXR_png/, ManualMask/) or a data source's name (e.g. "
                            "phantom); default: course_lib.data.default_dataset()")
    train.add_argument("--model", choices=sorted(MODELS), default="cfcm34")
    train.add_argument("--config", default=None,
                       help=f"{' | '.join(CONFIGS)} (default: quick in quick mode, else fast on a GPU, cpu otherwise)")
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
    train.add_argument("--precision", choices=PRECISIONS, default=None,
                       help="auto (bf16 on CPUs with native bf16, mixed precision on GPUs, else fp32), fp32 or bf16 "
                            "(default: the recipe's, auto)")
    train.add_argument("--quiet", action="store_true", help="no progress bars or per-epoch lines")
    train.add_argument("--json", action="store_true", help="end with one JSON line (with the full history) instead of "
                                                           "the readable summary")

    evaluate = commands.add_parser("evaluate", help="Dice of every image in a folder under a trained checkpoint")
    evaluate.add_argument("--checkpoint", type=Path, required=True,
                          help="a best.pt / last.pt written by train, or `pretrained`: the course's shipped CFCM34")
    evaluate.add_argument("--data", default=None,
                          help="a MontgomerySet-layout folder or a data source's name; default: the default dataset")
    evaluate.add_argument("--device", default=None, help="cpu, cuda, cuda:1, mps (default: cpu)")
    evaluate.add_argument("--batch-size", type=_positive, default=16)
    evaluate.add_argument("--precision", choices=PRECISIONS, default="auto",
                          help="auto (bf16 on CPUs with native bf16, mixed precision on GPUs, else fp32), fp32 or bf16")
    evaluate.add_argument("--per-image", type=Path, default=None, metavar="FILE.csv",
                          help="also write one row per image: name, dice, boundary_f")
    evaluate.add_argument("--quiet", action="store_true", help="no progress bar")
    evaluate.add_argument("--json", action="store_true", help="print one JSON line (summary and every image's Dice) "
                                                              "instead of the readable summary")
    for name, command in (("data", data_command), ("figures", figures_command)):
        command.add_arguments(commands.add_parser(name, help=command.DESCRIPTION, description=command.DESCRIPTION))
    return parser


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)
    run = {"train": run_train, "evaluate": run_evaluate}.get(arguments.command, run_package_command)
    try:
        result = run(arguments)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if result is not None:
        summary, text = result
        print(json.dumps(summary) if getattr(arguments, "json", False) else text, flush=True)
    return 0


def run_package_command(arguments: argparse.Namespace) -> tuple[None, str]:
    """``data`` and ``figures``: their packages' own commands, whose one error type each is a usage error here."""
    run, failure = {"data": (data_command.run, DatasetError),
                    "figures": (figures_command.run, figures_command.FigureError)}[arguments.command]
    try:
        return None, run(arguments)
    except failure as error:
        raise UsageError(str(error)) from None


def run_train(arguments: argparse.Namespace) -> tuple[dict, str] | None:
    """Train through the road; the summary (plain types, and as text), or None on every process but the first."""
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
    return {"command": "train", "processes": world().size, **result.summary()}, result.report()


def _recipe_options(arguments: argparse.Namespace) -> dict:
    """The recipe fields set on the command line; an option left out keeps the recipe's value."""
    options = {field: getattr(arguments, field) for field in ("size", "base", "epochs", "batch_size", "lr", "seed",
                                                               "augment") if getattr(arguments, field) is not None}
    if arguments.norm is not None:
        options["norm"] = None if arguments.norm == "none" else arguments.norm
    if arguments.precision is not None:
        options["precision"] = arguments.precision
    if arguments.max_grad_norm is not None:
        try:
            options["max_grad_norm"] = None if arguments.max_grad_norm == "none" else float(arguments.max_grad_norm)
        except ValueError:
            raise UsageError(f"--max-grad-norm takes a positive number or 'none'; got {arguments.max_grad_norm!r}") \
                from None
    return options


def run_evaluate(arguments: argparse.Namespace) -> tuple[dict, str]:
    """Score every image of a folder under a checkpoint; the summary (plain types, and as text)."""
    from course_lib.train import evaluate

    started = time.perf_counter()
    checkpoint = _checkpoint_argument(arguments.checkpoint)
    model, size, threshold, precision = _trained_model(checkpoint, arguments.device, arguments.precision)
    data_dir, data = _scored_data(arguments.data, size, progress=not arguments.quiet)
    _check_writable(arguments.per_image)
    if not arguments.quiet:
        print(f"Scoring {len(data['names'])} images of {data_dir} at {size}x{size} with {checkpoint}, "
              f"{precision.describe()}", file=sys.stderr, flush=True)
    result = evaluate(model, data, batch_size=arguments.batch_size, threshold=threshold,
                      precision=arguments.precision, progress=not arguments.quiet)
    text = f"{checkpoint} on {data_dir} ({size}x{size}, precision {result.precision}):\n{result.report()}"
    if arguments.per_image is not None:
        _write_rows(arguments.per_image, result.rows())
        text += f"\nEvery image's Dice and boundary F-score: {arguments.per_image}"
    summary = {"command": "evaluate", "checkpoint": str(checkpoint), "data": str(data_dir), "size": size,
               **result.summary(), "per_image": result.to_dict()["per_image"],
               "per_image_csv": str(arguments.per_image) if arguments.per_image is not None else None,
               "seconds": round(time.perf_counter() - started, 3)}
    return summary, text


def _checkpoint_argument(checkpoint: Path) -> Path:
    """--checkpoint as a file that exists: a path, or `pretrained` for the shipped weights."""
    from course_lib.train.pretrained import PRETRAINED_NAME, pretrained_path

    if str(checkpoint) == PRETRAINED_NAME and not checkpoint.exists():
        try:
            return pretrained_path()
        except FileNotFoundError as error:
            raise UsageError(str(error)) from None
    if not checkpoint.is_file():
        raise UsageError(f"checkpoint {checkpoint} does not exist; pass --checkpoint <run folder>/best.pt "
                         "written by `python -m course_lib train`, or `pretrained`")
    return checkpoint


def _trained_model(checkpoint: Path, device: str | None, precision: str):
    """The checkpoint's network on ``device``, the image size and threshold it was trained with, and the arithmetic."""
    from course_lib.train import CheckpointError, choose_device, load_model
    from course_lib.train.device import precision_for

    try:
        where = choose_device(device or "cpu", verbose=False)
        arithmetic = precision_for(where, precision=precision)
        model, state = load_model(checkpoint, device=where)
    except (CheckpointError, ValueError) as error:
        raise UsageError(str(error)) from None
    config = state.get("config") or {}
    if "size" not in config:
        raise UsageError(f"checkpoint {checkpoint} does not record the image size it was trained at (no config); "
                         "it was not written by `python -m course_lib train`, so score it from Python with "
                         "course_lib.train.evaluate at the size you trained it")
    return model, int(config["size"]), float(config.get("threshold", THRESHOLD)), arithmetic


def _scored_data(requested: str | None, size: int, progress: bool) -> tuple[Path, dict]:
    """The folder --data names, prepared at the checkpoint's ``size``; a usage error says what is wrong with it."""
    from course_lib.data import prepare_arrays, resolve_dataset
    from course_lib.data.files import IMAGE_FOLDER, LEFT_FOLDER, MASK_FOLDER, RIGHT_FOLDER, find_cases

    requested = _data_argument(requested)
    folder = Path(requested) if requested is not None and Path(requested).is_dir() else None
    if folder is not None and not (folder / IMAGE_FOLDER).is_dir():
        raise UsageError(f"--data {folder} is not a dataset in the Montgomery layout: it has no {IMAGE_FOLDER}/ folder "
                         f"of images (next to {MASK_FOLDER}/leftMask/ and rightMask/)")
    missing = [name for name in (LEFT_FOLDER, RIGHT_FOLDER) if folder is not None and not (folder / name).is_dir()]
    if missing:
        raise UsageError(f"--data {folder} has no masks ({' and '.join(missing)} missing): evaluate compares each "
                         "prediction with its mask, so it needs both mask folders")
    try:
        if folder is not None:  # the specific complaint about a file: an image without its mask, ...
            find_cases(folder / IMAGE_FOLDER, folder / MASK_FOLDER)
        data_dir = resolve_dataset(requested)
        return data_dir, prepare_arrays(data_dir, size=size, progress=progress)
    except DatasetError as error:
        where = f"--data {requested}: " if requested is not None else ""
        raise UsageError(f"{where}{error}") from None


def _check_writable(path: Path | None) -> None:
    """Refuse a --per-image path that cannot be written before the images are scored, not after."""
    if path is not None and (path.is_dir() or (path.parent.exists() and not path.parent.is_dir())):
        raise UsageError(f"--per-image {path} must name a file (e.g. per_image.csv), not a folder")


def _write_rows(path: Path, rows: list[dict]) -> None:
    """One CSV row per image, written whole or not at all."""
    from course_lib.atomic import atomic_writer

    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=["name", "dice", "boundary_f"], lineterminator="\n")
    writer.writeheader()
    writer.writerows({**row, "dice": f"{row['dice']:.6f}", "boundary_f": f"{row['boundary_f']:.6f}"} for row in rows)
    try:
        with atomic_writer(path) as handle:
            handle.write(text.getvalue().encode("utf-8"))
    except OSError as error:
        raise UsageError(f"--per-image {path} could not be written: {error.strerror or error}") from None


def _data_argument(requested: str | None) -> str | None:
    """--data as given, once it is known to name a data source or an existing folder."""
    from course_lib.data import SOURCES

    if requested is None or requested in SOURCES or Path(requested).is_dir():
        return requested
    raise UsageError(f"data folder {requested} does not exist; pass --data pointing at a MontgomerySet folder "
                     f"(with CXR_png/ and ManualMask/) or naming a data source ({', '.join(sorted(SOURCES))}), or "
                     "leave --data out to use the default dataset")
