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
