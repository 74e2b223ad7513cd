#!/usr/bin/env python3
"""Add an exercise to a solution notebook: its statement, hint, answer and test cells, and the checker to write.

    python tools/exercise.py 01_data_transforms --title "min-max normalisation" --points 2 \\
        --function normalise --params image

See course_lib/instructor/scaffold.py and CONTRIBUTING.md, "A new exercise and its checker".
"""

import sys

from course_lib.instructor.commands import exercise_main

if __name__ == "__main__":
    sys.exit(exercise_main())
