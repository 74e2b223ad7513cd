"""``python -m course_lib.data download|phantom|prepare``: the same command as ``python -m course_lib data ...``
(:mod:`course_lib.data.command`), kept under this name because tools and messages give it."""

from __future__ import annotations

import argparse
import sys

from course_lib.data.command import DESCRIPTION, add_arguments, run
from course_lib.data.errors import DatasetError


def main(argv: list[str] | None = None) -> int:
    """Parse, run, print; bad input prints one ``error: ...`` line and returns 2."""
    parser = argparse.ArgumentParser(prog="python -m course_lib.data", description=DESCRIPTION)
    add_arguments(parser)
    arguments = parser.parse_args(argv)
    try:
        print(run(arguments))
    except DatasetError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
