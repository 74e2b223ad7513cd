"""``python -m course_lib.figures OUT_DIR [--only NAME ...]``: redraw the teaching figures."""

from __future__ import annotations

import argparse
import sys

from course_lib.figures.catalogue import FIGURE_NAMES, draw_all


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_lib.figures",
                                     description="Redraw the course's teaching figures into a folder.")
    parser.add_argument("out_dir", help="folder to write the PNG (and SVG) files into, e.g. assets")
    parser.add_argument("--only", nargs="+", metavar="NAME", choices=FIGURE_NAMES,
                        help="draw only these figures (default: all)")
    args = parser.parse_args(argv)
    written = draw_all(args.out_dir, args.only)
    print(f"wrote {len(written)} files to {args.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
