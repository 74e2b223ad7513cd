#!/usr/bin/env python3
"""The instructor's gradebook (the one formgrader shows): register the assignments, hand-given marks, final grades.

    python tools/gradebook.py register
    python tools/gradebook.py awaiting marks.csv        # the written answers awaiting a hand grade, to fill in
    python tools/gradebook.py marks marks.csv           # write the filled-in marks
    python tools/gradebook.py export --grades grades [--canvas CANVAS_EXPORT.csv] [--moodle MOODLE_EXPORT.csv]

See course_lib/instructor/gradebook.py, lms.py and the README's instructor section.
"""

import sys

from course_lib.instructor.commands import gradebook_main

if __name__ == "__main__":
    sys.exit(gradebook_main())
