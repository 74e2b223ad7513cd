"""A hint leads to the answer without containing it: no exercise's statement or hints hand over its solution.

Exercises are found by reading the solution notebooks, so a new one is covered without touching this file: a
markdown cell with a ``## Exercise N`` (or ``### Exercise N``) heading opens one, and the next code cells marked as
nbgrader answers are its answer. Its *hint text* is every markdown cell from the heading line to the answer (the
statement, the nudge, the folded "More help"); its *solution* is every line between ``### BEGIN SOLUTION`` and
``### END SOLUTION`` of its answer cells. Two rules, both blind to layout (all whitespace is removed before
comparing, so re-wrapping or re-spacing a line does not hide it):

1. No non-trivial solution line appears in the hint text. A line is normalised first: its comment is cut off (from
   a ``#`` outside quotes), a leading ``return`` or ``yield`` is dropped (``return activation(c) * gate`` is given
   away as much by its expression alone) and its whitespace removed. A line is *trivial*, and not compared, when
   fewer than 10 characters are left (``pass``, ``else:``, ``)``, ``x = []``, ``return out``), or when it only
   returns or yields names (``return data``, ``return i, j, f, o``, ``yield batch``): those say what comes out,
   which the statement has to say anyway. Everything else (``model.eval()``, ``return torch.cat(scores)``) is a
   step of the answer.
2. No inline code span or fenced code block of the hint text with at least 16 characters (whitespace removed) is a
   substring of the solution (comments cut, whitespace removed), unless it is a bare dotted name such as
   ``losses.dice_loss`` or ``np.flatnonzero``: a name is vocabulary, and a statement must be able to say which
   function the answer calls. Sixteen characters is about where a span stops naming a thing and starts doing a
   step of the answer, a call with its arguments or an expression: ``torch.cat(scores)`` (17), ``(1.0 -
   dice(p, t)).mean()``, ``self.rng.integers(-self.max_shift, self.max_shift + 1, size=2)``. Shorter spans
   (``dim=1``, ``x[order]``, ``a[0:-0]``) carry no more than the statement's vocabulary, and flagging them would
   forbid the small worked examples, on other problems, that the hints are built from.

Both rules run on the solution notebooks and on the release in ``notebooks/`` (what the student reads), whose answer
cells are stubs: they are matched to the solutions' answers by nbgrader grade id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from course_lib.grading.feedback import progress
from course_lib.settings import repository_root

REPO_ROOT = repository_root()
SOLUTIONS, RELEASE = REPO_ROOT / "solutions", REPO_ROOT / "notebooks"
HEADING = re.compile(r"^#{2,3} Exercise (\d+)\b", re.M)
SOLUTION_BLOCK = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.S)
TRIVIAL_RETURN = re.compile(r"(return|yield)\s+[\w\s,()]*")
RETURN = re.compile(r"^(return|yield)\b\s*")
CODE_BLOCK = re.compile(r"^ *(```+|~~~+)[^\n]*\n(.*?)^ *\1", re.S | re.M)
CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.S)
BARE_NAME = re.compile(r"[A-Za-z_][\w.]*")
MIN_LINE, MIN_SPAN = 10, 16


@dataclass(frozen=True)
class Exercise:
    """One exercise: where it is, the text a student reads before answering, and the answer's solution lines."""

    notebook: str
    number: int
    hint_cells: tuple[str, ...]  # cell ids, for the messages
    hint_text: str
    solution_lines: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.notebook}, exercise {self.number}"


def _cell_id(cell) -> str:
    return cell.get("id") or cell.metadata.get("nbgrader", {}).get("grade_id", "?")


def _grade_id(cell) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def strip_comment(line: str) -> str:
    """``line`` without its comment: everything from the first ``#`` that is outside quotes."""
    quote = None
    for index, char in enumerate(line):
        if quote:
            if char == quote and line[index - 1] != "\\":
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "#":
            return line[:index]
    return line


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def line_code(line: str) -> str:
    """What rule 1 compares of a solution line: no comment, no leading ``return``/``yield``, no whitespace."""
    return squeeze(RETURN.sub("", strip_comment(line).strip()))


def is_trivial(line: str) -> bool:
    """A solution line too short or too plain to give anything away (rule 1 of the module docstring)."""
    code = strip_comment(line).strip()
    return len(line_code(line)) < MIN_LINE or bool(TRIVIAL_RETURN.fullmatch(code))


def code_fragments(markdown: str) -> list[str]:
    """The fenced code blocks and inline code spans of ``markdown``."""
    blocks = [match.group(2) for match in CODE_BLOCK.finditer(markdown)]
    rest = CODE_BLOCK.sub("", markdown)
    return blocks + [match.group(2) for match in CODE_SPAN.finditer(rest)]


def leaks(exercise: Exercise) -> list[str]:
    """Every way ``exercise``'s hint text hands over its solution, as a sentence that names the line or span."""
    hint = squeeze(exercise.hint_text)
    solution = squeeze("\n".join(strip_comment(line) for line in exercise.solution_lines))
    found = [f"the solution line `{line.strip()}` is in the hint text"
             for line in exercise.solution_lines
             if not is_trivial(line) and line_code(line) in hint]
    for fragment in code_fragments(exercise.hint_text):
        code = squeeze(fragment)
        if len(code) >= MIN_SPAN and not BARE_NAME.fullmatch(code) and code in solution:
            found.append(f"the code `{fragment.strip()}` of the hint text is a piece of the solution")
    return found


def _is_answer(cell) -> bool:
    return cell.cell_type == "code" and bool(cell.metadata.get("nbgrader", {}).get("solution"))


def exercises_of(path: Path, solutions: dict[str, str] | None = None) -> list[Exercise]:
    """The exercises of one notebook. ``solutions`` maps answer grade ids to their source: the release's answer
    cells are stubs, so a release is read with its solution notebook's answers; a solution notebook with its own."""
    cells = nbformat.read(str(path), as_version=4).cells
    found = []
    for index, cell in enumerate(cells):
        heading = HEADING.search(cell.source) if cell.cell_type == "markdown" else None
        if heading is None:
            continue
        hint_cells, texts = [_cell_id(cell)], [cell.source[heading.start():]]
        position = index + 1
        while position < len(cells) and not _is_answer(cells[position]):
            if HEADING.search(cells[position].source):
                raise AssertionError(f"{path.name}: the exercise in cell {_cell_id(cell)} has no answer cell before "
                                     f"the next exercise's heading (cell {_cell_id(cells[position])})")
            if cells[position].cell_type == "markdown":
                hint_cells.append(_cell_id(cells[position]))
                texts.append(cells[position].source)
            position += 1
        lines: list[str] = []
        while position < len(cells) and _is_answer(cells[position]):
            source = cells[position].source if solutions is None else solutions[_grade_id(cells[position])]
            for block in SOLUTION_BLOCK.findall(source):
                lines += block.splitlines()
            position += 1
        if not lines:
            raise AssertionError(f"{path.name}: exercise heading in cell {_cell_id(cell)} is followed by no answer "
                                 "cell with ### BEGIN SOLUTION ... ### END SOLUTION")
        found.append(Exercise(path.stem, int(heading.group(1)), tuple(hint_cells), "\n\n".join(texts), tuple(lines)))
    return found


def _solution_notebooks() -> list[Path]:
    return sorted(SOLUTIONS.glob("*/*.ipynb"))


def _release_of(path: Path) -> Path:
    return RELEASE / path.relative_to(SOLUTIONS)


def _answers(path: Path) -> dict[str, str]:
    return {_grade_id(cell): cell.source for cell in nbformat.read(str(path), as_version=4).cells if _is_answer(cell)}


def course_exercises(release: bool) -> list[Exercise]:
    found = []
    for path in _solution_notebooks():
        found += exercises_of(_release_of(path), _answers(path)) if release else exercises_of(path)
    return found


SOLUTION_EXERCISES = course_exercises(release=False)
RELEASE_EXERCISES = course_exercises(release=True)


def test_every_exercise_is_found_once():
    """Headings, answer cells and the registered checkers agree, each notebook's exercises numbered from 1 (README.md
    gives their count, which tests/test_readme_counts.py checks)."""
    for release, exercises in ((False, SOLUTION_EXERCISES), (True, RELEASE_EXERCISES)):
        where = "notebooks/" if release else "solutions/"
        by_notebook: dict[str, list[int]] = {}
        for exercise in exercises:
            by_notebook.setdefault(exercise.notebook, []).append(exercise.number)
        assert sorted(by_notebook) == [path.stem for path in _solution_notebooks()], \
            f"{where}: notebooks without an exercise heading: {sorted(by_notebook)}"
        for notebook, numbers in by_notebook.items():
            registered = [exercise.number for exercise, _ in progress(notebook).rows]
            assert numbers == registered, (f"{where}{notebook}: the headings with an answer cell are exercises "
                                           f"{numbers}; its checkers register {registered}")
            assert numbers == list(range(1, len(numbers) + 1)), f"{where}{notebook}: exercises {numbers}"
        assert len(exercises) == sum(len(progress(notebook).rows) for notebook in by_notebook), \
            f"{where}: {len(exercises)} exercises"


@pytest.mark.parametrize("exercise", SOLUTION_EXERCISES, ids=str)
def test_hints_of_the_solutions_leave_the_answer_to_write(exercise):
    found = leaks(exercise)
    assert not found, f"{exercise} (cells {', '.join(exercise.hint_cells)}): " + "; ".join(found)


@pytest.mark.parametrize("exercise", RELEASE_EXERCISES, ids=str)
def test_hints_the_student_reads_leave_the_answer_to_write(exercise):
    found = leaks(exercise)
    assert not found, f"notebooks/ {exercise} (cells {', '.join(exercise.hint_cells)}): " + "; ".join(found)


# ---------------------------------------------------------------------------------------------- the rules themselves
SYNTHETIC_ANSWER = """def running_total(values):
    # the sum so far at each position
    ### BEGIN SOLUTION
    total, out = 0, []
    for value in values:
        total = total + value  # add this one
        out.append(total)
    return out
    ### END SOLUTION


def last_total(values):
    ### BEGIN SOLUTION
    return running_total(values)[-1]
    ### END SOLUTION
"""


def _synthetic(tmp_path: Path, hint: str) -> list[Exercise]:
    statement = nbformat.v4.new_markdown_cell("## Exercise 1 (1 point): a running total\n\nWrite `running_total`.")
    answer = nbformat.v4.new_code_cell(SYNTHETIC_ANSWER)
    answer.metadata["nbgrader"] = {"solution": True, "grade": False, "locked": False, "grade_id": "total",
                                   "schema_version": 3}
    notebook = nbformat.v4.new_notebook(cells=[statement, nbformat.v4.new_markdown_cell(hint), answer])
    path = tmp_path / "99_synthetic.ipynb"
    nbformat.write(notebook, str(path))
    return exercises_of(path)


@pytest.mark.parametrize("hint, named", [
    ("**Hint.** `total = total + value` at each step.", "total = total + value"),  # a whole line
    ("<details><summary>More help</summary>\n\nKeep `total=total+value`, re-spaced.\n\n</details>",
     "total = total + value"),  # reformatting does not hide it
    ("Then ```\nfor value in values:\n    pass\n```", "for value in values:"),  # a line inside a code block
    ("Finish with `out.append(total)`.", "out.append(total)"),  # a span that is a line
    ("Call `values` then `append(total)\nreturn out`.", "append(total)"),  # a span across lines
    ("The last step is total=total+value, as plain text.", "total = total + value"),  # not only in code spans
    ("It is just running_total(values)[-1].", "return running_total(values)[-1]"),  # a return's expression
])
def test_a_hint_that_hands_over_the_solution_is_named(tmp_path, hint, named):
    (exercise,) = _synthetic(tmp_path, hint)
    found = leaks(exercise)
    assert found and any(named in sentence for sentence in found), found


@pytest.mark.parametrize("hint", [
    "**Hint.** Keep one number that grows as you walk along the list, and write it down at each step.",
    "On another problem: the running product of `[2, 3, 4]` is `[2, 6, 24]`, kept in `product = product * x`.",
    "It `return out` (a trivial line), uses `total` and `values`, and `out.append` is only a name.",
])
def test_a_hint_that_leaves_the_answer_to_write_passes(tmp_path, hint):
    (exercise,) = _synthetic(tmp_path, hint)
    assert leaks(exercise) == []


def test_comments_and_strings_are_told_apart():
    assert strip_comment('x = f"#{i}"  # note') == 'x = f"#{i}"  '
    assert strip_comment("y = 1") == "y = 1"
    assert is_trivial("    return data  # the dictionary") and is_trivial("    return i, j, f, o")
    assert is_trivial(")") and is_trivial("else:") and not is_trivial("model.eval()")
    assert not is_trivial("return outputs[-1]") and not is_trivial("return kept + let_in")
