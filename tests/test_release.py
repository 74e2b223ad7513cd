"""notebooks/ is exactly nbgrader's release of solutions/, and a release holds no solution and no hidden test.

The same checks run on the test fixture assignment (tests/fixtures/solutions -> tests/fixtures/notebooks),
so the machinery is tested even while solutions/ is still empty.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from grading_helpers import (FIXTURE_RELEASE, FIXTURE_SOLUTIONS, REPO_ROOT, grade_id, is_solution, is_test, read,
                             selected)
from course_lib.instructor.course import find_assignments
from course_lib.instructor.release import TypedAnswersError, generate_release

SOURCES = {"course": (REPO_ROOT / "solutions", REPO_ROOT / "notebooks"),
           "fixture": (FIXTURE_SOLUTIONS, FIXTURE_RELEASE)}
# every assignment, or the one `make check NOTEBOOK=<name>` names (COURSE_NOTEBOOK)
CASES = [(kind, name) for kind, (solutions, _) in SOURCES.items() for name in selected(find_assignments(solutions))]
HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS", re.S)
SOLUTION = re.compile(r"### BEGIN SOLUTION(.*?)### END SOLUTION", re.S)


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory) -> dict[str, Path]:
    """A fresh release of every source folder (of the cases' assignments only, when one notebook is selected), made
    as tools/release.py makes it, into scratch folders."""
    folders = {}
    for kind, (solutions, _) in SOURCES.items():
        out = tmp_path_factory.mktemp(f"release-{kind}")
        stale = out / "99_gone"
        stale.mkdir()
        (stale / "99_gone.ipynb").write_text("{}")
        (out / "README.md").write_text("not an assignment")
        names = [name for case, name in CASES if case == kind]
        if names == find_assignments(solutions):
            generate_release(solutions, out)
        elif names:
            generate_release(solutions, out, names)
        folders[kind] = out
    return folders


def _cell_view(cell) -> dict:
    """What must agree between a committed and a regenerated release cell (outputs are never committed)."""
    return {"id": cell.get("id"), "type": cell.cell_type, "source": cell.source,
            "nbgrader": cell.metadata.get("nbgrader"), "editable": cell.metadata.get("editable"),
            "deletable": cell.metadata.get("deletable")}


def test_every_assignment_has_a_committed_release():
    for kind, (solutions, release) in SOURCES.items():
        missing = [name for name in find_assignments(solutions) if not (release / name / f"{name}.ipynb").is_file()]
        extra = sorted(set(find_assignments(release)) - set(find_assignments(solutions))) if release.is_dir() else []
        assert not missing and not extra, (f"{release} is out of step with {solutions} (missing {missing}, "
                                           f"no source for {extra}): run `make release`")


@pytest.mark.parametrize("kind, name", CASES, ids=[f"{k}-{n}" for k, n in CASES])
def test_committed_release_matches_a_fresh_one(regenerated, kind, name):
    _, release = SOURCES[kind]
    fresh_folder, committed_folder = regenerated[kind] / name, release / name
    fresh_files = sorted(p.relative_to(fresh_folder) for p in fresh_folder.rglob("*") if p.is_file())
    committed_files = sorted(relative for p in committed_folder.rglob("*") if p.is_file()
                             and ".ipynb_checkpoints" not in (relative := p.relative_to(committed_folder)).parts)
    assert fresh_files == committed_files, f"{committed_folder}: files differ from a fresh release: run `make release`"
    for relative in fresh_files:
        if relative.suffix != ".ipynb":
            assert (fresh_folder / relative).read_bytes() == (committed_folder / relative).read_bytes(), \
                f"{committed_folder / relative} is stale: run `make release`"
            continue
        fresh, committed = read(fresh_folder / relative), read(committed_folder / relative)
        assert committed.metadata.get("kernelspec") == fresh.metadata.get("kernelspec"), \
            f"{committed_folder / relative}: kernelspec differs: run `make release`"
        assert len(committed.cells) == len(fresh.cells), \
            f"{committed_folder / relative} has {len(committed.cells)} cells, a fresh release {len(fresh.cells)}: " \
            "run `make release`"
        for index, (old, new) in enumerate(zip(committed.cells, fresh.cells)):
            assert _cell_view(old) == _cell_view(new), \
                f"{committed_folder / relative}, cell {index} ({grade_id(new)}) is stale: run `make release`"


@pytest.mark.parametrize("kind, name", CASES, ids=[f"{k}-{n}" for k, n in CASES])
def test_release_holds_no_solution_no_hidden_test_no_output(kind, name):
    solutions, release = SOURCES[kind]
    source = read(solutions / name / f"{name}.ipynb")
    assert (release / name / f"{name}.ipynb").is_file(), f"no {release / name / name}.ipynb: run `make release`"
    released = read(release / name / f"{name}.ipynb")
    by_id = {grade_id(cell): cell for cell in released.cells if grade_id(cell)}
    assert any(is_test(cell) for cell in source.cells), f"{name}: the source has no graded test cell"
    for cell in source.cells:
        text = cell.source
        if is_solution(cell):
            answer = by_id[grade_id(cell)].source
            assert "BEGIN SOLUTION" not in answer, f"{name}/{grade_id(cell)}: solution markers in the release"
            if cell.cell_type == "code":
                assert "NotImplementedError" in answer, f"{name}/{grade_id(cell)}: the release answer is not a stub"
            for block in SOLUTION.findall(text):
                lines = [line.strip() for line in block.splitlines() if line.strip() and not line.strip().startswith("#")]
                leaked = [line for line in lines if line in answer.splitlines() or f"    {line}" in answer]
                assert not leaked, f"{name}/{grade_id(cell)}: the release shows solution lines {leaked}"
        if is_test(cell):
            test = by_id[grade_id(cell)].source
            assert "HIDDEN TESTS" not in test, f"{name}/{grade_id(cell)}: hidden-test markers in the release"
            for block in HIDDEN.findall(text):
                hidden = [line.strip() for line in block.splitlines()[1:-1] if line.strip()]
                leaked = [line for line in hidden if line in (t.strip() for t in test.splitlines())]
                assert not leaked, f"{name}/{grade_id(cell)}: the release shows hidden tests {leaked}"
    for cell in released.cells:
        assert not cell.get("outputs"), f"{name}: release cell {grade_id(cell)} has outputs: clear them in solutions/"
        assert "BEGIN HIDDEN TESTS" not in cell.source and "BEGIN SOLUTION" not in cell.source


def test_release_prunes_stale_assignments_and_keeps_other_files(regenerated):
    if ("fixture", "00_fixture") not in CASES:
        pytest.skip("one notebook selected (COURSE_NOTEBOOK): the fixture's release is not made")
    out = regenerated["fixture"]
    assert not (out / "99_gone").exists(), "a release folder without a source was not removed"
    assert (out / "README.md").read_text() == "not an assignment"
    assert find_assignments(out) == find_assignments(FIXTURE_SOLUTIONS)


def test_a_release_keeps_lab_checkpoints_and_refuses_to_replace_typed_answers(tmp_path):
    if not selected(["00_fixture"]):
        pytest.skip("one notebook selected (COURSE_NOTEBOOK): the release machinery is tested on the fixture")
    out = tmp_path / "release"
    generate_release(FIXTURE_SOLUTIONS, out)
    name = find_assignments(FIXTURE_SOLUTIONS)[0]
    checkpoint = out / name / ".ipynb_checkpoints" / f"{name}-checkpoint.ipynb"
    checkpoint.parent.mkdir()
    checkpoint.write_text("JupyterLab's copy")
    (out / name / "stale.txt").write_text("not in the release any more")
    generate_release(FIXTURE_SOLUTIONS, out)
    assert checkpoint.read_text() == "JupyterLab's copy" and not (out / name / "stale.txt").exists()

    notebook = read(out / name / f"{name}.ipynb")
    answered = next(cell for cell in notebook.cells if is_solution(cell))
    answered.source = "def running_total(values):\n    return values  # a student's answer"
    nbformat.write(notebook, out / name / f"{name}.ipynb")
    before = (out / name / f"{name}.ipynb").read_text()
    with pytest.raises(TypedAnswersError, match=f"{name}.ipynb \\(answer cells {grade_id(answered)}\\).*workspace/"):
        generate_release(FIXTURE_SOLUTIONS, out)
    assert (out / name / f"{name}.ipynb").read_text() == before, "the typed answers were replaced"
