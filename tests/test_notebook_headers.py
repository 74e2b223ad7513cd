"""Every notebook opens with the current Colab badge and setup cell, and the setup cell is harmless off Colab."""

from __future__ import annotations

import re
import subprocess
import sys
import types

import nbformat
import pytest

import notebook_header  # tools/notebook_header.py (conftest puts tools/ on the import path)
from course_lib.settings import repository_root
from grading_helpers import course_notebooks

REPO_ROOT = repository_root()

REPOSITORY = notebook_header.repository_url()


def _notebook(*sources: str) -> nbformat.NotebookNode:
    cells = [nbformat.v4.new_markdown_cell(sources[0])] + [nbformat.v4.new_code_cell(s) for s in sources[1:]]
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.cells[0].metadata["nbgrader"] = {"grade": False, "solution": False, "locked": True,
                                              "grade_id": "title", "schema_version": 3}
    return notebook


def _setup_source() -> str:
    return notebook_header.header_cells(REPOSITORY, "notebooks/x/x.ipynb")[1].source


def test_repository_url_is_read_from_pyproject(tmp_path):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\nname = "x"\n[project.urls]\nRepository = "https://github.com/me/course.git"\n')
    assert notebook_header.repository_url(pyproject) == "https://github.com/me/course"
    pyproject.write_text('[project]\nname = "x"\n[project.urls]\nRepository = "https://gitlab.com/me/course"\n')
    with pytest.raises(SystemExit, match="github.com/<owner>/<repo>"):
        notebook_header.repository_url(pyproject)


def test_badge_points_at_the_released_copy_of_its_own_notebook():
    solution = REPO_ROOT / "solutions" / "03_convlstm" / "03_convlstm.ipynb"
    path = notebook_header.release_path(solution)
    assert path == "notebooks/03_convlstm/03_convlstm.ipynb"
    badge = notebook_header.header_cells(REPOSITORY, path)[0].source
    owner_repo = REPOSITORY.removeprefix("https://github.com/")
    assert f"(https://colab.research.google.com/github/{owner_repo}/blob/main/{path})" in badge


def test_stamping_inserts_once_replaces_old_headers_and_keeps_the_body():
    body = _notebook("# Title", "x = 1")
    header = notebook_header.header_cells(REPOSITORY, "notebooks/a/a.ipynb")
    once = notebook_header.stamped(body, header)
    assert [c.id for c in once.cells[:2]] == ["colab-badge", "colab-setup"]
    assert notebook_header.has_current_header(once, header)
    assert [c.source for c in once.cells[2:]] == ["# Title", "x = 1"]
    assert once.cells[2].metadata == body.cells[0].metadata
    nbformat.validate(once)

    twice = notebook_header.stamped(once, header)
    assert [c.source for c in twice.cells] == [c.source for c in once.cells]

    old_header = notebook_header.header_cells("https://github.com/old/place", "notebooks/a/a.ipynb")
    outdated = notebook_header.stamped(body, old_header)
    assert not notebook_header.has_current_header(outdated, header)
    renewed = notebook_header.stamped(outdated, header)
    assert [c.source for c in renewed.cells] == [c.source for c in once.cells]


def test_stamping_sets_the_kernelspec_jupyterlab_would_write():
    # JupyterLab replaces the kernelspec with the running kernel's when it connects; another display name
    # ("Python 3") marked untouched notebooks as modified.
    header = notebook_header.header_cells(REPOSITORY, "notebooks/a/a.ipynb")
    old_kernelspec = {"display_name": "Python 3", "language": "python", "name": "python3"}
    body = _notebook("# Title", "x = 1")
    body.metadata["kernelspec"] = old_kernelspec
    once = notebook_header.stamped(body, header)
    assert once.metadata["kernelspec"] == {"display_name": "Python 3 (ipykernel)", "language": "python",
                                           "name": "python3"}
    assert notebook_header.has_current_header(once, header)
    once.metadata["kernelspec"] = old_kernelspec
    assert not notebook_header.has_current_header(once, header), "an old kernelspec must count as outdated"


def test_setup_cell_does_nothing_off_colab(monkeypatch):
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: calls.append(a))
    namespace: dict = {}
    exec(compile(_setup_source(), "setup-cell", "exec"), namespace)
    assert calls == [], "the setup cell ran a command outside Colab"
    assert namespace["KEEP_ON_DRIVE"] is False and namespace["USE_REAL_DATA"] is False


def test_setup_cell_on_colab_installs_the_course_without_touching_torch(monkeypatch):
    import course_lib.colab

    commands, setups = [], []
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    monkeypatch.setattr(subprocess, "run", lambda command, **k: commands.append(command))
    monkeypatch.setattr(course_lib.colab, "setup_colab", lambda **options: setups.append(options))
    exec(compile(_setup_source(), "setup-cell", "exec"), {})
    (pip,) = commands
    assert pip[1:4] == ["-m", "pip", "install"] and "--no-deps" in pip
    assert pip[-1] == f"git+{REPOSITORY}@main"
    assert not any("torch" in part for part in pip)
    assert setups == [{"keep_data_on_drive": False, "real_data": False}]


def test_every_solutions_notebook_has_the_current_header():
    outdated = []
    for path in notebook_header.solution_notebooks():
        notebook = nbformat.read(path, as_version=4)
        header = notebook_header.header_cells(REPOSITORY, notebook_header.release_path(path))
        if not notebook_header.has_current_header(notebook, header):
            outdated.append(str(path.relative_to(REPO_ROOT)))
    assert not outdated, f"run `python tools/notebook_header.py` then `make release`; outdated: {outdated}"


def test_every_released_notebook_opens_with_a_badge_to_itself():
    wrong = []
    for path in sorted((REPO_ROOT / "notebooks").glob("*/*.ipynb")):
        own = path.relative_to(REPO_ROOT).as_posix()
        cells = nbformat.read(path, as_version=4).cells
        if not cells or notebook_header.colab_url(REPOSITORY, own) not in cells[0].source:
            wrong.append(own)
    assert not wrong, f"released notebooks whose first cell is not a Colab badge to themselves: {wrong}"


BENCHMARKS_FILE = re.compile(r"`(benchmarks/[\w./-]+)`(\]\(([^)]*)\))?")


@pytest.mark.parametrize("name", course_notebooks())
def test_a_file_the_prose_sends_a_student_to_is_a_link_that_opens_on_colab(name):
    """On Colab a notebook is alone, without the repository beside it: a file the prose names (RESULTS.md, a
    benchmark under benchmarks/) is a link to the file on GitHub, at the repository pyproject.toml names, and that file exists."""
    for folder in ("solutions", "notebooks"):
        notebook = nbformat.read(REPO_ROOT / folder / name / f"{name}.ipynb", as_version=4)
        for cell in notebook.cells:
            if cell.cell_type != "markdown":
                continue
            for found in BENCHMARKS_FILE.finditer(cell.source):
                path = found.group(1)
                assert found.group(3) == f"{REPOSITORY}/blob/{notebook_header.BRANCH}/{path}", (
                    f"{folder}/{name}: `{path}` is not a link to {REPOSITORY}/blob/{notebook_header.BRANCH}/{path}: "
                    f"{cell.source[max(0, found.start() - 60):found.end() + 20]!r}")
                assert (REPO_ROOT / path).is_file(), f"{folder}/{name} links to {path}, which is not in the repository"
