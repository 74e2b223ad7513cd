"""How real is the offline phantom? Train on it, test on it and on the real set, and compare with real training.

The phantom is the course's default data, so it must be as hard as the real Montgomery set (or lessons look
better than they are) and real enough that what a network learns on it carries over. Four numbers answer that,
each over several seeds, each through the README's own commands:

* phantom -> phantom: ``python -m course_lib train --data <phantom> --config cpu --seed S``, its test Dice;
* real -> real: the same command on the real set (the yardstick the first number should be near, within 0.015);
* phantom -> real: ``python -m course_lib evaluate --checkpoint <phantom run>/best.pt --data <real set>``, every
  one of the real set's 138 images (it never saw any);
* Otsu: a classical threshold (Otsu's, then the two largest dark regions away from the border), on each set's
  test images: how much a network has to learn beyond "lungs are dark" (the harder the set, the lower);
* the shipped CFCM34 (trained on the real set only) on the phantom's test images: realism seen the other way.

Before any training it prints what a network sees, both sets side by side at 128 x 128: intensity inside and
outside the lungs, and the mean profile across the lung border where it faces the diaphragm, the apex, the
lateral wall and the mediastinum (where a reader draws the border decides where a network learns to draw it).
Also the time to generate the 138 phantom cases. Seeds run two at a time, one torch thread each.

    python benchmarks/phantom_realism.py [--real DIR] [--seeds 1 2 3] [--out DIR] [--workers 2]
                                         [--skip-real-training] [--looks-only] [extra train options after --]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from scipy import ndimage
from skimage.filters import threshold_otsu

from common import machine, table
from montgomery_cpu import DEFAULT_DATA
from recipe_seeds import REPO_ROOT, run_seed

TRANSFER_TARGET = 0.92
GAP_TARGET = 0.015


def otsu_lungs(image: np.ndarray, opening: int = 3) -> np.ndarray:
    """The classical baseline: pixels darker than Otsu's threshold, eroded by ``opening`` pixels to cut thin bridges
    (to the air outside the body, say), the two largest regions that do not touch the border kept and grown back
    within the dark pixels, holes filled."""
    dark = image < threshold_otsu(image)
    pieces, count = ndimage.label(ndimage.binary_erosion(dark, iterations=opening))
    border = set(np.unique(np.concatenate([pieces[0], pieces[-1], pieces[:, 0], pieces[:, -1]])))
    sizes = ndimage.sum(np.ones_like(image), pieces, index=np.arange(1, count + 1))
    keep = [k + 1 for k in np.argsort(sizes)[::-1] if k + 1 not in border][:2]
    grown = ndimage.binary_dilation(np.isin(pieces, keep), iterations=opening) & dark
    return ndimage.binary_fill_holes(grown)


def otsu_dice(folder: Path, size: int = 128) -> float:
    """Mean Dice of :func:`otsu_lungs` over the test part of ``folder`` at ``size`` (the course's prepared arrays)."""
    from course_lib.data import prepare_split

    test = prepare_split(folder, size=size, progress=False)["test"]
    scores = []
    for image, label in zip(test["images"], test["labels"]):
        found, truth = otsu_lungs(image), label > 0.5
        scores.append(2 * (found & truth).sum() / max(found.sum() + truth.sum(), 1))
    return float(np.mean(scores))


BORDER_OFFSETS = np.arange(-6, 7)  # pixels along the border's outward normal, at 128 x 128: inside < 0 < outside


def _border_kind(normal_row: float, normal_col: float, col: float, centre: float) -> str | None:
    """Which way a border pixel faces, from its outward normal: the diaphragm, the apex, the wall, the mediastinum."""
    if normal_row > 0.8:
        return "diaphragm"
    if normal_row < -0.8:
        return "apex"
    if abs(normal_col) > 0.8:
        return "lateral wall" if (normal_col > 0) == (col > centre) else "mediastinum"
    return None


def border_profiles(images: np.ndarray, labels: np.ndarray) -> dict[str, np.ndarray]:
    """Mean intensity at BORDER_OFFSETS across the lung border, per kind of border."""
    samples: dict[str, list] = {"diaphragm": [], "apex": [], "lateral wall": [], "mediastinum": []}
    for image, label in zip(images, labels):
        lungs = label > 0.5
        rows_grad, cols_grad = np.gradient(ndimage.gaussian_filter(lungs.astype(float), 2))
        for row, col in zip(*np.nonzero(lungs & ~ndimage.binary_erosion(lungs))):
            norm = np.hypot(rows_grad[row, col], cols_grad[row, col])
            kind = _border_kind(-rows_grad[row, col] / norm, -cols_grad[row, col] / norm, col,
                                np.nonzero(lungs)[1].mean()) if norm > 1e-3 else None
            along = (row - BORDER_OFFSETS * rows_grad[row, col] / max(norm, 1e-3),
                     col - BORDER_OFFSETS * cols_grad[row, col] / max(norm, 1e-3))
            if kind and min(along[0].min(), along[1].min()) >= 0 and max(along[0].max(), along[1].max()) <= 127:
                samples[kind].append(ndimage.map_coordinates(image, along, order=1))
    return {kind: np.mean(rows, axis=0) for kind, rows in samples.items() if rows}


def looks(folders: dict[str, Path]) -> str:
    """What a network sees of each set at 128 x 128: intensities and the profiles across the lung border."""
    from course_lib.data import prepare_arrays

    rows, profiles = [], {}
    for name, folder in folders.items():
        data = prepare_arrays(folder, size=128, progress=False)
        images, lungs = data["images"], data["labels"] > 0.5
        inside = [float(image[lung].mean()) for image, lung in zip(images, lungs)]
        outside = [float(image[~lung].mean()) for image, lung in zip(images, lungs)]
        rows.append([name, float(np.median(inside)), float(np.median(outside)),
                     float(np.median([lung.mean() for lung in lungs])), float(np.std(inside))])
        profiles[name] = border_profiles(images, data["labels"])
    text = [table(["set", "lung intensity (median)", "outside (median)", "lung area", "sd of lung intensity"], rows),
            f"mean intensity across the lung border, {BORDER_OFFSETS[0]} (inside) to +{BORDER_OFFSETS[-1]} (outside) "
            "pixels at 128 x 128; 0 is the border pixel"]
    text.append(table(["border", "set", *map(str, BORDER_OFFSETS)],
                      [[kind, name, *(f"{value:.2f}" for value in profile[kind])]
                       for kind in ("diaphragm", "apex", "lateral wall", "mediastinum")
                       for name, profile in profiles.items() if kind in profile]))
    return "\n".join(text)


def shipped_on_phantom(phantom: Path) -> float:
    """Test Dice of the shipped CFCM34, trained on the real set only, on the phantom's test images."""
    from course_lib.data import prepare_split
    from course_lib.train import evaluate
    from course_lib.train.pretrained import load_pretrained

    model, state = load_pretrained()
    test = prepare_split(phantom, size=state["config"]["size"], progress=False)["test"]
    return evaluate(model, test, threshold=state["config"]["threshold"], precision="fp32", progress=False).mean


def generate_phantom(root: Path) -> tuple[Path, float]:
    """A fresh 138-case phantom under ``root`` and the seconds it took."""
    from course_lib.data import make_phantom_dataset

    started = time.perf_counter()
    folder = make_phantom_dataset(root, progress=False)
    return folder, time.perf_counter() - started


def evaluate_on(checkpoint: Path, data: Path) -> dict:
    """``python -m course_lib evaluate`` as a user types it: mean, median and worst Dice of every image."""
    result = subprocess.run([sys.executable, "-m", "course_lib", "evaluate", "--checkpoint", str(checkpoint), "--data",
                             str(data), "--json", "--quiet"], cwd=REPO_ROOT, env=dict(os.environ, OMP_NUM_THREADS="1"),
                            capture_output=True, text=True, check=True)
    scores = list(json.loads(result.stdout.strip().splitlines()[-1])["per_image"].values())
    return {"mean": float(np.mean(scores)), "median": float(np.median(scores)), "worst": float(np.min(scores))}


def _runs(data: Path, label: str, arguments: argparse.Namespace) -> list[dict]:
    options = argparse.Namespace(data=data, model="cfcm34", config=arguments.config, label=label,
                                 out=arguments.out, extra=arguments.extra)
    with ThreadPoolExecutor(max_workers=arguments.workers) as pool:
        return list(pool.map(lambda seed: run_seed(seed, options), arguments.seeds))


def _spread(values: list[float]) -> str:
    return f"{statistics.mean(values):.4f} ± {statistics.stdev(values) if len(values) > 1 else 0:.4f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--real", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--config", default="cpu")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "build" / "phantom_realism")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip-real-training", action="store_true", help="leave out real -> real (it takes longest)")
    parser.add_argument("--looks-only", action="store_true", help="only the side-by-side look (seconds, no training)")
    parser.add_argument("extra", nargs="*", help="more `train` options, after --")
    arguments = parser.parse_args()
    if not arguments.real.is_dir():
        print(f"skipped: the real Montgomery set is not at {arguments.real} (pass --real DIR)")
        return 0
    arguments.out.mkdir(parents=True, exist_ok=True)
    print(machine())
    phantom, seconds = generate_phantom(arguments.out / "data")
    print(f"generated 138 phantom cases in {seconds:.1f} s")
    print(looks({"real": arguments.real, "phantom": phantom}), flush=True)
    if arguments.looks_only:
        return 0
    phantom_runs = _runs(phantom, f"phantom-{arguments.config}", arguments)
    transfer = [evaluate_on(arguments.out / f"cfcm34-phantom-{arguments.config}-seed{s}" / "best.pt", arguments.real)
                for s in arguments.seeds]
    real_runs = [] if arguments.skip_real_training else _runs(arguments.real, f"real-{arguments.config}", arguments)
    rows = [["phantom -> phantom (test split)", _spread([r["test_best"] for r in phantom_runs])],
            ["real -> real (test split)", _spread([r["test_best"] for r in real_runs]) if real_runs else "skipped"],
            ["phantom -> real (all 138)", _spread([t["mean"] for t in transfer])],
            ["phantom -> real, median / worst image", f"{statistics.mean(t['median'] for t in transfer):.4f} / "
                                                      f"{min(t['worst'] for t in transfer):.4f}"],
            ["Otsu on the phantom (test split)", f"{otsu_dice(phantom):.4f}"],
            ["Otsu on the real set (test split)", f"{otsu_dice(arguments.real):.4f}"],
            ["shipped CFCM34 (real-trained) on the phantom (test split)", f"{shipped_on_phantom(phantom):.4f}"]]
    extra = " ".join(arguments.extra)
    print(f"CFCM34, `--config {arguments.config} {extra}`, seeds {arguments.seeds} (mean ± sd over seeds), "
          "OMP_NUM_THREADS=1")
    print(table(["what", "Dice"], rows))
    print(table(["seed", "phantom -> phantom", "phantom -> real", "real -> real"],
                [[s, p["test_best"], t["mean"], real_runs[i]["test_best"] if real_runs else "-"]
                 for i, (s, p, t) in enumerate(zip(arguments.seeds, phantom_runs, transfer))]))
    gap = abs(statistics.mean(r["test_best"] for r in phantom_runs) - statistics.mean(r["test_best"] for r in real_runs)) \
        if real_runs else float("nan")
    print(f"gap phantom/real {gap:.4f} (target <= {GAP_TARGET}); transfer "
          f"{statistics.mean(t['mean'] for t in transfer):.4f} (target >= {TRANSFER_TARGET})")
    (arguments.out / "realism.json").write_text(json.dumps({"phantom": phantom_runs, "transfer": transfer,
                                                              "real": real_runs, "generate_seconds": seconds}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
