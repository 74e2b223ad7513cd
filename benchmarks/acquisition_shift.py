"""Another hospital's scanner, simulated: the Montgomery test images under acquisition shifts, Dice per model.

A network trained on one hospital's X-rays meets other exposures, detectors, resolutions and framings elsewhere.
Each shift below changes the 22 test images the way another scanner would, then the loader's own min-max scaling
is applied again (as ``course_lib.data`` does to every image it reads):

  gamma 0.6 / 1.6        a different detector response curve (mid-tones brighter / darker)
  contrast 0.6 / 1.4     a flatter or harsher exposure, around the image's mean
  blur                   a softer detector (Gaussian, sigma 1 pixel at 128x128)
  noise                  a noisier detector (Gaussian, sigma 0.05)
  half resolution        a coarser detector (down to 64x64 and back up)
  tighter / wider view   collimated closer (the central 85 % enlarged) or framed wider (shrunk to 80 %, black
                         around), the mask moved alike
  markers                burned-in side markers and a text block, bright, in two corners

Models, each trained through the course's road (``train_run``, the command line's) on the fixed split, unless
``--checkpoint NAME=best.pt`` hands in a trained one: CFCM34 and Ladder34 with the ``cpu`` recipe, CFCM34 with the
recipe as it was before (batch norm, no clipping, a peak of 3e-3, no augmentation: ``cfcm34-batchnorm``), and MONAI's
BasicUNet trained with the ``reference`` recipe, as in montgomery_folds.py (where MONAI is installed). Printed: the test Dice with
no shift and under each shift, and each model's worst cost (clean minus shifted).

    python benchmarks/acquisition_shift.py [--data DIR] [--models cfcm34 ladder34 cfcm34-batchnorm basicunet]
                                           [--checkpoint cfcm34=runs/x/best.pt] [--workers 2] [--epochs E]
"""

from __future__ import annotations

import argparse
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from common import given, machine, table, without_missing_monai
from montgomery_cpu import DEFAULT_DATA

MODELS = ("cfcm34", "ladder34", "cfcm34-batchnorm", "basicunet")
Shift = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def _rescale(image: np.ndarray) -> np.ndarray:
    """The loader's rule: each image scaled to [0, 1] by its own minimum and maximum."""
    low, high = float(image.min()), float(image.max())
    return ((image - low) / (high - low if high > low else 1.0)).astype(np.float32)


def _resize(array: np.ndarray, size: tuple[int, int], order: int) -> np.ndarray:
    from skimage.transform import resize

    return resize(array, size, order=order, anti_aliasing=order > 0, preserve_range=True).astype(np.float32)


def _tighter(image: np.ndarray, label: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    size = image.shape
    margin = (int(size[0] * 0.075), int(size[1] * 0.075))
    window = np.s_[margin[0]:size[0] - margin[0], margin[1]:size[1] - margin[1]]
    return _resize(image[window], size, 1), _resize(label[window], size, 0)


def _wider(image: np.ndarray, label: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    size = image.shape
    inner = (int(size[0] * 0.8), int(size[1] * 0.8))
    top, left = (size[0] - inner[0]) // 2, (size[1] - inner[1]) // 2
    framed_image, framed_label = np.zeros(size, np.float32), np.zeros(size, np.float32)
    framed_image[top:top + inner[0], left:left + inner[1]] = _resize(image, inner, 1)
    framed_label[top:top + inner[0], left:left + inner[1]] = _resize(label, inner, 0)
    return framed_image, framed_label


def _markers(image: np.ndarray, label: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    marked = image.copy()
    h, w = image.shape
    marked[int(0.04 * h):int(0.14 * h), int(0.84 * w):int(0.90 * w)] = 1.0       # an "R" side marker
    marked[int(0.06 * h):int(0.09 * h), int(0.82 * w):int(0.92 * w)] = 1.0
    for row in range(3):                                                         # a block of text lines
        top = int((0.80 + 0.05 * row) * h)
        marked[top:top + max(1, int(0.02 * h)), int(0.04 * w):int(0.30 * w)] = 1.0
    return marked, label


def _gaussian(sigma: float) -> Shift:
    def blur(image: np.ndarray, label: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        from scipy.ndimage import gaussian_filter

        return gaussian_filter(image, sigma), label
    return blur


def _noise(image: np.ndarray, label: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return np.clip(image + rng.normal(0, 0.05, image.shape), 0, 1).astype(np.float32), label


def _half_resolution(image: np.ndarray, label: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    half = (image.shape[0] // 2, image.shape[1] // 2)
    return _resize(_resize(image, half, 1), image.shape, 1), label


SHIFTS: dict[str, Shift] = {
    "gamma 0.6": lambda image, label: (image ** 0.6, label),
    "gamma 1.6": lambda image, label: (image ** 1.6, label),
    "contrast 0.6": lambda image, label: (image.mean() + 0.6 * (image - image.mean()), label),
    "contrast 1.4": lambda image, label: (np.clip(image.mean() + 1.4 * (image - image.mean()), 0, 1), label),
    "blur": _gaussian(1.0),
    "noise": _noise,
    "half resolution": _half_resolution,
    "tighter view": _tighter,
    "wider view": _wider,
    "markers": _markers,
}


def shifted(test: dict, shift: Shift) -> dict:
    """The test arrays with ``shift`` applied to every case, images rescaled as the loader would."""
    pairs = [shift(image, label) for image, label in zip(test["images"], test["labels"])]
    return {"images": np.stack([_rescale(image) for image, _ in pairs]),
            "labels": np.stack([label for _, label in pairs]).astype(np.float32), "names": list(test["names"])}


def recipe(model: str, epochs: int | None):
    from course_lib.train import get_config

    if model == "basicunet":
        return get_config("reference", **given(epochs=epochs))
    if model == "cfcm34-batchnorm":  # the cpu recipe as it was until 2026-12-02
        return get_config("cpu", **given(epochs=epochs), norm="batch", max_grad_norm=None, lr=3e-3, augment=False)
    return get_config("cpu", **given(epochs=epochs))


def trained(model: str, data: Path, epochs: int | None, checkpoint: Path | None):
    """The trained network for ``model``: loaded from ``checkpoint``, or trained here through the road."""
    import torch

    torch.set_num_threads(1)
    if checkpoint is not None:
        from course_lib.train import load_model

        return load_model(checkpoint)[0]
    from course_lib.train import train_run

    network: object = model.removesuffix("-batchnorm")
    if model == "basicunet":
        from common import basicunet

        network = basicunet(recipe(model, epochs).seed)
    return train_run(network, recipe(model, epochs), data=data, progress=False).model


def score(model: str, data: Path, epochs: int | None, checkpoint: Path | None) -> dict[str, float]:
    """Test Dice of ``model`` with no shift and under every shift (run in a worker process, one thread)."""
    from course_lib.data import prepare_split
    from course_lib.train import evaluate

    network = trained(model, data, epochs, checkpoint)
    test = prepare_split(data, size=recipe(model, epochs).size, progress=False)["test"]
    results = {"no shift": evaluate(network, test).mean}
    for name, shift in SHIFTS.items():
        results[name] = evaluate(network, shifted(test, shift)).mean
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument("--checkpoint", action="append", default=[], metavar="MODEL=PATH",
                        help="use this trained checkpoint for MODEL instead of training it")
    parser.add_argument("--epochs", type=int, default=None, help="override every recipe's epochs (smoke runs)")
    parser.add_argument("--workers", type=int, default=2)
    arguments = parser.parse_args()
    if not arguments.data.is_dir():
        print(f"skipped: the real Montgomery set is not at {arguments.data} (pass --data DIR)")
        return
    checkpoints = dict(item.split("=", 1) for item in arguments.checkpoint)
    models = without_missing_monai(arguments.models)
    print(machine(), flush=True)
    with ProcessPoolExecutor(max_workers=arguments.workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {model: pool.submit(score, model, arguments.data, arguments.epochs,
                                      Path(checkpoints[model]) if model in checkpoints else None) for model in models}
        results = {model: future.result() for model, future in futures.items()}
    if arguments.epochs:
        print(f"SMOKE RUN: {arguments.epochs} epochs; not the benchmark's numbers")
    rows = [[shift] + [results[model][shift] for model in models] for shift in ["no shift", *SHIFTS]]
    worst = ["worst cost (clean minus shifted)"]
    for model in models:
        costs = {shift: results[model]["no shift"] - results[model][shift] for shift in SHIFTS}
        name = max(costs, key=costs.get)
        worst.append(f"{costs[name]:+.4f} ({name})")
    print(table(["test Dice (22 images)", *models], rows + [worst]))


if __name__ == "__main__":
    main()
