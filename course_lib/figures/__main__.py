"""``python -m course_lib.figures OUT_DIR [--only NAME ...]``: the same command as ``python -m course_lib figures
...`` (:mod:`course_lib.figures.command`), kept under this name because tools give it."""

from __future__ import annotations

import argparse
import sys

from course_lib.figures.command import DESCRIPTION, FigureError, add_arguments, run


def main(argv: list[str] | None = None) -> int:
    """Parse, run, print; a folder that cannot be written prints one ``error: ...`` line and returns 2."""
    parser = argparse.ArgumentParser(prog="python -m course_lib.figures", description=DESCRIPTION)
    add_arguments(parser)
    arguments = parser.parse_args(argv)
    try:
        print(run(arguments))
    except FigureError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
