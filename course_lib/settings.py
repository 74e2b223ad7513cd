"""The course-wide switches, read in one place.

Quick mode shrinks images, epochs and dataset sizes so that every notebook runs in a
minute or two on a laptop CPU. It is on in CI, while nbgrader grades or validates, and
whenever a user asks for it; notebooks never need to be edited to get it.

Strict checks decide what a failed exercise check does. In a student's own session it shows
"not yet" in place and the notebook runs on (Run All reaches the end); where a grade is taken
(nbgrader's autograde and validate set ``NBGRADER_EXECUTION``) or where a failure must stop a
run (the test suite sets ``COURSE_STRICT_CHECKS``), it raises.
"""

from __future__ import annotations

import os
from pathlib import Path

QUICK_ENV_VARS = ("COURSE_QUICK", "CI", "NBGRADER_EXECUTION")
STRICT_ENV_VARS = ("COURSE_STRICT_CHECKS", "NBGRADER_EXECUTION")
_FALSE_WORDS = {"", "0", "false", "no", "off"}


def _any_set(names: tuple[str, ...]) -> bool:
    return any(os.environ.get(name, "").strip().lower() not in _FALSE_WORDS for name in names)


def quick_mode() -> bool:
    """True when ``COURSE_QUICK``, ``CI`` or ``NBGRADER_EXECUTION`` is set to a true value."""
    return _any_set(QUICK_ENV_VARS)


def strict_checks() -> bool:
    """True when a failed exercise check must raise: under nbgrader or with ``COURSE_STRICT_CHECKS`` set."""
    return _any_set(STRICT_ENV_VARS)


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
