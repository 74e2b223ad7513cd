"""Three-fold comparison on the real Montgomery set: CFCM34 against two ladders, the reference and a MONAI U-Net.

The fixed split tests on 22 images, where one image moves a mean by ~0.004 and one seed cannot separate two good
models. Here every model trains on each of three stratified folds (72 train / 20 val / 46 test, from
``course_lib.data.cross_validation_folds``, as the CFCM paper did), so each of the 138 cases is tested exactly once.
Reported per model: the mean and spread of the three fold means, the mean over all 138 test images, and for each
rival the paired per-image difference to CFCM34 with a bootstrap 95% interval (same images, so the spread between
images cancels).

Models (all at 128x128, 30 epochs, one process and one torch thread each, two at a time):
  cfcm34     the course's ``cpu`` recipe (batch norm, AdamW one-cycle to 3e-3, batch 4)
  ladder34   the same recipe and encoder with a plain ladder decoder that reads only the stage outputs
  resladder34  the original CFCM repository's baseline: every ConvLSTM replaced by residual blocks reading
             the same block outputs (3.5 M parameters at base 16): what the memory itself adds
  reference  CFCM34 with the ``reference`` recipe, the issue's straightforward one (course_lib/train/configs.py:
             base 16, no normalisation, Adam 1e-3 constant, batch 8)
  basicunet  MONAI's BasicUNet (2.0 M parameters) with the ``reference`` recipe, the issue's best peer
             (needs ``pip install monai``; skipped with a message otherwise)

    python benchmarks/montgomery_folds.py [--data DIR] [--models cfcm34 ladder34 ...] [--folds 3]
                                          [--epochs E] [--size S] [--workers 2] [--save FILE.json]
Smaller ``--epochs``/``--size`` give a fast end-to-end check; the table then says so.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from common import given, machine, table, train_and_test, without_missing_monai
from montgomery_cpu import DEFAULT_DATA

MODELS = ("cfcm34", "ladder34", "resladder34", "reference", "basicunet")


def recipe(model: str, epochs: int | None, size: int | None):
    """The TrainConfig each model trains with (see the module docstring)."""
    from course_lib.train import get_config

    named = "cpu" if model in ("cfcm34", "ladder34", "resladder34") else "reference"
    return get_config(named, **given(epochs=epochs, size=size))


def build(model: str):
    """What the road trains: a course model's name (the reference is CFCM34 with its own recipe) or MONAI's U-Net."""
    if model == "basicunet":
        from common import basicunet

        return basicunet(recipe(model, None, None).seed)
    return "cfcm34" if model == "reference" else model


def run_fold(model: str, fold: int, folds: int, data_dir: Path, epochs: int | None, size: int | None) -> dict:
    """Train ``model`` on fold ``fold`` in this process (one torch thread); return its measurements."""
    import torch

    from course_lib.data import cross_validation_folds

    torch.set_num_threads(1)
    config = recipe(model, epochs, size)
    result = train_and_test(f"{model} fold {fold + 1}", build(model), config, data=data_dir,
                            split=cross_validation_folds(folds)[fold])
    return {"model": model, "fold": fold, "parameters": result.parameters,
            "best_val": result.history.best_val_dice, "test_mean": result.test.mean,
            "per_image": result.test.to_dict()["per_image"], "cpu_seconds": result.cpu_at_epoch[-1],
            "epochs": len(result.history)}


def bootstrap_interval(differences: np.ndarray, draws: int = 10_000, seed: int = 0) -> tuple[float, float]:
    """95% percentile interval of the mean of ``differences`` (resampling images)."""
    rng = np.random.default_rng(seed)
    means = differences[rng.integers(0, len(differences), size=(draws, len(differences)))].mean(axis=1)
    return float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def summarise(rows: list[dict], models: list[str]) -> str:
    by_model = {model: sorted((r for r in rows if r["model"] == model), key=lambda r: r["fold"]) for model in models}
    per_fold = [[r["model"], r["fold"] + 1, r["parameters"], r["epochs"], r["best_val"], r["test_mean"],
                 r["cpu_seconds"]] for model in models for r in by_model[model]]
    lines = [table(["model", "fold", "parameters", "epochs", "best val Dice", "test Dice (46 images)", "CPU s"],
                   per_fold), ""]
    pooled = {model: {name: d for r in by_model[model] for name, d in r["per_image"].items()} for model in models}
    summary = []
    for model in models:
        fold_means = np.array([r["test_mean"] for r in by_model[model]])
        images = np.array(list(pooled[model].values()))
        row = [model, f"{fold_means.mean():.4f} ± {fold_means.std(ddof=1):.4f}", f"{images.mean():.4f}",
               f"{np.median(images):.4f}", f"{images.min():.3f}",
               f"{np.mean([r['best_val'] for r in by_model[model]]):.4f}",
               f"{np.mean([r['cpu_seconds'] for r in by_model[model]]):.0f}"]
        if model != models[0] and pooled[models[0]].keys() == pooled[model].keys():
            names = sorted(pooled[model])
            diff = np.array([pooled[models[0]][n] - pooled[model][n] for n in names])
            low, high = bootstrap_interval(diff)
            row.append(f"{diff.mean():+.4f} [{low:+.4f}, {high:+.4f}]")
        else:
            row.append("-")
        summary.append(row)
    lines.append(table(["model", "test Dice, fold means (mean ± sd)", f"mean over {len(images)} images",
                        "median", "worst image", "best val Dice (mean)", "CPU s per fold",
                        f"{models[0]} minus this, per image [95% CI]"], summary))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=None, help="override every recipe's epochs (smoke runs)")
    parser.add_argument("--size", type=int, default=None, help="override every recipe's image size (smoke runs)")
    parser.add_argument("--workers", type=int, default=2, help="training processes at once (one thread each)")
    parser.add_argument("--save", type=Path, default=None, help="also write every run's measurements (per-image "
                        "Dice included) to this JSON file")
    arguments = parser.parse_args()
    if not arguments.data.is_dir():
        print(f"skipped: the real Montgomery set is not at {arguments.data} (pass --data DIR)")
        return
    models = without_missing_monai(arguments.models)

    from course_lib.data import prepare_split

    # fill the cache once here, so the workers only read it
    prepare_split(arguments.data, size=recipe(models[0], arguments.epochs, arguments.size).size, progress=False)
    print(f"{machine()}; {arguments.folds} folds; models {models}", flush=True)
    jobs = [(model, fold) for fold in range(arguments.folds) for model in models]
    with ProcessPoolExecutor(max_workers=arguments.workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(run_fold, model, fold, arguments.folds, arguments.data, arguments.epochs,
                               arguments.size) for model, fold in jobs]
        rows = [future.result() for future in futures]
    if arguments.save:
        arguments.save.write_text(json.dumps(rows, indent=1))
    if arguments.epochs or arguments.size:
        print(f"SMOKE RUN: epochs {arguments.epochs or 'default'}, size {arguments.size or 'default'}; "
              "not the benchmark's numbers")
    print(summarise(rows, models))


if __name__ == "__main__":
    main()
