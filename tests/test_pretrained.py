"""The shipped CFCM34 weights: they load offline, are what their provenance says, and score what it records."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import torch

from course_lib.data import prepare_split
from course_lib.nn import ModelSpec
from course_lib.nn.cfcm import CFCM
from course_lib.train import evaluate
from course_lib.train.checkpoint import recorded_spec
from course_lib.train.pretrained import PRETRAINED, load_pretrained

REAL_TOLERANCE = 0.002  # half-precision storage moves the mean test Dice by less than this (measured: 0.0000)
PHANTOM_FLOOR = 0.86  # trained on the real set only; on the offline phantom set's test images it scored 0.897 (benchmarks/RESULTS.md, section 8)


def test_the_shipped_weights_load_offline_in_half_precision():
    size = PRETRAINED.stat().st_size
    assert size < 8e6, f"{PRETRAINED} is {size / 1e6:.1f} MB; the shipped weights should stay a few MB"
    model, state = load_pretrained()
    assert isinstance(model, CFCM) and not model.training
    assert recorded_spec(state, PRETRAINED) == ModelSpec("cfcm34", 16, "instance")  # format 1 or 2, whichever
    assert all(t.dtype == torch.float16 for t in state["model"].values() if t.is_floating_point())
    assert next(model.parameters()).dtype == torch.float32, "the model computes in full precision"
    provenance = state["provenance"]
    assert "python -m course_lib train" in provenance["command"] and "--config cpu" in provenance["command"]
    assert state["config"]["name"] == "cpu" and state["config"]["size"] == 128


def test_the_shipped_weights_score_what_they_record(montgomery_dir, real_montgomery_dir):
    """On the real set the recorded test Dice, to storage precision; on the phantom set (CI) still a good model."""
    model, state = load_pretrained()
    test = prepare_split(montgomery_dir, size=state["config"]["size"], progress=False)["test"]
    scored = evaluate(model, test, batch_size=8, threshold=state["config"]["threshold"], precision="fp32").mean
    if real_montgomery_dir is not None:
        recorded = state["provenance"]["test_dice"]
        assert abs(scored - recorded) <= REAL_TOLERANCE, f"test Dice {scored:.4f}, the file records {recorded:.4f}"
    else:
        assert scored >= PHANTOM_FLOOR, f"the shipped CFCM34 scores {scored:.4f} on the phantom test images"


def test_evaluate_pretrained_from_the_command_line(small_phantom_dir):
    result = subprocess.run([sys.executable, "-m", "course_lib", "evaluate", "--checkpoint", "pretrained", "--data",
                             str(small_phantom_dir), "--json", "--quiet"], capture_output=True, text=True, timeout=300,
                            env={**os.environ, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"})
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["checkpoint"] == str(PRETRAINED) and summary["images"] > 0 and summary["mean_dice"] > 0.5, summary


def test_exporting_a_run_keeps_what_rebuilds_its_network(tmp_path):
    """What `make weights` does with its run's best.pt (tools/make_weights.py), on a tiny run."""
    import numpy as np

    from course_lib.train import fit, get_config, load_model
    from course_lib.train.pretrained import export_pretrained

    config = get_config("quick", epochs=1, size=32, limit_images=None)
    labels = (np.random.default_rng(0).random((4, 32, 32)) > 0.5).astype(np.float32)
    arrays = {"images": 0.5 * labels + 0.25, "labels": labels}
    fit(config.model_spec("ladder34").build(), arrays, arrays, config=config, out_dir=tmp_path, device="cpu",
        progress=False)
    path = export_pretrained(tmp_path / "best.pt", {"command": "test"}, path=tmp_path / "shipped.pt")
    model, state = load_model(path)
    assert recorded_spec(state, path) == config.model_spec("ladder34") and state["provenance"] == {"command": "test"}
    assert all(t.dtype == torch.float16 for t in state["model"].values() if t.is_floating_point())
    assert model.encoder.base == config.base and model.encoder.norm == config.norm
