"""Files that are either wholly written or not there: the guard for caches and checkpoints against crashes.

A process killed mid-write (a Colab runtime that disconnects, Ctrl-C, a full disk) must never leave a half file
where a good one is expected. Writing goes to a temporary file in the target's folder, is flushed to disk, and
only then renamed over the target with ``os.replace``, which is atomic on POSIX and Windows.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

__all__ = ["atomic_writer"]


@contextmanager
def atomic_writer(path: str | Path) -> Iterator[BinaryIO]:
    """A binary handle whose bytes replace ``path`` when the block ends normally; on any error nothing changes."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
