"""Notebook 2's comparison of skip fusions, repeated over seeds: is its boundary lesson a property or a lucky draw?

Each run is what notebook 2's full mode does for one network, with the same calls in the same order: the phantom's
split at 128 x 128 (``prepare_split``), ``EncoderDecoder(fusion, norm, depth=5)`` built after
``torch.manual_seed(init)``, ``fit`` with the ``cpu`` recipe, then Dice and the boundary F-score (1 px) of every
validation image (as ``evaluate`` scores them). The notebook builds its networks after ``torch.manual_seed(0)`` and
trains with the recipe's own seed: that pair is the row named ``notebook``, and reproduces the notebook's printed
scores. Every other seed ``s`` sets both to ``s``. One torch thread per run (the notebook's setting), ``--workers``
runs at a time.

Per seed: Dice and boundary F of each network, the gaps of the network without skips to each fusion, and the ratio
of the boundary gap to the Dice gap (both against the fusion with the better boundary F, as the notebook's findings
cell prints it). Then
the mean, spread and worst of each gap over the seeds, and on how many seeds no-skip's boundary F is at least
``--margin`` below both fusions. Results are kept per run under ``--out``/depth<N>, so an interrupted run resumes (a
run saved with other settings is repeated). ``--depth 4`` trains the same networks with one halving less, as the
notebook invites a student to try.

    python benchmarks/skip_fusion_seeds.py [--seeds notebook 1 2 3 4] [--depth 5] [--workers 2] [--out build/skip_fusion_seeds]
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import statistics
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from common import given, machine, table
from course_lib.settings import repository_root

FUSIONS = ("none", "concat", "sum")
SIZE = 128
DEPTH = 5  # notebook 2's networks (its DEPTH; tests/test_benchmarks.py checks that they agree)
NOTEBOOK = "notebook"
NOTEBOOK_WEIGHT_SEED = 0  # torch.manual_seed(0) before each network; the recipe keeps get_config's own seed


def seeds_of(name: str) -> tuple[int, dict]:
    """(weight seed, the recipe's seed override) of a run named on the command line."""
    return (NOTEBOOK_WEIGHT_SEED, {}) if name == NOTEBOOK else (int(name), {"seed": int(name)})


def train_one(name: str, fusion: str, size: int, depth: int, overrides: dict) -> dict:
    """One network of notebook 2's full mode, trained and scored on the validation images."""
    import torch

    from course_lib.data import prepare_split
    from course_lib.nn import EncoderDecoder
    from course_lib.train import evaluate, fit, get_config

    torch.set_num_threads(1)
    init_seed, recipe_seed = seeds_of(name)
    data = prepare_split(size=size, progress=False)
    config = get_config("cpu", size=size, **recipe_seed, **overrides)
    torch.manual_seed(init_seed)
    model = EncoderDecoder(fusion=fusion, norm=config.norm, depth=depth)
    started = time.perf_counter()
    history = fit(model, data["train"], data["val"], config=config, progress=False)
    seconds = time.perf_counter() - started
    result = evaluate(model, data["val"], progress=False)  # Dice and 1-pixel boundary F of the thresholded masks
    return {"seed": name, "fusion": fusion, "dice": float(result.dice.mean()),
            "boundary": float(result.boundary_f.mean()), "best_epoch": history.best_epoch, "seconds": seconds,
            "size": size, "depth": depth, "overrides": overrides}


def run_all(names: list[str], workers: int, out: Path, size: int, depth: int, overrides: dict) -> dict[tuple[str, str], dict]:
    """Every (seed, fusion) run, each saved as it finishes; runs already saved are read back, not repeated."""
    out = out / f"depth{depth}"
    out.mkdir(parents=True, exist_ok=True)
    results, pending = {}, []
    for name in names:
        for fusion in FUSIONS:
            path = out / f"{name}-{fusion}.json"
            saved = json.loads(path.read_text()) if path.exists() else {}
            if (saved.get("size"), saved.get("depth"), saved.get("overrides")) == (size, depth, overrides):
                results[name, fusion] = saved
            else:
                pending.append((name, fusion))
    os.environ["OMP_NUM_THREADS"] = "1"
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {pool.submit(train_one, name, fusion, size, depth, overrides): (name, fusion) for name, fusion in pending}
        for future in as_completed(futures):
            name, fusion = futures[future]
            result = future.result()
            (out / f"{name}-{fusion}.json").write_text(json.dumps(result))
            results[name, fusion] = result
            print(f"seed {name} {fusion}: Dice {result['dice']:.4f}, boundary F {result['boundary']:.4f} "
                  f"({result['seconds']:.0f} s)", flush=True)
    return results


def gaps(results: dict[tuple[str, str], dict], name: str) -> dict[str, float]:
    """No-skip's gaps to each fusion on both measures, and the findings cell's ratio (both gaps taken against the
    fusion with the better boundary F; none when either gap is not positive)."""
    score = {fusion: results[name, fusion] for fusion in FUSIONS}
    row = {f"{key}_{fusion}": score[fusion][key] - score["none"][key]
           for key in ("dice", "boundary") for fusion in ("concat", "sum")}
    best = max(("concat", "sum"), key=lambda fusion: score[fusion]["boundary"])  # as the findings cell: both gaps
    dice_gap, border_gap = row[f"dice_{best}"], row[f"boundary_{best}"]  # against that one fusion
    row["ratio"] = border_gap / dice_gap if dice_gap > 0 and border_gap > 0 else float("nan")
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", nargs="+", default=[NOTEBOOK, "1", "2", "3", "4"],
                        help=f"'{NOTEBOOK}' (weights 0, the recipe's own seed, as notebook 2) or whole numbers")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--margin", type=float, default=0.02, help="boundary-F margin asked of no-skip's deficit")
    parser.add_argument("--out", type=Path, default=repository_root() / "build" / "skip_fusion_seeds")
    parser.add_argument("--size", type=int, default=SIZE, help="a smoke run only: the notebook trains at 128")
    parser.add_argument("--depth", type=int, default=DEPTH, help=f"halvings (notebook 2's networks: {DEPTH})")
    parser.add_argument("--epochs", type=int, help="a smoke run only: the notebook keeps the recipe's")
    parser.add_argument("--limit-images", type=int, help="a smoke run only: the notebook uses every image")
    arguments = parser.parse_args()
    overrides = given(epochs=arguments.epochs, limit_images=arguments.limit_images)
    for name in arguments.seeds:
        if name != NOTEBOOK and not name.isdigit():
            parser.error(f"--seeds: '{name}' is neither '{NOTEBOOK}' nor a whole number")
    print(machine())
    if overrides or arguments.size != SIZE:
        print(f"SMOKE RUN (size {arguments.size}, {overrides}): these numbers are not notebook 2's")
    if arguments.depth != DEPTH:
        print(f"depth {arguments.depth}: notebook 2's networks halve {DEPTH} times, these {arguments.depth} times")
    results = run_all(arguments.seeds, arguments.workers, arguments.out, arguments.size, arguments.depth, overrides)

    rows, all_gaps = [], []
    for name in arguments.seeds:
        row = gaps(results, name)
        all_gaps.append(row)
        rows.append([name, *(f"{results[name, f]['dice']:.4f} / {results[name, f]['boundary']:.4f}" for f in FUSIONS),
                     f"{row['dice_concat']:+.4f} / {row['boundary_concat']:+.4f}",
                     f"{row['dice_sum']:+.4f} / {row['boundary_sum']:+.4f}", f"{row['ratio']:.1f}"])
    print("\nDice / boundary F (1 px), mean over the 20 validation images; gaps are fusion minus no-skip")
    print(table(["seed", "none", "concat", "sum", "gap to concat", "gap to sum", "boundary gap / Dice gap"], rows))

    summary = []
    for key, label in (("dice_concat", "Dice gap to concat"), ("dice_sum", "Dice gap to sum"),
                       ("boundary_concat", "boundary gap to concat"), ("boundary_sum", "boundary gap to sum"),
                       ("ratio", "boundary gap / Dice gap")):
        values = [row[key] for row in all_gaps if math.isfinite(row[key])]  # a ratio exists only for positive gaps
        if len(values) < len(all_gaps):
            label += f" ({len(values)} of {len(all_gaps)} seeds: both gaps positive)"
        mean = f"{statistics.mean(values):+.4f}" if values else "none"
        spread = f"{statistics.stdev(values):.4f}" if len(values) > 1 else "none"
        summary.append([label, mean, spread, f"{min(values):+.4f}" if values else "none"])
    print(f"\nOver {len(all_gaps)} seeds")
    print(table(["measure", "mean", "standard deviation", "smallest"], summary))
    held = sum(min(row["boundary_concat"], row["boundary_sum"]) >= arguments.margin for row in all_gaps)
    worse = sum(min(row["dice_concat"], row["dice_sum"], row["boundary_concat"], row["boundary_sum"]) > 0
                for row in all_gaps)
    larger = sum(row["boundary_concat"] > row["dice_concat"] and row["boundary_sum"] > row["dice_sum"]
                 for row in all_gaps)
    print(f"no-skip worse than both fusions on both measures: {worse} of {len(all_gaps)} seeds; its boundary gap "
          f"larger than its Dice gap against both: {larger}; boundary F at least {arguments.margin} below both: {held}")
    minutes = sum(result["seconds"] for result in results.values()) / 60
    print(f"training time, all runs: {minutes:.0f} min of one thread")


if __name__ == "__main__":
    main()
