"""The course-wide switches, read in one place.

Quick mode shrinks images, epochs and dataset sizes so that every notebook runs in a
minute or two on a laptop CPU. It is on in CI, while nbgrader grades or validates, and
whenever a user asks for it; notebooks never need to be edited to get it.
"""

from __future__ import annotations

import os
from pathlib import Path

QUICK_ENV_VARS = ("COURSE_QUICK", "CI", "NBGRADER_EXECUTION")
_FALSE_WORDS = {"", "0", "false", "no", "off"}


def quick_mode() -> bool:
    """True when ``COURSE_QUICK``, ``CI`` or ``NBGRADER_EXECUTION`` is set to a true value."""
    return any(os.environ.get(name, "").strip().lower() not in _FALSE_WORDS for name in QUICK_ENV_VARS)


def repository_root() -> Path | None:
    """The course checkout this package lives in, or None when installed elsewhere (e.g. Colab)."""
    candidate = Path(__file__).resolve().parent.parent
    if (candidate / "pyproject.toml").is_file() and (candidate / "solutions").is_dir():
        return candidate
    return None


def data_root() -> Path:
    """Where datasets and caches live: ``$CFCM_DATA_ROOT``, else ``<checkout>/data``, else ``~/.cache/cfcm-course``."""
    configured = os.environ.get("CFCM_DATA_ROOT")
    if configured:
        return Path(configured).expanduser().resolve()
    root = repository_root()
    if root is not None:
        return root / "data"
    return Path.home() / ".cache" / "cfcm-course"
