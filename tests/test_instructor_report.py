"""The class report says what to teach again: unstarted answers apart from wrong ones, wrong ones grouped by their
cause (not by their numbers), the cause first and whole, written answers awaiting a hand grade read as awaiting;
and the page opens from disk, offline."""

from __future__ import annotations

import re

from course_lib.grading.diagnosis import Failure, Kind
from course_lib.instructor.report import Exercise, exercise_stats, report_html, write_report
from course_lib.instructor.status import GRADED, CellState
from course_lib.instructor.tables import CellRow, NotebookRow
from grading_helpers import FIXTURE_SOLUTIONS

LONG_CAUSE = ("returned …; nn.Conv2d gives …. It looks like you forgot the `+ 1` (n pixels hold n - k + 1 positions "
              "of a k-pixel kernel), which every output size formula needs once the kernel has slid over the last "
              "position it fits, padding included on both sides of the input.")
UNSTARTED = Failure(Kind.NOT_STARTED, "the answer is not written yet", "size: raised NotImplementedError.")


def wrong(numbers: str) -> Failure:
    return Failure(Kind.WRONG, LONG_CAUSE, f"conv_output_size({numbers}) returned 4; nn.Conv2d gives 5.")


def cells() -> list[CellRow]:
    rows = []
    for k, student in enumerate(f"s{n:02d}" for n in range(10)):
        if k < 5:
            rows.append(CellRow(student, "a", "a", "size-test", 2.0, 2.0, CellState.AUTOGRADED))
        elif k < 8:
            rows.append(CellRow(student, "a", "a", "size-test", 0.0, 2.0, CellState.AUTOGRADED,
                                failure=wrong(f"{k}, 3, 1, 0, 1")))
        else:
            rows.append(CellRow(student, "a", "a", "size-test", 0.0, 2.0, CellState.AUTOGRADED, failure=UNSTARTED))
        rows.append(CellRow(student, "a", "a", "think", None, 1.0, CellState.AWAITING))
    return rows


KNOWN = [Exercise("a", "size-test", "Exercise 1 (2 points): output size", False),
         Exercise("a", "think", "Think 1 (1 point): why", True)]


def test_unstarted_answers_are_counted_apart_and_wrong_ones_grouped_by_cause():
    stats = {stat.exercise.grade_id: stat for stat in exercise_stats(cells(), KNOWN)}
    size = stats["size-test"]
    assert (size.not_started, size.wrong, len(size.scores)) == (2, 3, 10)
    assert list(size.causes.values()) == [3], "three students, three sets of numbers, one cause"
    assert stats["think"].awaiting == 10 and stats["think"].mean is None


def test_the_page_shows_the_cause_first_and_whole_and_awaiting_as_awaiting():
    notebooks = [NotebookRow("a", f"s{n:02d}", 2.0, 3.0, GRADED, 1.0) for n in range(10)]
    page = report_html(notebooks, exercise_stats(cells(), KNOWN))
    assert LONG_CAUSE in page.replace("&#x27;", "'"), "the cause is shown whole, never cut"
    overview = page.split("<h2>What to teach again")[1].split("</ol>")[0]
    assert "<b>3 students</b>" in overview and "It looks like you forgot the `+ 1`" in overview
    assert "not written yet" not in overview, "an unstarted answer is not a mistake to reteach"
    row = page.split("<tr><td>Exercise 1 (2 points): output size</td>")[1].split("</tr>")[0]
    assert "3<small> (30%)</small>" in row and "2<small> (20%)</small>" in row, "wrong 3, not started 2"
    assert "awaiting manual grading: 10 of 10" in page and "<td>0.00 / 1</td>" not in page


def test_the_report_opens_offline(tmp_path):
    notebooks = [NotebookRow("00_fixture", "s00", 3.0, 3.0, GRADED, 0.0)]
    rows = [CellRow("s00", "00_fixture", "00_fixture", "test_running_total", 1.0, 1.0, CellState.AUTOGRADED)]
    write_report(tmp_path, notebooks, rows, FIXTURE_SOLUTIONS)
    page = (tmp_path / "class_report.html").read_text()
    assert "<script" not in page and "http://" not in page and "https://" not in page
    assert re.findall(r"src='([^',]*)", page) == ["data:image/png;base64"]
    assert "Exercise 1: running total" in page and (tmp_path / "exercise_stats.csv").is_file()
