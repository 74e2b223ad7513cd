#!/usr/bin/env python3
"""`make release`: nbgrader's student release of every assignment in solutions/, written to notebooks/.

Refused, changing nothing, when a release notebook holds typed answers (course_lib.instructor.release).

    python tools/release.py                       # solutions/ -> notebooks/
    python tools/release.py --solutions S --release R [ASSIGNMENT ...]
"""

import sys

from course_lib.instructor.commands import release_main

if __name__ == "__main__":
    sys.exit(release_main())
