"""Time to prepare the dataset (load, crop, resize) cold, then again from the on-disk cache.

Runs against a fresh, temporary cache folder (``CFCM_DATA_ROOT``) so the first call is really cold.

    python benchmarks/prepare_data.py [--data DIR] [--sizes 128 256]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from common import machine, table
from montgomery_cpu import DEFAULT_DATA


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA if DEFAULT_DATA.is_dir() else None,
                        help="MontgomerySet folder (default: the real set if present, else the phantom set)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[128, 256])
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        os.environ["CFCM_DATA_ROOT"] = scratch  # before course_lib.data looks at it: an empty cache
        from course_lib.data import default_dataset, prepare_arrays

        data = arguments.data or default_dataset()
        rows = []
        for size in arguments.sizes:
            timings = []
            for _ in ("cold", "cached"):
                started = time.perf_counter()
                arrays = prepare_arrays(data, size=size, progress=False)
                timings.append(time.perf_counter() - started)
            rows.append([size, len(arrays["names"]), timings[0], timings[1], timings[0] / max(timings[1], 1e-9)])
    print(f"dataset preparation, {data}: {machine()}")
    print(table(["size", "images", "cold s", "cached s", "speed-up"], rows))


if __name__ == "__main__":
    main()
