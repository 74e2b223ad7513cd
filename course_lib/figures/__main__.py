"""``python -m course_lib.figures OUT_DIR [--only NAME ...]``: ``python -m course_lib figures ...`` under its older
name, which tools still give. It runs that command in its place (same arguments, output and exit status)."""

import os
import sys

if __name__ == "__main__":
    os.execv(sys.executable, [sys.executable, "-m", "course_lib", "figures", *sys.argv[1:]])
