"""Command line: ``python -m course_lib.data download|phantom|prepare [--root DIR]``.

``download`` fetches and verifies the real Montgomery set (``make data``); ``phantom`` writes the
offline set; ``prepare`` prepares (and caches) every case of a folder and prints cold/cached seconds.
Bad input (a failed download, a broken dataset) prints one ``error: ...`` line and exits with status 2, as
``python -m course_lib`` does.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from course_lib.data.errors import DatasetError
from course_lib.data.sources import SOURCES


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_lib.data", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    download = commands.add_parser("download", help="download and verify the real Montgomery set")
    download.add_argument("--root", type=Path, default=None, help="target folder (default: <data root>/montgomery)")
    download.add_argument("--url", default=None, help="mirror URL (file:// works)")
    download.add_argument("--sha256", default=None, help="expected sha256 of the archive at --url")
    phantom = commands.add_parser("phantom", help="generate the offline phantom set")
    phantom.add_argument("--root", type=Path, default=None, help="target folder (default: <data root>/phantom)")
    phantom.add_argument("--n-cases", type=int, default=138)
    phantom.add_argument("--seed", type=int, default=0)
    prepare = commands.add_parser("prepare", help="prepare every case of a folder, print cold and cached seconds")
    prepare.add_argument("--data", type=Path, default=None, help="MontgomerySet folder (default: the course's)")
    prepare.add_argument("--size", type=int, default=256)
    arguments = parser.parse_args(argv)
    try:
        if arguments.command == "download":
            from course_lib.data.montgomery import MONTGOMERY_SHA256, MONTGOMERY_URL, download_montgomery

            root = arguments.root or SOURCES["montgomery"].folder().parent
            folder = download_montgomery(root, url=arguments.url or MONTGOMERY_URL,
                                         sha256=arguments.sha256 or MONTGOMERY_SHA256)
            print(f"Montgomery set ready in {folder}")
        elif arguments.command == "phantom":
            from course_lib.data.phantom import make_phantom_dataset

            root = arguments.root or SOURCES["phantom"].folder().parent
            started = time.perf_counter()
            folder = make_phantom_dataset(root, n_cases=arguments.n_cases, seed=arguments.seed)
            print(f"phantom set ready in {folder} ({time.perf_counter() - started:.1f} s)")
        else:
            from course_lib.data.prepare import prepare_arrays
            from course_lib.data.sources import default_dataset

            folder = arguments.data or default_dataset()
            timings = {}
            for label in ("first", "second"):
                started = time.perf_counter()
                result = prepare_arrays(folder, size=arguments.size)
                timings[f"{label}_seconds"] = round(time.perf_counter() - started, 3)
            print(json.dumps({"data": str(folder), "cases": len(result["names"]), "size": arguments.size, **timings}))
    except DatasetError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
