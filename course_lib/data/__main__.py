"""``python -m course_lib.data download|phantom|prepare``: ``python -m course_lib data ...`` under its older name,
which tools and messages still give. It runs that command in its place (same arguments, output and exit status)."""

import os
import sys

if __name__ == "__main__":
    os.execv(sys.executable, [sys.executable, "-m", "course_lib", "data", *sys.argv[1:]])
