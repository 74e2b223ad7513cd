"""What to teach again: per exercise, how many got it, how many did not start it, and what the others got wrong.

nbgrader gives an instructor a score per student; what to teach again is in how the students failed. Each failed
test carries its diagnosis (``course_lib.grading.diagnosis``): its kind and its cause. Here the rows of all students
are counted per exercise: unstarted answers apart from wrong ones, and the wrong ones grouped by their cause (the
same slip with other numbers is one cause), the cause shown first and whole, with one student's full message as an
example. Written answers awaiting a hand grade are counted as awaiting, never as zeros.

    OUT/exercise_stats.csv   one row per exercise
    OUT/class_report.html    the same, the most frequent mistakes of the class first, a score histogram per
                             assignment; self-contained (PNGs embedded, no script): opens from disk, offline
"""

from __future__ import annotations

import base64
import csv
import html
import io
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from course_lib.grading.diagnosis import Failure, Kind
from course_lib.instructor.status import CellState, Outcome
from course_lib.instructor.tables import CellRow, NotebookRow

__all__ = ["Exercise", "exercises", "exercise_stats", "report_html", "write_report", "STAT_COLUMNS"]

TOP_CAUSES = 3  # in exercise_stats.csv
SHOWN_CAUSES = 6  # per exercise in the page
OVERVIEW = 8  # the class's most frequent mistakes at the top of the page
STAT_COLUMNS = (["assignment", "grade_id", "exercise", "written", "max_points", "students", "mean_points",
                 "full_marks", "wrong", "not_started", "awaiting_manual"]
                + [f"{kind}_{k}" for k in range(1, TOP_CAUSES + 1) for kind in ("cause", "count")])


@dataclass(frozen=True)
class Exercise:
    """A graded cell as the notebook presents it: its heading, and whether it is a written answer graded by hand."""

    assignment: str
    grade_id: str
    title: str
    written: bool


HEADING = re.compile(r"^#+\s*((exercise|think)\b.*)$", re.I | re.M)


def exercises(solutions_dir: Path) -> list[Exercise]:
    """Every graded cell of the source notebooks, in the notebooks' order, under its heading: a test cell under the
    last "Exercise" heading before it, a written answer under the last "Think" heading (wherever in a markdown cell
    the heading stands)."""
    found = []
    for path in sorted(Path(solutions_dir).glob("*/*.ipynb")):
        if ".ipynb_checkpoints" in path.parts:
            continue
        last: dict[str, str] = {}
        for cell in nbformat.read(path, as_version=4).cells:
            for match in HEADING.finditer(cell.source if cell.cell_type == "markdown" else ""):
                last[match[2].lower()] = match[1].strip()
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if meta.get("grade"):
                written = bool(meta.get("solution"))
                title = last.get("think" if written else "exercise") or meta["grade_id"]
                found.append(Exercise(path.parent.name, meta["grade_id"], title, written))
    return found


@dataclass
class Stat:
    """One exercise counted over the class."""

    exercise: Exercise
    max_points: float = 0.0
    scores: list[float] = field(default_factory=list)
    not_started: int = 0
    awaiting: int = 0
    causes: Counter[tuple[str, str]] = field(default_factory=Counter)  # Failure key -> students
    examples: dict[tuple[str, str], Failure] = field(default_factory=dict)

    @property
    def wrong(self) -> int:
        return sum(score < self.max_points for score in self.scores) - self.not_started

    @property
    def mean(self) -> float | None:
        """The class's mean, once nothing awaits a hand grade."""
        return sum(self.scores) / len(self.scores) if self.scores and not self.awaiting else None

    def count(self, row: CellRow) -> None:
        self.max_points = max(self.max_points, row.max_score)
        if row.state is CellState.AWAITING:
            self.awaiting += 1
            return
        self.scores.append(row.score or 0.0)
        started = not (row.state is CellState.UNANSWERED or (row.failure and row.failure.kind is Kind.NOT_STARTED))
        if not started:
            self.not_started += 1
        elif row.failure is not None and (row.score or 0.0) < row.max_score:
            key = row.failure.key
            self.causes[key] += 1
            self.examples.setdefault(key, row.failure)


def exercise_stats(cells: list[CellRow], known: list[Exercise]) -> list[Stat]:
    """One Stat per graded cell, in the notebooks' order; notebooks that could not be graded are left out."""
    order = {(e.assignment, e.grade_id): e for e in known}
    stats: dict[tuple[str, str], Stat] = {}
    for row in cells:
        if row.state is CellState.NOT_GRADED:
            continue
        key = (row.assignment, row.grade_id)
        exercise = order.get(key, Exercise(row.assignment, row.grade_id, row.grade_id, False))
        stats.setdefault(key, Stat(exercise)).count(row)
    position = {key: index for index, key in enumerate(order)}
    return sorted(stats.values(), key=lambda s: (s.exercise.assignment, position.get((s.exercise.assignment,
                                                                                      s.exercise.grade_id), 10**6)))


def _stat_row(stat: Stat) -> dict[str, str]:
    share = (lambda n: f"{n / len(stat.scores):.3f}") if stat.scores else (lambda n: "")
    row = {"assignment": stat.exercise.assignment, "grade_id": stat.exercise.grade_id,
           "exercise": stat.exercise.title, "written": "yes" if stat.exercise.written else "no",
           "max_points": f"{stat.max_points:g}", "students": str(len(stat.scores)),
           "mean_points": "" if stat.mean is None else f"{stat.mean:.3f}",
           "full_marks": share(sum(s >= stat.max_points for s in stat.scores)), "wrong": str(stat.wrong),
           "not_started": str(stat.not_started), "awaiting_manual": str(stat.awaiting)}
    for k, (key, count) in enumerate(stat.causes.most_common(TOP_CAUSES), start=1):
        row[f"cause_{k}"], row[f"count_{k}"] = stat.examples[key].cause, str(count)
    return row


def _histogram(totals: list[float], maximum: float, assignment: str) -> str:
    """A score histogram as a base64 PNG (drawn without pyplot, so any backend works)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(5.2, 2.4), layout="constrained")
    FigureCanvasAgg(figure)
    axis = figure.subplots()
    bins = [i - 0.5 for i in range(int(maximum) + 2)] if maximum <= 30 else 20
    axis.hist(totals, bins=bins, color="#4c72b0", edgecolor="white")
    axis.set(xlabel=f"points (of {maximum:g})", ylabel="students", title=f"{assignment}: {len(totals)} graded")
    axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    axis.yaxis.set_major_locator(MaxNLocator(integer=True))
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90)
    return base64.b64encode(buffer.getvalue()).decode()


def _causes_html(stat: Stat, limit: int = SHOWN_CAUSES) -> str:
    items = []
    for key, count in stat.causes.most_common(limit):
        example = stat.examples[key]
        kind = "" if example.kind is Kind.WRONG else f"<span class='kind'>{html.escape(example.kind.value)}</span> "
        detail = (f"<details><summary>one student's message</summary><pre>{html.escape(example.detail)}</pre>"
                  "</details>") if example.detail and example.detail != example.cause else ""
        items.append(f"<li><b>{count}</b> {kind}{html.escape(example.cause)}{detail}</li>")
    rest = sum(stat.causes.values()) - sum(count for _, count in stat.causes.most_common(limit))
    if rest:
        items.append(f"<li class='muted'>{rest} more, {len(stat.causes) - limit} other causes: see "
                     "cell_grades.csv</li>")
    return f"<ul>{''.join(items)}</ul>" if items else ""


def _exercise_row(stat: Stat) -> str:
    n = len(stat.scores)
    handed_in = n + stat.awaiting  # the share of every student whose notebook was graded, awaiting or not
    pct = (lambda k: f"{k}<small> ({k / handed_in:.0%})</small>" if handed_in else "0")
    title = html.escape(stat.exercise.title)
    if stat.awaiting:
        numbers = (f"<td colspan='2' class='awaiting'>awaiting manual grading: {stat.awaiting} of "
                   f"{stat.awaiting + n}</td>")
    else:
        full = sum(s >= stat.max_points for s in stat.scores)
        numbers = (f"<td>{stat.mean:.2f} / {stat.max_points:g}</td><td>{pct(full)}</td>" if n
                   else "<td colspan='2'>no answer graded</td>")
    return (f"<tr><td>{title}</td>{numbers}<td>{pct(stat.wrong) if stat.wrong else '0'}</td>"
            f"<td>{pct(stat.not_started) if stat.not_started else '0'}</td><td>{_causes_html(stat)}</td></tr>")


def _overview(stats: list[Stat]) -> str:
    """The class's most frequent mistakes, every exercise together: what to teach again first."""
    ranked = sorted(((count, stat, key) for stat in stats for key, count in stat.causes.items()),
                    key=lambda item: -item[0])[:OVERVIEW]
    if not ranked:
        return "<h2>What to teach again</h2><p>No wrong answer: every check passed or was not started.</p>"
    items = "".join(f"<li><b>{count} student{'' if count == 1 else 's'}</b>, "
                    f"{html.escape(stat.exercise.assignment)} · "
                    f"{html.escape(stat.exercise.title)}: {html.escape(stat.examples[key].cause)}</li>"
                    for count, stat, key in ranked)
    return f"<h2>What to teach again: the most frequent mistakes</h2><ol>{items}</ol>"


def _status_lists(notebooks: list[NotebookRow]) -> str:
    parts = []
    for label, outcome in (("Repaired before grading", Outcome.REPAIRED), ("Not graded", Outcome.NOT_GRADED)):
        rows = [row for row in notebooks if row.status.outcome is outcome]
        if rows:
            items = "".join(f"<li>{html.escape(row.student_id)} / {html.escape(row.assignment)}: "
                            f"{html.escape(str(row.status))}</li>" for row in rows)
            parts.append(f"<h3>{label} ({len(rows)})</h3><ul>{items}</ul>")
    return "".join(parts)


STYLE = ("body{font-family:sans-serif;max-width:78em;margin:2em auto;color:#222;line-height:1.35}"
         "table{border-collapse:collapse;margin:0.5em 0 2em;width:100%}"
         "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}th{background:#f3f3f3}"
         "ul{margin:0;padding-left:1.2em}li{margin:2px 0}small,.muted{color:#666}"
         ".awaiting{background:#fff4e5;color:#8a4b00}.kind{background:#eee;border-radius:3px;padding:0 4px;"
         "font-size:85%}details summary{color:#555;font-size:85%;cursor:pointer}"
         "pre{white-space:pre-wrap;font-size:85%;background:#f7f7f7;padding:4px;margin:2px 0}")
HEADER = ("<tr><th>exercise</th><th>mean points</th><th>full marks</th><th>wrong</th><th>not started</th>"
          "<th>what the wrong answers got wrong (students, most frequent first)</th></tr>")


def report_html(notebooks: list[NotebookRow], stats: list[Stat]) -> str:
    """The whole report page: what to teach again first, then per assignment a histogram and its exercises."""
    graded = [row for row in notebooks if row.status.graded and row.score is not None]
    sections = []
    for assignment in sorted({row.assignment for row in notebooks}):
        rows = [row for row in graded if row.assignment == assignment]
        maximum = max((row.max_score or 0.0 for row in rows), default=0.0)
        image = (f"<img alt='score histogram of {html.escape(assignment)}' src='data:image/png;base64,"
                 f"{_histogram([row.score or 0.0 for row in rows], maximum, assignment)}'>" if rows
                 else "<p>No notebook of this assignment could be graded.</p>")
        waiting = sum(row.awaiting > 0 for row in rows)
        note = (f"<p class='awaiting'>{waiting} notebook(s) hold written answers awaiting manual grading: their "
                "points are not in these totals yet.</p>" if waiting else "")
        lines = "".join(_exercise_row(stat) for stat in stats if stat.exercise.assignment == assignment)
        sections.append(f"<h2>{html.escape(assignment)}</h2>{image}{note}<table>{HEADER}{lines}</table>")
    students = len({row.student_id for row in notebooks})
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>What the class got wrong</title>"
            f"<style>{STYLE}</style></head><body><h1>What the class got wrong</h1><p>{students} students, "
            f"{len(notebooks)} notebooks: {len(graded)} graded, {len(notebooks) - len(graded)} not graded. "
            "<i>Not started</i>: the answer was left as released. <i>Wrong</i>: started, and the check named what "
            f"is wrong.</p>{_overview(stats)}{''.join(sections)}{_status_lists(notebooks)}</body></html>")


def write_report(out_dir: Path, notebooks: list[NotebookRow], cells: list[CellRow], solutions_dir: Path) -> list[Stat]:
    """Write OUT/exercise_stats.csv and OUT/class_report.html; return the exercises' stats."""
    stats = exercise_stats(cells, exercises(solutions_dir))
    with (Path(out_dir) / "exercise_stats.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=STAT_COLUMNS)
        writer.writeheader()
        writer.writerows(_stat_row(stat) for stat in stats)
    (Path(out_dir) / "class_report.html").write_text(report_html(notebooks, stats), encoding="utf-8")
    return stats
