"""Checkpoint files: atomic, checksummed, safe to load, and a damaged newest file falls back to the previous one."""

from __future__ import annotations

import io
import os

import pytest
import torch

from course_lib.train.checkpoint import (
    LAST, PREVIOUS, CheckpointError, CorruptCheckpointWarning, load_checkpoint, load_latest, rotate_and_save,
    save_checkpoint,
)


def state(epoch: int) -> dict:
    return {"epoch": epoch, "weights": torch.full((3, 3), float(epoch)), "history": {"loss": [0.5] * epoch},
            "rng": torch.get_rng_state()}


def test_round_trip_keeps_tensors_and_plain_types(tmp_path):
    path = save_checkpoint(state(3), tmp_path / "a.pt")
    loaded = load_checkpoint(path)
    assert loaded["epoch"] == 3 and loaded["history"] == {"loss": [0.5] * 3}
    assert torch.equal(loaded["weights"], torch.full((3, 3), 3.0))
    assert [p.name for p in tmp_path.iterdir()] == ["a.pt"]  # no temporary file left behind


@pytest.mark.parametrize("damage", ["truncate", "flip", "empty", "garbage"])
def test_damaged_files_are_detected_and_named(tmp_path, damage):
    path = save_checkpoint(state(1), tmp_path / "a.pt")
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        data = data[: len(data) - 100]
    elif damage == "flip":
        data[len(data) // 2] ^= 0xFF
    elif damage == "empty":
        data = bytearray()
    else:
        data = bytearray(os.urandom(500))
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=str(path)):
        load_checkpoint(path)


def test_missing_file_is_reported(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "nope.pt")


class Payload:
    """Would run code if unpickled by a plain pickle load."""

    def __reduce__(self):
        return (os.system, ("echo hacked > /dev/null",))


def test_a_file_that_would_run_code_is_refused_even_with_a_valid_checksum(tmp_path):
    import hashlib

    from course_lib.train.checkpoint import FOOTER_TAG

    buffer = io.BytesIO()
    torch.save({"model": Payload()}, buffer)
    payload = buffer.getvalue()
    path = tmp_path / "evil.pt"
    path.write_bytes(payload + FOOTER_TAG + hashlib.sha256(payload).digest())
    with pytest.raises(CheckpointError, match="could not be loaded safely"):
        load_checkpoint(path)


def test_rotation_keeps_last_and_previous(tmp_path):
    for epoch in (1, 2, 3):
        rotate_and_save(state(epoch), tmp_path)
    assert load_checkpoint(tmp_path / LAST)["epoch"] == 3
    assert load_checkpoint(tmp_path / PREVIOUS)["epoch"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == [LAST, PREVIOUS]


def test_load_latest_warns_about_a_corrupt_last_and_uses_previous(tmp_path):
    for epoch in (1, 2):
        rotate_and_save(state(epoch), tmp_path)
    (tmp_path / LAST).write_bytes(b"\0" * 10)
    with pytest.warns(CorruptCheckpointWarning, match=str(tmp_path / LAST)):
        loaded, path = load_latest(tmp_path)
    assert path == tmp_path / PREVIOUS and loaded["epoch"] == 1


def test_load_latest_with_nothing_usable(tmp_path):
    assert load_latest(tmp_path) is None
    (tmp_path / LAST).write_bytes(b"broken")
    with pytest.warns(CorruptCheckpointWarning), pytest.raises(CheckpointError, match="no usable checkpoint"):
        load_latest(tmp_path)


def test_a_kill_between_the_two_renames_loses_nothing(tmp_path):
    """Simulate death after last.pt moved to previous.pt but before the staged file took its place."""
    rotate_and_save(state(1), tmp_path)
    save_checkpoint(state(2), tmp_path / f".{LAST}.staged")
    os.replace(tmp_path / LAST, tmp_path / PREVIOUS)
    loaded, _ = load_latest(tmp_path)
    assert loaded["epoch"] == 2


# ----------------------------------------------------------------------------------------------
# which network a checkpoint holds: the model's name beside its recipe (format 2), or a whole spec (format 1)
# ----------------------------------------------------------------------------------------------
def _arrays(n: int = 8, size: int = 32) -> dict:
    generator = torch.Generator().manual_seed(n)
    labels = (torch.rand(n, size, size, generator=generator) > 0.5).float()
    return {"images": (0.5 * labels + 0.25).numpy(), "labels": labels.numpy()}


def test_a_course_network_is_stored_as_its_name_beside_its_recipe_and_rebuilt_from_them(tmp_path):
    from course_lib.nn import CFCM18
    from course_lib.train import fit, get_config, load_model
    from course_lib.train.checkpoint import BEST, recorded_spec

    config = get_config("quick", base=4, norm="batch", epochs=1, size=32, limit_images=None)
    model = config.model_spec("cfcm18").build()
    fit(model, _arrays(), _arrays(), config=config, out_dir=tmp_path, device="cpu", progress=False)
    for name in (LAST, BEST):
        state = load_checkpoint(tmp_path / name)
        assert state["format"] == 2 and state["model_name"] == "cfcm18" and "model_spec" not in state, name
        assert state["config"]["base"] == 4 and state["config"]["norm"] == "batch"  # width and norm once: the recipe's
        assert recorded_spec(state, tmp_path / name) == config.model_spec("cfcm18")
    rebuilt, _ = load_model(tmp_path / BEST)
    assert isinstance(rebuilt, CFCM18) and rebuilt.encoder.base == 4 and rebuilt.encoder.norm == "batch"
    for key, value in model.state_dict().items():
        assert torch.equal(rebuilt.state_dict()[key], value), key


@pytest.mark.parametrize("spec", [{"name": "ladder34", "base": 4, "norm": "instance"},
                                  {"name": "ladder34", "base": 4, "batch_norm": True}])
def test_a_checkpoint_of_format_1_still_loads(tmp_path, spec):
    """Format 1 (the shipped weights' among them) stored the whole spec as ``model_spec``; before the normalisation
    became a choice it said ``batch_norm``."""
    from course_lib.nn import Ladder34
    from course_lib.train import get_config, load_model

    torch.manual_seed(0)
    written = Ladder34(base=4, norm=spec.get("norm", "batch"))
    config = get_config("quick", base=64, norm=None).to_dict()  # format 1 did not read the recipe's width
    save_checkpoint({"format": 1, "epoch": 1, "val_dice": 0.5, "model": written.state_dict(), "config": config,
                     "model_spec": spec, "precision": "fp32"}, tmp_path / "best.pt")
    model, state = load_model(tmp_path / "best.pt")
    assert isinstance(model, Ladder34) and model.encoder.norm == spec.get("norm", "batch")
    for key, value in written.state_dict().items():
        assert torch.equal(model.state_dict()[key], value), key


def test_a_checkpoint_without_a_course_network_says_so(tmp_path):
    from course_lib.train import get_config, load_model

    save_checkpoint({"format": 2, "model": {}, "config": get_config("quick").to_dict(), "model_name": None},
                    tmp_path / "peer.pt")
    with pytest.raises(ValueError, match="does not record which model it holds"):
        load_model(tmp_path / "peer.pt")


def test_fit_refuses_a_course_network_the_recipe_did_not_build():
    from course_lib.nn import build_model
    from course_lib.train import fit, get_config

    config = get_config("quick", epochs=1, size=32)
    with pytest.raises(ValueError, match=r"built with base 8 and norm None, but the recipe 'quick' says base 4 and "
                                         r"norm 'instance'"):
        fit(build_model("cfcm34", base=8), _arrays(), _arrays(), config=config, device="cpu", progress=False)
