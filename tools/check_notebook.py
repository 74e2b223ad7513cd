#!/usr/bin/env python3
"""`make check NOTEBOOK=<name>`: the checks of one notebook, and of no other.

It runs, in quick mode and with ``COURSE_NOTEBOOK=<name>`` (which the notebook-by-notebook tests read, so they take
that notebook alone and skip the fixture):

* its checkers' own tests: every ``tests/test_grading_*.py`` that names one of the notebook's checker modules
  (``course_lib.grading.feedback.checker_modules``: the modules of course_lib/grading that write its name);
* ``tests/test_points_agree.py`` (heading, nbgrader points and checker agree), ``tests/test_grading_feedback.py``
  (its progress table) and ``tests/test_hints.py`` (no hint gives an answer away);
* ``tests/test_partial_answers.py``: every partial answer of its exercises, caught or graded full;
* ``tests/test_release.py``: notebooks/<name> is nbgrader's release of solutions/<name> (run `make release
  NOTEBOOK=<name>` first);
* ``tests/test_grading_roundtrip.py``: the real nbgrader round trip (release, four submissions, autograde,
  feedback), about a minute per notebook; ``--no-roundtrip`` leaves it out.

    python tools/check_notebook.py 01_data_transforms [--no-roundtrip] [PYTEST OPTIONS ...]
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from course_lib.grading.feedback import checker_modules
from course_lib.instructor.course import checkout, find_assignments

ALWAYS = ["tests/test_points_agree.py", "tests/test_grading_feedback.py", "tests/test_hints.py",
          "tests/test_partial_answers.py", "tests/test_release.py"]
ROUND_TRIP = "tests/test_grading_roundtrip.py"


def names_module(source: str, module: str) -> bool:
    """Whether ``source`` imports ``module`` (``course_lib.grading.transforms``), in either form."""
    package, _, name = module.rpartition(".")
    return bool(re.search(rf"\b{re.escape(module)}\b|from {re.escape(package)} import [^\n]*\b{name}\b", source))


def grading_tests(notebook: str, root: Path) -> list[str]:
    """The tests/test_grading_*.py files that import one of ``notebook``'s checker modules."""
    modules = checker_modules(notebook)
    return [str(path.relative_to(root)) for path in sorted((root / "tests").glob("test_grading_*.py"))
            if path.name != Path(ROUND_TRIP).name and any(names_module(path.read_text(encoding="utf-8"), module)
                                                          for module in modules)]


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    root = checkout()
    known = find_assignments(root / "solutions")
    if not args or args[0] not in known:
        print(f"usage: check_notebook.py NOTEBOOK [--no-roundtrip] [pytest options]; NOTEBOOK is one of "
              f"{', '.join(known)}", file=sys.stderr)
        return 2
    notebook, options = args[0], args[1:]
    tests = grading_tests(notebook, root) + ALWAYS
    if "--no-roundtrip" in options:
        options.remove("--no-roundtrip")
    else:
        tests.append(ROUND_TRIP)
    environment = os.environ | {"COURSE_NOTEBOOK": notebook, "COURSE_QUICK": "1", "MPLBACKEND": "Agg"}
    command = [sys.executable, "-m", "pytest", *tests, *options]
    print(f"COURSE_NOTEBOOK={notebook} {' '.join(command[1:])}", flush=True)
    return subprocess.run(command, cwd=root, env=environment, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
