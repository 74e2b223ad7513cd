"""Beyond one process: `torchrun --nproc_per_node=2 -m course_lib train` on the CPU (gloo) matches one process.

Two processes each train on half of every batch and DDP averages their gradients, so with a batch size divisible
by two and no batch norm (which normalises each half on its own; PyTorch syncs it only on GPUs) they follow one
process with the same global batch to float rounding. Tolerance: every weight within 1e-5 (absolute and relative)
after two epochs; the validation Dice per epoch within 1e-4. Only the first process writes checkpoints and prints
the JSON line, and a resumed two-process run continues exactly as a resumed single one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from course_lib.settings import repository_root
from course_lib.train import load_checkpoint

REPO = repository_root()
TRAIN = ["train", "--model", "cfcm18", "--config", "quick", "--base", "4", "--size", "32", "--batch-size", "4",
         "--epochs", "2", "--norm", "none", "--device", "cpu", "--quiet", "--json",
         "--precision", "fp32"]  # one process matches two to 1e-5 in fp32; bf16 (auto on some CPUs) rounds coarser
TOLERANCE = 1e-5


def _env(tmp: Path) -> dict:
    return dict(os.environ, COURSE_QUICK="1", MPLBACKEND="Agg", OMP_NUM_THREADS="1", CFCM_DATA_ROOT=str(tmp))


def _train(data: Path, out: Path, tmp: Path, processes: int, *extra: str) -> subprocess.CompletedProcess:
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}"] \
        if processes > 1 else [sys.executable]
    done = subprocess.run([*launcher, "-m", "course_lib", *TRAIN, "--data", str(data), "--out", str(out), *extra],
                          cwd=REPO, env=_env(tmp), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{processes} process(es) failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    return done


def _json_lines(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    from course_lib.data import make_phantom_dataset

    return make_phantom_dataset(tmp_path_factory.mktemp("phantom"), n_cases=24, progress=False)


@pytest.fixture(scope="module")
def runs(dataset, tmp_path_factory) -> dict:
    tmp = tmp_path_factory.mktemp("ddp")
    single = _train(dataset, tmp / "single", tmp, 1)
    double = _train(dataset, tmp / "double", tmp, 2)
    return {"tmp": tmp, "single": _json_lines(single.stdout), "double": _json_lines(double.stdout)}


def test_two_processes_print_one_result(runs):
    assert len(runs["single"]) == 1 and len(runs["double"]) == 1, "only the first process may print the JSON line"
    assert (runs["single"][0]["processes"], runs["double"][0]["processes"]) == (1, 2), "torchrun's group was not joined"


def test_two_processes_follow_one_with_the_same_global_batch(runs):
    tmp = runs["tmp"]
    single, double = (load_checkpoint(tmp / name / "last.pt") for name in ("single", "double"))
    for key, value in single["model"].items():
        torch.testing.assert_close(double["model"][key], value, atol=TOLERANCE, rtol=TOLERANCE, msg=key)
    one, two = runs["single"][0]["history"], runs["double"][0]["history"]
    assert two["val_dice"] == pytest.approx(one["val_dice"], abs=1e-4)
    assert two["train_loss"] == pytest.approx(one["train_loss"], abs=1e-4), "the epoch's loss covers both halves"


def test_only_the_first_process_writes_the_run_folder(runs):
    names = sorted(path.name for path in (runs["tmp"] / "double").iterdir())
    assert names == ["best.pt", "history.json", "last.pt", "previous.pt"], names


def test_a_resumed_two_process_run_continues_exactly(dataset, runs):
    tmp = runs["tmp"]
    (tmp / "double" / "last.pt").unlink()  # interrupted after epoch 1: previous.pt holds it
    resumed = _json_lines(_train(dataset, tmp / "double", tmp, 2, "--resume").stdout)[0]
    assert resumed["history"]["val_dice"] == pytest.approx(runs["double"][0]["history"]["val_dice"], abs=1e-6)
    again = load_checkpoint(tmp / "double" / "last.pt")["model"]
    single = load_checkpoint(tmp / "single" / "last.pt")["model"]
    for key, value in single.items():
        torch.testing.assert_close(again[key], value, atol=TOLERANCE, rtol=TOLERANCE, msg=key)
