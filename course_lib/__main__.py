"""Entry point: ``python -m course_lib train ...`` / ``python -m course_lib evaluate ...`` (see course_lib.cli)."""

import sys

from course_lib.cli import main

if __name__ == "__main__":
    sys.exit(main())
