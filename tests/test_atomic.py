"""A write that fails half-way leaves the old file as it was and no temporary file behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from course_lib.atomic import atomic_writer


def test_a_finished_write_replaces_the_file_and_creates_its_folder(tmp_path: Path) -> None:
    target = tmp_path / "runs" / "a" / "state.bin"
    with atomic_writer(target) as handle:
        handle.write(b"first")
    with atomic_writer(target) as handle:
        handle.write(b"second")
    assert target.read_bytes() == b"second"
    assert [p.name for p in target.parent.iterdir()] == ["state.bin"]


def test_a_crash_mid_write_keeps_the_old_file_and_cleans_up(tmp_path: Path) -> None:
    target = tmp_path / "state.bin"
    target.write_bytes(b"good")
    with pytest.raises(KeyboardInterrupt):
        with atomic_writer(target) as handle:
            handle.write(b"half of a new fi")
            raise KeyboardInterrupt  # Ctrl-C, a disconnecting runtime: anything, not just OSError
    assert target.read_bytes() == b"good"
    assert [p.name for p in tmp_path.iterdir()] == ["state.bin"], "the temporary file was left behind"
