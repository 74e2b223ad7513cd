"""The figures command: ``python -m course_lib figures OUT_DIR [--only NAME ...]`` (and ``python -m
course_lib.figures ...``, the same command under its older name, which tools give) redraws the teaching figures.

A folder that cannot be written raises :class:`FigureError`, which the command line prints as one ``error: ...``
line before exiting with status 2, as it does for ``train`` and ``evaluate``.
"""

from __future__ import annotations

import argparse

from course_lib.figures.catalogue import FIGURE_NAMES, draw_all

__all__ = ["DESCRIPTION", "FigureError", "add_arguments", "run"]

DESCRIPTION = "redraw the course's teaching figures into a folder"


class FigureError(Exception):
    """The figures could not be written; the message names the folder and the reason."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The figures command's arguments, added to ``parser``."""
    parser.add_argument("out_dir", help="folder to write the PNG (and SVG) files into, e.g. assets")
    parser.add_argument("--only", nargs="+", metavar="NAME", choices=FIGURE_NAMES,
                        help="draw only these figures (default: all)")


def run(arguments: argparse.Namespace) -> str:
    """Draw the figures the arguments name; the line to print. Raises :class:`FigureError`."""
    try:
        written = draw_all(arguments.out_dir, arguments.only)
    except OSError as error:
        raise FigureError(f"cannot write the figures into {arguments.out_dir}: {error.strerror or error}") from None
    return f"wrote {len(written)} files to {arguments.out_dir}"
