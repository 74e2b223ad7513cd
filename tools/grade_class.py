#!/usr/bin/env python3
"""Grade a whole class with nbgrader, in parallel, nothing lost, and record it in the instructor's gradebook.

    python tools/grade_class.py SUBMITTED --out grades [--workers N] [--timeout S] [--no-feedback] [--shard K/N]
    python tools/grade_class.py --merge grades-shard-* --out grades

See course_lib/instructor/class_grading.py and the README's instructor section.
"""

import sys

from course_lib.instructor.commands import grade_main

if __name__ == "__main__":
    sys.exit(grade_main())
