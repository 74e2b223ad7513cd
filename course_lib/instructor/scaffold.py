"""A new exercise's cells, made in the solution notebook as the course makes them; and its checker's skeleton.

``tools/exercise.py NOTEBOOK --title T --points P --function NAME`` inserts, after the section of the notebook's
last exercise (before the next ``## `` heading that follows it), or before the cell ``--before`` names:

1. the statement: ``## Exercise N (P points): T`` (N: the next number), locked, with a paragraph to write;
2. the hint: a one-line nudge and a folded "More help", locked, to write;
3. the answer cell: ``def NAME(PARAMS):`` (with ``--class``: ``class NAME`` whose constructor keeps PARAMS and whose
   ``__call__(self, data)`` is the exercise) whose body holds ``### BEGIN SOLUTION`` ... ``### END SOLUTION``, an
   nbgrader answer cell (``solution: true``), so nbgrader's stub raises only when the function is called;
4. the test cell: locked, graded with P points, calling ``check_name(NAME)`` and, in its hidden part
   (``### BEGIN HIDDEN TESTS``), the same check with another seed.

Grade ids follow the course's one style, kebab case: ``md-<base>``, ``md-<base>-hint``, ``<base>-answer`` and
``<base>-test`` (``<base>``: ``--grade-id``, else the answer's name in kebab case).
The checker to write is returned as text, a declaration with the same number, title and points: the checker's
declaration is where an exercise's points are declared, and the heading and the test cell's points agree with it
(``tests/test_points_agree.py``).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import nbformat

from course_lib.instructor.cells import grade_id
from course_lib.instructor.exercises import check_imports, exercises_of

__all__ = ["NewExercise", "ScaffoldError", "add_exercise", "checker_skeleton", "exercise_cells"]

HIDDEN_SEED = 1
SECTION = re.compile(r"^##\s", re.M)


class ScaffoldError(ValueError):
    """The exercise cannot be added as asked; the message says why and what to do."""


@dataclass(frozen=True)
class NewExercise:
    """What the instructor asks for: ``NAME(PARAMS)`` answers exercise ``title`` of ``notebook`` for ``points``."""

    notebook: str
    title: str
    points: float
    function: str               # the answer's name: a function's, or a class's where ``is_class``
    params: str = ""            # the function's parameters, or the class's constructor's
    module: str | None = None   # the checker's module in course_lib.grading (default: the notebook's usual one)
    base: str | None = None     # the grade ids' stem (default: from the answer's name)
    is_class: bool = False

    @property
    def snake(self) -> str:
        """The answer's name in snake case: ``random_shift`` for ``RandomShift``."""
        return _joined_words(self.function, "_")

    @property
    def check(self) -> str:
        return f"check_{self.snake}"


def _points(points: float) -> str:
    return f"{points:g} point{'' if points == 1 else 's'}"


def _joined_words(name: str, separator: str) -> str:
    """``name``'s words, CamelCase or snake_case, in lower case joined by ``separator``."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|_", separator, name).lower()


def _ids(base: str) -> dict[str, str]:
    stem = _joined_words(base, "-")
    return {"statement": f"md-{stem}", "hint": f"md-{stem}-hint", "answer": f"{stem}-answer", "test": f"{stem}-test"}


def _cell(kind: str, source: str, cell_id: str, *, solution: bool = False, points: float | None = None):
    cell = nbformat.v4.new_markdown_cell(source) if kind == "markdown" else nbformat.v4.new_code_cell(source)
    cell.id = cell_id
    meta = {"grade": points is not None, "grade_id": cell_id, "locked": not solution, "schema_version": 3,
            "solution": solution}
    if points is not None:
        meta["points"] = int(points) if float(points).is_integer() else points
    cell.metadata["nbgrader"] = meta
    return cell


SOLUTION = ("### BEGIN SOLUTION\n    raise NotImplementedError(\"the course's answer goes here, between the SOLUTION "
            "markers\")\n    ### END SOLUTION")


def _class_answer(new: NewExercise) -> str:
    """A class as notebook 1's transforms are written: the constructor given (it keeps its settings), the body of
    ``__call__`` the exercise."""
    names = [part.split("=")[0].split(":")[0].strip() for part in new.params.split(",") if part.strip()]
    given = "".join(f"\n        self.{name} = {name}" for name in names if name not in ("*", "/"))
    constructor = f"\n    def __init__(self, {new.params}):{given}\n" if names else ""
    body = SOLUTION.replace("\n    ", "\n        ")
    return (f"class {new.function}:\n    # TODO: one line saying what it does.\n{constructor}\n"
            f"    def __call__(self, data: dict) -> dict:\n        {body}")


def exercise_cells(new: NewExercise, number: int, module: str) -> list[nbformat.NotebookNode]:
    """The four cells of exercise ``number``: statement, hint, answer, test."""
    ids = _ids(new.base or new.function)
    call = f"`{new.function}({new.params})`"
    statement = (f"## Exercise {number} ({_points(new.points)}): {new.title}\n\n"
                 f"Write {'the class ' if new.is_class else ''}{call}. TODO: what it takes, what it returns, and "
                 "what it must refuse; say here every behaviour the check grades.")
    hint = ("**Hint.** TODO: one sentence that points the way without giving the answer.\n\n"
            "<details><summary>More help (click to open)</summary>\n\n"
            "TODO: the fuller hint, an example on another problem.\n\n"
            "**Still stuck?** Run the test cell: its message is the next hint.\n\n</details>")
    answer = _class_answer(new) if new.is_class else (
        f"def {new.function}({new.params}):\n"
        f"    # TODO: one line saying what it returns.\n"
        f"    {SOLUTION}")
    test = (f"from course_lib.grading.{module} import {new.check}\n\n"
            f"{new.check}({new.function})\n"
            f"### BEGIN HIDDEN TESTS\n"
            f"{new.check}({new.function}, seed={HIDDEN_SEED})\n"
            f"### END HIDDEN TESTS")
    return [_cell("markdown", statement, ids["statement"]), _cell("markdown", hint, ids["hint"]),
            _cell("code", answer, ids["answer"], solution=True),
            _cell("code", test, ids["test"], points=new.points)]


def _insertion_index(notebook: nbformat.NotebookNode, before: str | None, last_test: int | None) -> int:
    """Where the new cells go: before the cell with id or grade id ``before``, else before the first ``## ``
    heading after the last exercise's test cell (the end of the notebook when there is none)."""
    cells = notebook.cells
    if before is not None:
        found = [index for index, cell in enumerate(cells) if before in (cell.get("id"), grade_id(cell))]
        if not found:
            raise ScaffoldError(f"no cell has the id or grade id {before!r}")
        if last_test is not None and found[0] <= last_test:
            raise ScaffoldError(f"{before!r} comes before the notebook's last exercise; a new exercise goes after it "
                                "(exercises are numbered in the notebook's order: renumber by hand to put one earlier)")
        return found[0]
    start = 0 if last_test is None else last_test + 1
    return next((index for index in range(start, len(cells)) if cells[index].cell_type == "markdown"
                 and SECTION.match(cells[index].source)), len(cells))


def _module(notebook: nbformat.NotebookNode, new: NewExercise) -> str:
    """The checker's module: as asked, else the one the notebook imports most of its checks from."""
    if new.module:
        return new.module.removeprefix("course_lib.grading.")
    used = Counter(check_imports(notebook).values())
    if not used:
        raise ScaffoldError(f"{new.notebook} imports no check yet: name the checker's module with --module")
    return used.most_common(1)[0][0].removeprefix("course_lib.grading.")


def add_exercise(path: Path, new: NewExercise, before: str | None = None) -> tuple[int, str]:
    """Insert ``new``'s cells into the solution notebook at ``path``; return (its number, the checker skeleton)."""
    notebook = nbformat.read(str(path), as_version=4)
    if not re.fullmatch(r"[A-Za-z_]\w*", new.function):
        raise ScaffoldError(f"{new.function!r} is not a Python name")
    exercises = exercises_of(notebook, new.notebook)
    number = max((exercise.number for exercise in exercises), default=0) + 1
    last_test = max((exercise.test_index for exercise in exercises if exercise.test_index is not None), default=None)
    module = _module(notebook, new)
    cells = exercise_cells(new, number, module)
    taken = {cell.get("id") for cell in notebook.cells} | {grade_id(cell) for cell in notebook.cells}
    clash = [cell.id for cell in cells if cell.id in taken]
    if clash:
        raise ScaffoldError(f"{path.name} already has cells {clash}: choose another --function or --grade-id")
    if new.check in check_imports(notebook):
        raise ScaffoldError(f"{path.name} already imports {new.check}")
    index = _insertion_index(notebook, before, last_test)
    notebook.cells[index:index] = cells
    nbformat.validate(notebook)
    nbformat.write(notebook, str(path))
    return number, checker_skeleton(new, number, module)


def checker_skeleton(new: NewExercise, number: int, module: str) -> str:
    """The checker to write in ``course_lib/grading/<module>.py``: a declaration with the exercise's number, title and
    points, runnable as it is, whose TODOs are what only the instructor knows."""
    fn = new.function
    if new.is_class:  # a transform of the data dictionary, as notebook 1's are
        case = (f'Case(f"{fn}()(data with {{n}} images)",\n                 ({{"images": [rng.random((5, 7)) for _ in '
                f'range(n)], "names": [f"case_{{i}}" for i in range(n)]}},))')
        draws, output = "for n in (1, 3)", 'data_dicts(("images",))'
        run = "\n    run=lambda answer, data: answer()(data),  # TODO: build the class with a case's settings"
        imports = "Case, Declaration, Slip, data_dicts, declare"
    else:
        case, draws, output, run = f'Case(f"{fn}(an array of shape {{shape}})", (rng.random(shape),))', \
            "for shape in ((5, 7), (3, 3), (1, 9))", "arrays(atol=1e-6)", ""
        imports = "Case, Declaration, Slip, arrays, declare"
    return f'''# In course_lib/grading/{module}.py: the test cell imports {new.check} from there.
# CONTRIBUTING.md, step 3, says what each part is. It needs
#   import numpy as np
#   from course_lib.grading.declare import {imports}
# A check that is a property rather than a comparison (a shuffle, a random draw) gives the declaration a hook=
# instead of a reference (course_lib/grading/declare.py).


def _{new.snake}_cases(seed: int) -> list[Case]:
    """TODO: inputs drawn from the seed that try every graded behaviour (the hidden tests use seed={HIDDEN_SEED})."""
    rng = np.random.default_rng(seed)
    return [{case}
            {draws}]


{new.check} = declare(Declaration(
    "{new.notebook}", {number}, "{new.title} ({fn})", {new.points:g}, "{fn}",
    reference=lambda x: x,  # TODO: the course's version, called with a case's inputs{run}
    cases=_{new.snake}_cases,
    output={output},  # TODO: how outputs compare (arrays, data_dicts, tensors, INT, EXACT, an Output)
    slips=(Slip("TODO: a usual mistake's cause and its fix.", lambda x: None),),  # TODO: what the mistake returns
    hints={{"values": "TODO: the advice where no slip matches."}},
    success="TODO: what passed, in one line ({{n}} cases, seed {{seed}})."))
'''
