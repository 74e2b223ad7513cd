"""The counts README.md quotes are the course's: computed here from the notebooks and the tests, and compared.

A new exercise, Think question or partial answer changes them; this test then names the sentence to update. The
claims below are the README's sentences that hold a count. A claim marked ``required`` must be found (its
sentence may be reworded only together with this test); the others are compared where the README still says them
in that form (a per-notebook count, say, that stops being the same for every notebook and is reworded).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

import pytest

import test_partial_answers as partial_answers
from course_lib.instructor.cells import is_written_answer
from course_lib.instructor.exercises import read_exercises
from grading_helpers import REPO_ROOT, SOLUTIONS, read
from course_lib.instructor.course import find_assignments

README = REPO_ROOT / "README.md"
WORDS = {word: number for number, word in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve".split())}


def number(text: str) -> int:
    """'six' or '6' -> 6."""
    return int(text) if text.isdigit() else WORDS[text.lower()]


def notebooks() -> list[str]:
    return find_assignments(SOLUTIONS)


def exercises_per_notebook() -> dict[str, int]:
    return {name: len(read_exercises(SOLUTIONS / name / f"{name}.ipynb")) for name in notebooks()}


def thinks_per_notebook() -> dict[str, list[float]]:
    """{notebook: the points of each of its written Think answers}."""
    return {name: [float(c.metadata["nbgrader"]["points"]) for c in read(SOLUTIONS / name / f"{name}.ipynb").cells
                   if is_written_answer(c)] for name in notebooks()}


def every(values: dict[str, object]) -> object:
    """The value every notebook has, or a description of how they differ (never equal to a count)."""
    distinct = set(map(str, values.values()))
    return next(iter(values.values())) if len(distinct) == 1 else f"differs by notebook: {values}"


def partial_answer_count() -> int:
    return sum(len(partials) for partials in partial_answers.PARTIALS.values())


def upstream_count() -> int:
    return sum(len(partials) for partials in partial_answers.UPSTREAM.values())


@dataclass(frozen=True)
class Claim:
    """A README sentence (``pattern``, its groups the counts) and what each count must be."""

    what: str
    pattern: str
    computed: tuple[Callable[[], object], ...]
    required: bool = True


CLAIMS = [
    Claim("the number of notebooks", r"In (\w+) notebooks you build", (lambda: len(notebooks()),)),
    Claim("the exercises in all", r"graded exercises \((\d+) in all", (lambda: sum(exercises_per_notebook().values()),)),
    Claim("the exercises of each notebook", r"Each has (\w+) graded exercises",
          (lambda: every(exercises_per_notebook()),), required=False),
    Claim("the Think questions of each notebook", r"Each notebook also asks (\w+) \"Think\" questions",
          (lambda: every({n: len(p) for n, p in thinks_per_notebook().items()}),), required=False),
    Claim("the written Think answers of each notebook and their points",
          r"Each notebook has (\w+) written \"Think\" answers \((\d+) points? each\)",
          (lambda: every({n: len(p) for n, p in thinks_per_notebook().items()}),
           lambda: every({n: p[0] if len(set(p)) == 1 else p for n, p in thinks_per_notebook().items()})),
          required=False),
    Claim("the partial answers of tests/test_partial_answers.py",
          r"holds (\d+) plausible partial answers and right variants for the (\d+) exercises \((\d+) of them on a "
          r"wrong or unstarted earlier answer\)",
          (partial_answer_count, lambda: sum(exercises_per_notebook().values()), upstream_count)),
]


def readme_text() -> str:
    return " ".join(README.read_text(encoding="utf-8").split())  # one space between words, line breaks included


@pytest.mark.parametrize("claim", CLAIMS, ids=[claim.what for claim in CLAIMS])
def test_a_count_the_readme_quotes_is_the_courses(claim):
    found = re.search(claim.pattern, readme_text())
    if found is None:
        if claim.required:
            pytest.fail(f"README.md no longer says {claim.what} as /{claim.pattern}/: put the count back in that "
                        "form, or change the claim in tests/test_readme_counts.py with it")
        pytest.skip(f"README.md does not say {claim.what} in that form")
    for text, compute in zip(found.groups(), claim.computed):
        quoted, actual = number(text), compute()
        assert quoted == actual, (f"README.md quotes {claim.what} as {text} in {found.group(0)!r}; the course has "
                                  f"{actual}: update README.md")


def test_the_readme_table_lists_every_notebook_in_order():
    rows = re.findall(r"^\| (\d+) \| `(\w+)` \|", README.read_text(encoding="utf-8"), re.M)
    assert [name for _, name in rows] == notebooks(), "README.md's table of notebooks differs from solutions/"
    assert [int(n) for n, _ in rows] == list(range(1, len(rows) + 1))
