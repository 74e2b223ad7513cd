"""What the class got wrong: per exercise, the points, the full marks, the zeros and the most frequent diagnoses.

nbgrader gives an instructor a score per student; what to teach again is in how the students failed. The checkers
of course_lib.grading say why a check failed, and a failed test cell keeps that diagnosis in the autograded
notebook; grade_class.py copies its first line into cell_grades.csv. Here the rows of all students are counted
per exercise. Diagnoses name the failing case and its numbers, so digits are masked before counting (two
students with the same slip then count as one diagnosis, shown with one of their messages).

    OUT/exercise_stats.csv   one row per exercise
    OUT/class_report.html    the same with a score histogram per assignment: PNGs embedded, opens offline
"""

from __future__ import annotations

import base64
import csv
import html
import io
import re
from collections import Counter, defaultdict
from pathlib import Path

import nbformat

TOP_DIAGNOSES = 3
AWAITING = "awaiting manual grading"  # grade_class.py's status of a written answer nobody has graded yet
STAT_COLUMNS = ["assignment", "grade_id", "exercise", "max_points", "students", "mean_points", "full_marks_share",
                "zero_share", "awaiting_manual"] + [f"{kind}_{k}" for k in range(1, TOP_DIAGNOSES + 1) for kind in ("diagnosis", "count")]


def exercise_titles(solutions_dir: Path) -> dict[tuple[str, str], str]:
    """{(assignment, test cell grade id): the heading of the exercise it grades} from the source notebooks."""
    titles = {}
    for path in sorted(Path(solutions_dir).glob("*/*.ipynb")):
        if ".ipynb_checkpoints" in path.parts:
            continue
        heading = ""
        for cell in nbformat.read(path, as_version=4).cells:
            first = cell.source.strip().splitlines()[0] if cell.source.strip() else ""
            if cell.cell_type == "markdown" and first.startswith("#") and re.match(r"(exercise|think)\b",
                                                                                     first.lstrip("# ").lower()):
                heading = first.lstrip("#").strip()
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if meta.get("grade"):  # a test cell, or a written answer graded by hand under its "Think" heading
                titles[(path.parent.name, meta["grade_id"])] = heading or meta["grade_id"]
    return titles


def _masked(text: str) -> str:
    return re.sub(r"\d+(\.\d+)?(e[+-]?\d+)?", "#", text)


def exercise_stats(cells: list[dict], titles: dict[tuple[str, str], str]) -> list[dict]:
    """One row per exercise (test cell) from cell_grades.csv rows, graded notebooks only."""
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    awaiting: Counter[tuple[str, str]] = Counter()
    maxima: dict[tuple[str, str], float] = {}
    for row in cells:
        key = (row["assignment"], row["grade_id"])
        if AWAITING in str(row.get("status", "")):
            awaiting[key] += 1
            maxima.setdefault(key, float(row["max_score"]))
            groups.setdefault(key, [])
        elif not str(row.get("status", "graded")).startswith("not graded") and row.get("score") not in ("", None):
            groups[key].append(row)
            maxima.setdefault(key, float(row["max_score"]))
    order = {key: position for position, key in enumerate(titles)}  # the notebook's own order of exercises
    stats = []
    for (assignment, grade_id), rows in sorted(groups.items(), key=lambda item: (item[0][0], order.get(item[0], 0),
                                                                                  item[0][1])):
        scores = [float(row["score"]) for row in rows]
        most = maxima[(assignment, grade_id)]
        diagnoses: Counter[str] = Counter()
        example: dict[str, str] = {}
        for row in rows:
            if row.get("diagnosis") and float(row["score"]) < most:
                key = _masked(row["diagnosis"])
                diagnoses[key] += 1
                example.setdefault(key, row["diagnosis"])
        entry = {"assignment": assignment, "grade_id": grade_id,
                 "exercise": titles.get((assignment, grade_id), grade_id), "max_points": most, "students": len(rows),
                 "mean_points": round(sum(scores) / len(scores), 3) if scores else "",
                 "full_marks_share": round(sum(s >= most for s in scores) / len(scores), 3) if scores else "",
                 "zero_share": round(sum(s == 0 for s in scores) / len(scores), 3) if scores else "",
                 "awaiting_manual": awaiting[(assignment, grade_id)]}
        for k, (key, count) in enumerate(diagnoses.most_common(TOP_DIAGNOSES), start=1):
            entry[f"diagnosis_{k}"], entry[f"count_{k}"] = example[key], count
        stats.append(entry)
    return stats


def _histogram(totals: list[float], maximum: float, assignment: str) -> str:
    """A score histogram as a base64 PNG (drawn without pyplot, so any backend works)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(5.2, 2.6), layout="constrained")
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


def _status_lists(grades: list[dict]) -> str:
    parts = []
    for label, prefix in (("Repaired before grading", "repaired"), ("Not graded", "not graded")):
        rows = [row for row in grades if str(row.get("status", "")).startswith(prefix)]
        if rows:
            items = "".join(f"<li>{html.escape(row['student_id'])} / {html.escape(row['assignment'])}: "
                            f"{html.escape(row['status'])}</li>" for row in rows)
            parts.append(f"<h3>{label} ({len(rows)})</h3><ul>{items}</ul>")
    return "".join(parts)


def report_html(grades: list[dict], stats: list[dict]) -> str:
    """The whole report page: a summary, then per assignment a histogram and a table of its exercises."""
    graded = [row for row in grades if not str(row.get("status", "")).startswith("not graded")]
    sections = []
    for assignment in sorted({row["assignment"] for row in grades}):
        rows = [row for row in graded if row["assignment"] == assignment and row.get("score") not in ("", None)]
        totals = [float(row["score"]) for row in rows]
        maximum = max((float(row["max_score"]) for row in rows), default=0.0)
        image = f"<img alt='score histogram' src='data:image/png;base64,{_histogram(totals, maximum, assignment)}'>" \
            if rows else "<p>No notebook of this assignment could be graded.</p>"
        lines = []
        for entry in (e for e in stats if e["assignment"] == assignment):
            diagnoses = "".join(f"<li>{entry[f'count_{k}']} × {html.escape(entry[f'diagnosis_{k}'])}</li>"
                                for k in range(1, TOP_DIAGNOSES + 1) if f"diagnosis_{k}" in entry)
            waiting = (f"<br><small>{entry['awaiting_manual']} written answer(s) await manual grading</small>"
                       if entry["awaiting_manual"] else "")
            if entry["students"]:
                numbers = (f"<td>{entry['mean_points']:g} / {entry['max_points']:g}{waiting}</td>"
                           f"<td>{entry['full_marks_share']:.0%}</td><td>{entry['zero_share']:.0%}</td>")
            else:
                numbers = f"<td colspan='3'>not graded yet{waiting}</td>"
            lines.append(f"<tr><td>{html.escape(entry['exercise'])}</td>{numbers}"
                         f"<td><ul>{diagnoses or '<li>none</li>'}</ul></td></tr>")
        sections.append(f"<h2>{html.escape(assignment)}</h2>{image}<table><tr><th>exercise</th><th>mean points</th>"
                        f"<th>full marks</th><th>zero</th><th>most frequent diagnoses (students)</th></tr>"
                        f"{''.join(lines)}</table>")
    students = len({row["student_id"] for row in grades})
    style = ("body{font-family:sans-serif;max-width:70em;margin:2em auto;color:#222}table{border-collapse:collapse;"
             "margin:0.5em 0 2em}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}"
             "ul{margin:0;padding-left:1.2em}")
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>What the class got wrong</title><style>{style}"
            f"</style></head><body><h1>What the class got wrong</h1><p>{students} students, {len(grades)} notebooks: "
            f"{len(graded)} graded, {len(grades) - len(graded)} not graded.</p>{''.join(sections)}"
            f"{_status_lists(grades)}</body></html>")


def write_report(out_dir: Path, grades: list[dict], cells: list[dict], solutions_dir: Path) -> list[dict]:
    """Write OUT/exercise_stats.csv and OUT/class_report.html; return the exercise rows."""
    stats = exercise_stats(cells, exercise_titles(solutions_dir))
    with (Path(out_dir) / "exercise_stats.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=STAT_COLUMNS)
        writer.writeheader()
        writer.writerows(stats)
    (Path(out_dir) / "class_report.html").write_text(report_html(grades, stats), encoding="utf-8")
    return stats
