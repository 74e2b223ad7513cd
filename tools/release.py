#!/usr/bin/env python3
"""`make release`: nbgrader's student release of every assignment in solutions/, written to notebooks/.

Each notebooks/<assignment>/ becomes exactly what `nbgrader generate_assignment` makes of
solutions/<assignment>/ (solutions replaced by stubs, hidden tests removed, cells locked, checksums added);
release folders whose source is gone are removed. nbgrader runs in a temporary course directory, so no
gradebook.db or working folder lands in the repository.

    python tools/release.py                       # solutions/ -> notebooks/
    python tools/release.py --solutions S --release R [ASSIGNMENT ...]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from nbgrader_course import REPO_ROOT, CourseDir, NbgraderError, find_assignments  # noqa: E402


def generate_release(solutions_dir: Path, out_dir: Path, assignments: list[str] | None = None,
                     *, prune: bool = True) -> list[str]:
    """Write nbgrader's release of ``assignments`` (default: all) from ``solutions_dir`` into ``out_dir``.

    Returns the assignment names written. With ``prune``, assignment folders in ``out_dir`` that have no
    source any more are deleted (only folders holding notebooks; other files are left alone).
    """
    solutions_dir, out_dir = Path(solutions_dir).resolve(), Path(out_dir).resolve()
    names = assignments or find_assignments(solutions_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="cfcm-release-") as scratch:
        course = CourseDir.create(Path(scratch) / "course", solutions_dir, names)
        for name in names:
            released = course.generate(name)
            target = out_dir / name
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(released, target)
    if prune and assignments is None:
        for stale in sorted(set(find_assignments(out_dir)) - set(names)):
            shutil.rmtree(out_dir / stale)
            print(f"removed {out_dir / stale}: no solutions/{stale} any more")
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("assignments", nargs="*", help="assignment names (default: every folder in --solutions)")
    parser.add_argument("--solutions", type=Path, default=REPO_ROOT / "solutions", help="source folder")
    parser.add_argument("--release", type=Path, default=REPO_ROOT / "notebooks", help="release folder")
    args = parser.parse_args(argv)
    try:
        names = generate_release(args.solutions, args.release, args.assignments or None)
    except (NbgraderError, FileNotFoundError) as error:
        print(f"release failed: {error}", file=sys.stderr)
        return 1
    if not names:
        print(f"no assignments in {args.solutions} (expected {args.solutions}/<name>/<name>.ipynb)")
    for name in names:
        print(f"released {name} -> {args.release / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
