"""The instructor's commands, behind the thin scripts in ``tools/``: grade a class, keep its gradebook, release.

    python tools/grade_class.py SUBMITTED --out grades [--workers N] [--timeout S] [--no-feedback] [--shard K/N]
    python tools/grade_class.py --merge grades-shard-* --out grades
    python tools/gradebook.py register                       # what `make instructor` runs first
    python tools/gradebook.py awaiting marks.csv             # the written answers to grade, to fill in
    python tools/gradebook.py marks marks.csv                # hand-given marks into the gradebook
    python tools/gradebook.py export --grades grades [--canvas EXPORT.csv] [--moodle EXPORT.csv]
    python tools/release.py [--solutions S --release R] [ASSIGNMENT ...]
    python tools/exercise.py NOTEBOOK --title T --points P --function NAME [--params ARGS] [--module M]

The gradebook is the one formgrader shows: ``gradebook.db`` in the course directory (``--course-dir``, by default
the checkout's root, where ``make instructor`` runs formgrader). Every command exits 0 when all went well, 1 when
something needs the instructor (a notebook not graded, a mark refused) and 2 on bad input, saying why.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from pathlib import Path

from course_lib.instructor.course import NbgraderError, checkout

__all__ = ["grade_main", "gradebook_main", "release_main", "exercise_main"]


def _shard(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d+)/(\d+)", text)
    if not match or not 1 <= int(match[1]) <= int(match[2]):
        raise argparse.ArgumentTypeError(f"--shard takes K/N with 1 <= K <= N, e.g. 2/8; got {text!r}")
    return int(match[1]), int(match[2])


def _course_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--course-dir", type=Path, default=None,
                        help="the course directory whose gradebook.db formgrader shows (default: the checkout)")
    parser.add_argument("--solutions", type=Path, default=None, help="assignment sources (default: solutions/)")


def _grade_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="grade_class.py", description="Grade a whole class with nbgrader, in "
                                     "parallel, nothing lost; record it in the instructor's gradebook.")
    parser.add_argument("submitted", type=Path, nargs="?", help="folder of <student>/<assignment>/<notebook>.ipynb")
    parser.add_argument("--out", type=Path, required=True, help="where grades.csv, feedback/ ... are written")
    parser.add_argument("--workers", type=int, default=None, help="parallel graders (default: all cores)")
    parser.add_argument("--timeout", type=float, default=None, help="per-cell limit in seconds (default: config)")
    parser.add_argument("--no-feedback", action="store_true", help="skip the feedback HTML")
    parser.add_argument("--all-cells", action="store_true", help="run every demonstration cell too (default: those "
                        "no graded cell needs are skipped; the grades are the same)")
    parser.add_argument("--shard", type=_shard, default=None, help="grade only shard K of N, e.g. 2/8 (recorded "
                        "in the gradebook by --merge)")
    parser.add_argument("--merge", type=Path, nargs="+", default=None, metavar="DIR",
                        help="join these grade_class outputs (one per shard) into --out instead of grading")
    parser.add_argument("--no-record", action="store_true", help="leave the course directory's gradebook alone")
    _course_options(parser)
    return parser


def _summary(report) -> None:
    autograde = [s for s in report.steps if s.step == "autograde"]
    notebooks = len(report.statuses)
    repaired = sum(bool(status.notes) and status.graded for status in report.statuses.values())
    print(f"graded {notebooks - len(report.not_graded)} of {notebooks} notebooks ({repaired} repaired) with "
          f"{report.workers} workers in {report.seconds:.1f} s "
          f"(autograde {sum(s.seconds for s in autograde) / max(1, notebooks):.1f} s per notebook per worker)")
    print(f"grades: {report.grades_csv}\nper exercise: {report.cell_grades_csv}\nreport: "
          f"{report.out_dir / 'class_report.html'}")
    if report.recorded_in is not None:
        print(f"recorded in {report.recorded_in / 'gradebook.db'}: grade the written answers in formgrader "
              "(make instructor) or with tools/gradebook.py marks, then run tools/gradebook.py export")
    for failure in report.failures:
        print(f"problem: {failure}", file=sys.stderr)
    if report.not_graded:
        print(f"{len(report.not_graded)} notebook(s) not graded: "
              + ", ".join(f"{s}/{a}" for s, a in report.not_graded), file=sys.stderr)


def grade_main(argv: list[str] | None = None) -> int:
    """``tools/grade_class.py``: grade a class (or merge shards) and record it in the gradebook."""
    from course_lib.instructor.class_grading import grade_class, merge

    args = _grade_parser().parse_args(argv)
    try:
        record = None if args.no_record or (args.shard and not args.merge) else (args.course_dir or checkout())
        if args.merge:
            missing = merge(args.merge, args.out, args.solutions, record_in=record)
            print(f"merged {len(args.merge)} shard(s) into {args.out}: {missing} notebook(s) not graded"
                  + (f"; recorded in {record / 'gradebook.db'}" if record else ""))
            return 1 if missing else 0
        if args.submitted is None:
            _grade_parser().error("give the folder of submissions (or --merge DIR ...)")
        report = grade_class(args.submitted, args.out, solutions_dir=args.solutions, workers=args.workers,
                             timeout=args.timeout, feedback=not args.no_feedback, shard=args.shard, record_in=record,
                             all_cells=args.all_cells)
    except (FileNotFoundError, ValueError, NbgraderError) as error:
        print(f"grade_class: {error}", file=sys.stderr)
        return 2
    _summary(report)
    return 1 if report.not_graded else 0


def _gradebook_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gradebook.py", description="The instructor's gradebook (the one "
                                     "formgrader shows): register, hand-given marks, final grades for an LMS.")
    commands = parser.add_subparsers(dest="command", required=True)
    _course_options(commands.add_parser("register", help="put the assignments into the gradebook"))
    awaiting = commands.add_parser("awaiting", help="write the written answers awaiting a hand grade, to fill in")
    awaiting.add_argument("file", type=Path)
    marks = commands.add_parser("marks", help="hand-given marks (student_id,notebook,grade_id,points[,comment])")
    marks.add_argument("file", type=Path)
    export = commands.add_parser("export", help="final grades (hand marks included), the sheets, the report and "
                                 "the LMS files")
    export.add_argument("--grades", type=Path, required=True, help="the --out folder of grade_class")
    export.add_argument("--canvas", type=Path, default=None, help="Canvas's gradebook export (the roster)")
    export.add_argument("--moodle", type=Path, default=None, help="Moodle's grade export or participants list")
    export.add_argument("--missing", choices=("blank", "zero"), default="blank",
                        help="a roster student's notebook without a grade (default: blank)")
    export.add_argument("--canvas-match", default=None, help="the Canvas column holding nbgrader's student ids")
    export.add_argument("--moodle-match", default=None, help="the Moodle column holding nbgrader's student ids")
    for sub in (awaiting, marks, export):
        _course_options(sub)
    return parser


def _write_rows(path: Path, rows: list[dict[str, str]], columns: list[str]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def _export(args: argparse.Namespace, course_dir: Path, solutions: Path) -> int:
    from course_lib.instructor.class_grading import publish
    from course_lib.instructor.gradebook import assignment_points, gradebook_url
    from course_lib.instructor.lms import export_lms, final_grades, read_roster, write_final_grades
    from course_lib.instructor.tables import Notes, read_notes

    url = gradebook_url(course_dir)
    if not (course_dir / "gradebook.db").is_file():
        raise FileNotFoundError(f"{course_dir / 'gradebook.db'} does not exist: grade the class first "
                                "(tools/grade_class.py, or formgrader in make instructor)")
    args.grades.mkdir(parents=True, exist_ok=True)
    graded_here = (args.grades / "grades.csv").is_file()  # else graded with formgrader alone: no statuses to keep
    notes = read_notes(args.grades) if graded_here else Notes({}, {})
    grades = final_grades(publish(args.grades, url, notes, solutions))
    points = {name: value for name, value in assignment_points(url).items()
              if any(name in grade.scores for grade in grades.values())}
    write_final_grades(args.grades / "final_grades.csv", grades, points)
    rosters = {lms: read_roster(path, lms) for lms, path in (("canvas", args.canvas), ("moodle", args.moodle)) if path}
    export = export_lms(args.grades, grades, points, rosters, zero_missing=args.missing == "zero",
                        match={"canvas": args.canvas_match, "moodle": args.moodle_match})
    for path in [args.grades / "final_grades.csv", *export.files]:
        print(f"wrote {path}")
    for lms, column in export.matched_by.items():
        print(f"{lms}: students matched by the roster's {column!r}")
    waiting = sum(grade.awaiting > 0 for grade in grades.values())
    for warning in export.warnings + ([f"{waiting} student(s) have written answers awaiting manual grading: their "
                                       "totals are not final"] if waiting else []):
        print(f"warning: {warning}", file=sys.stderr)
    return 0


def gradebook_main(argv: list[str] | None = None) -> int:
    """``tools/gradebook.py``: register, awaiting, marks, export."""
    from course_lib.instructor.gradebook import (MARK_COLUMNS, apply_marks, awaiting_marks, gradebook_url,
                                                 read_marks, register)

    args = _gradebook_parser().parse_args(argv)
    try:
        course_dir = (args.course_dir or checkout()).resolve()
        solutions = args.solutions or checkout() / "solutions"
        if args.command == "register":
            names = register(course_dir, solutions)
            print(f"registered {', '.join(names) or 'nothing (every assignment is up to date)'} in "
                  f"{course_dir / 'gradebook.db'}")
        elif args.command == "awaiting":
            rows = awaiting_marks(gradebook_url(course_dir), course_dir / "autograded")
            _write_rows(args.file, rows, MARK_COLUMNS + ["max_points", "answer"])
            print(f"{len(rows)} written answer(s) await a hand grade: fill the points column of {args.file}, then "
                  f"run tools/gradebook.py marks {args.file}")
        elif args.command == "marks":
            count = apply_marks(gradebook_url(course_dir), read_marks(args.file))
            print(f"{count} mark(s) written into {course_dir / 'gradebook.db'}")
        else:
            return _export(args, course_dir, solutions)
    except ValueError as error:
        print(f"gradebook: {error}", file=sys.stderr)
        return 1
    except (FileNotFoundError, NbgraderError) as error:
        print(f"gradebook: {error}", file=sys.stderr)
        return 2
    return 0


def release_main(argv: list[str] | None = None) -> int:
    """``tools/release.py`` (``make release``): solutions/ -> notebooks/, never over typed answers."""
    from course_lib.instructor.release import generate_release

    parser = argparse.ArgumentParser(prog="release.py", description="nbgrader's student release of solutions/, "
                                     "written to notebooks/ (refused over answers typed into it).")
    parser.add_argument("assignments", nargs="*", help="assignment names (default: every folder in --solutions)")
    parser.add_argument("--solutions", type=Path, default=None, help="source folder (default: solutions/)")
    parser.add_argument("--release", type=Path, default=None, help="release folder (default: notebooks/)")
    args = parser.parse_args(argv)
    try:
        solutions = args.solutions or checkout() / "solutions"
        release = args.release or checkout() / "notebooks"
        names = generate_release(solutions, release, args.assignments or None)
    except (NbgraderError, FileNotFoundError) as error:
        print(f"release failed: {error}", file=sys.stderr)
        return 1
    if not names:
        print(f"no assignments in {solutions} (expected {solutions}/<name>/<name>.ipynb)")
    for name in names:
        print(f"released {name} -> {release / name}")
    return 0


def exercise_main(argv: list[str] | None = None) -> int:
    """``tools/exercise.py``: a new exercise's cells in a solution notebook, and its checker's skeleton printed."""
    from course_lib.instructor.scaffold import NewExercise, ScaffoldError, add_exercise

    parser = argparse.ArgumentParser(prog="exercise.py", description="Add an exercise's cells (statement, hint, "
                                     "answer, test with hidden tests) to solutions/NOTEBOOK/NOTEBOOK.ipynb and print "
                                     "the checker to write. CONTRIBUTING.md, 'A new exercise', says what follows.")
    parser.add_argument("notebook", help="the assignment, e.g. 01_data_transforms")
    parser.add_argument("--title", required=True, help="the heading's title, e.g. 'min-max normalisation'")
    parser.add_argument("--points", required=True, type=float, help="its points (the checker declares them)")
    answer = parser.add_mutually_exclusive_group(required=True)
    answer.add_argument("--function", help="the function the student writes, e.g. normalise")
    answer.add_argument("--class", dest="class_name", help="or the class, e.g. MinMaxNormalise: its __call__(self, "
                        "data) is the exercise, as for notebook 1's transforms")
    parser.add_argument("--params", default="", help="its parameters (a class's: its constructor's), e.g. "
                        "'image, low=0.0'")
    parser.add_argument("--module", default=None, help="the checker's module in course_lib.grading (default: the "
                        "one the notebook imports most of its checks from)")
    parser.add_argument("--grade-id", dest="base", default=None, help="the grade ids' stem (default: the answer's "
                        "name in kebab case)")
    parser.add_argument("--before", default=None, help="insert before the cell with this id or grade id (default: "
                        "after the last exercise's section)")
    parser.add_argument("--solutions", type=Path, default=None, help="source folder (default: solutions/)")
    args = parser.parse_args(argv)
    solutions = args.solutions or checkout() / "solutions"
    path = solutions / args.notebook / f"{args.notebook}.ipynb"
    if not path.is_file():
        print(f"error: no {path}", file=sys.stderr)
        return 2
    new = NewExercise(args.notebook, args.title, args.points, args.function or args.class_name, args.params,
                      args.module, args.base, is_class=args.class_name is not None)
    try:
        number, skeleton = add_exercise(path, new, args.before)
    except ScaffoldError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"added exercise {number} ({args.points:g} point{'' if args.points == 1 else 's'}) to {path}: write its statement, hint and the course's "
          f"answer in the cells marked TODO, then write {new.check}:\n")
    print(skeleton)
    print("Then (CONTRIBUTING.md, 'A new exercise'): partial answers and causes in tests/test_partial_answers.py, a "
          "later cell that puts the answer to work (yours_or_reference), README's counts, "
          f"`make release NOTEBOOK={args.notebook}` and `make check NOTEBOOK={args.notebook}`.")
    return 0
