"""The data command: ``python -m course_lib data download|phantom|prepare`` (and ``python -m course_lib.data ...``,
the same command under its older name, which tools and messages still give).

``download`` fetches and verifies the real Montgomery set (``make data``); ``phantom`` writes the offline set;
``prepare`` prepares (and caches) every case of a folder and prints cold and cached seconds as one JSON line. Bad
input (a failed download, a broken dataset) raises :class:`DatasetError`, which the command line prints as one
``error: ...`` line before exiting with status 2, as it does for ``train`` and ``evaluate``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from course_lib.data.errors import DatasetError
from course_lib.data.sources import SOURCES

__all__ = ["DESCRIPTION", "add_arguments", "run"]

DESCRIPTION = "download the real Montgomery set, write the offline phantom set, or time preparing a folder"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The data command's actions and their options, added to ``parser``."""
    actions = parser.add_subparsers(dest="action", required=True)
    download = actions.add_parser("download", help="download and verify the real Montgomery set")
    download.add_argument("--root", type=Path, default=None, help="target folder (default: <data root>/montgomery)")
    download.add_argument("--url", default=None, help="mirror URL (file:// works)")
    download.add_argument("--sha256", default=None, help="expected sha256 of the archive at --url")
    phantom = actions.add_parser("phantom", help="generate the offline phantom set")
    phantom.add_argument("--root", type=Path, default=None, help="target folder (default: <data root>/phantom)")
    phantom.add_argument("--n-cases", type=int, default=138)
    phantom.add_argument("--seed", type=int, default=0)
    prepare = actions.add_parser("prepare", help="prepare every case of a folder, print cold and cached seconds")
    prepare.add_argument("--data", type=Path, default=None, help="MontgomerySet folder (default: the course's)")
    prepare.add_argument("--size", type=int, default=256)


def run(arguments: argparse.Namespace) -> str:
    """Carry out the parsed action; the line to print. Raises :class:`DatasetError` on bad input."""
    if arguments.action == "download":
        from course_lib.data.montgomery import MONTGOMERY_SHA256, MONTGOMERY_URL, download_montgomery

        root = arguments.root or SOURCES["montgomery"].folder().parent
        folder = download_montgomery(root, url=arguments.url or MONTGOMERY_URL,
                                     sha256=arguments.sha256 or MONTGOMERY_SHA256)
        return f"Montgomery set ready in {folder}"
    if arguments.action == "phantom":
        from course_lib.data.phantom import make_phantom_dataset

        root = arguments.root or SOURCES["phantom"].folder().parent
        started = time.perf_counter()
        folder = make_phantom_dataset(root, n_cases=arguments.n_cases, seed=arguments.seed)
        return f"phantom set ready in {folder} ({time.perf_counter() - started:.1f} s)"
    from course_lib.data.prepare import prepare_arrays
    from course_lib.data.sources import default_dataset

    folder = arguments.data or default_dataset()
    timings = {}
    for label in ("first", "second"):
        started = time.perf_counter()
        result = prepare_arrays(folder, size=arguments.size)
        timings[f"{label}_seconds"] = round(time.perf_counter() - started, 3)
    return json.dumps({"data": str(folder), "cases": len(result["names"]), "size": arguments.size, **timings})
