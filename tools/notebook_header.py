#!/usr/bin/env python3
"""Stamp the first two cells of every solutions notebook: an "Open in Colab" badge and the Colab setup cell.

Notebook authors start with their title cell; this tool owns the header so that it is the same everywhere
and follows the repository. The badge points at the notebook's own released path (``notebooks/<a>/<a>.ipynb``)
on GitHub; the setup cell, on Colab only, pip-installs the course with ``--no-deps`` (keeping the torch Colab
already has) and hands over to ``course_lib.colab.setup_colab``; anywhere else it does nothing. The repository
URL is read from pyproject.toml ``[project.urls] Repository``, its one home.

It also sets the notebook's kernelspec to the one ipykernel registers (``KERNELSPEC``): when a kernel connects,
JupyterLab copies that kernel's spec into the notebook, so any other value (e.g. "Python 3") marks a notebook
the student has not touched as modified and autosave rewrites it.

    python tools/notebook_header.py            # stamp or update every solutions/*/*.ipynb
    python tools/notebook_header.py 01_data_transforms   # one notebook, by name (or its path)
    python tools/notebook_header.py --check    # exit 1 and list the notebooks whose header is not current
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

from course_lib.instructor.course import checkout

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

REPO_ROOT = checkout()
BRANCH = "main"
BADGE_CELL_ID = "colab-badge"
SETUP_CELL_ID = "colab-setup"
BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"
# ipykernel's own kernelspec (the python3 kernel every course environment has), as JupyterLab writes it.
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
SETUP_FIRST_LINE = "# Course setup: on Google Colab this installs the course and prepares the data; elsewhere it does nothing."

SETUP_TEMPLATE = '''{first_line}
KEEP_ON_DRIVE = False  #@param {{type:"boolean"}}
USE_REAL_DATA = False  #@param {{type:"boolean"}}
import subprocess, sys
if "google.colab" in sys.modules:
    # --no-deps keeps the torch Colab already has; setup_colab installs only the packages Colab lacks.
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "git+{repository}@{branch}"], check=True)
    from course_lib.colab import setup_colab
    setup_colab(keep_data_on_drive=KEEP_ON_DRIVE, real_data=USE_REAL_DATA)'''


def repository_url(pyproject: Path = REPO_ROOT / "pyproject.toml") -> str:
    """The GitHub URL in pyproject.toml ``[project.urls] Repository`` (Colab opens notebooks from GitHub)."""
    try:
        url = tomllib.loads(pyproject.read_text())["project"]["urls"]["Repository"]
    except (FileNotFoundError, KeyError) as error:
        raise SystemExit(f"notebook_header: {pyproject} has no [project.urls] Repository ({error}); add "
                         'Repository = "https://github.com/<owner>/<repo>" there.') from error
    url = url.strip().removesuffix("/").removesuffix(".git")
    if not re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", url):
        raise SystemExit(f"notebook_header: Repository in {pyproject} is {url!r}; Colab badges need a "
                         "https://github.com/<owner>/<repo> URL.")
    return url


def release_path(solution: Path, repo_root: Path = REPO_ROOT) -> str:
    """``solutions/<a>/<a>.ipynb`` -> ``notebooks/<a>/<a>.ipynb``, the path students open."""
    relative = solution.resolve().relative_to(repo_root.resolve())
    if relative.parts[0] != "solutions":
        raise ValueError(f"{solution} is not under {repo_root / 'solutions'}")
    return Path("notebooks", *relative.parts[1:]).as_posix()


def colab_url(repository: str, notebook_path: str, branch: str = BRANCH) -> str:
    """The Colab address that opens ``notebook_path`` of the GitHub ``repository`` at ``branch``."""
    owner_repo = repository.removeprefix("https://github.com/")
    return f"https://colab.research.google.com/github/{owner_repo}/blob/{branch}/{notebook_path}"


def header_cells(repository: str, notebook_path: str, branch: str = BRANCH) -> list[nbformat.NotebookNode]:
    """The badge (markdown) and setup (code) cells for the notebook released at ``notebook_path``."""
    badge = nbformat.v4.new_markdown_cell(
        f"[![Open this notebook in Google Colab]({BADGE_IMAGE})]({colab_url(repository, notebook_path, branch)})")
    setup = nbformat.v4.new_code_cell(
        SETUP_TEMPLATE.format(first_line=SETUP_FIRST_LINE, repository=repository, branch=branch))
    badge.id, setup.id = BADGE_CELL_ID, SETUP_CELL_ID
    return [badge, setup]


def is_header_cell(cell: nbformat.NotebookNode) -> bool:
    """True for a badge or setup cell this tool wrote (any version of it)."""
    return (cell.get("id") in (BADGE_CELL_ID, SETUP_CELL_ID)
            or (cell.cell_type == "markdown" and BADGE_IMAGE in cell.source)
            or (cell.cell_type == "code" and cell.source.startswith(SETUP_FIRST_LINE)))


def stamped(notebook: nbformat.NotebookNode, header: list[nbformat.NotebookNode]) -> nbformat.NotebookNode:
    """``notebook`` with every old header cell removed, ``header`` in front and ``KERNELSPEC``; other cells
    untouched."""
    body = [cell for cell in notebook.cells if not is_header_cell(cell)]
    result = nbformat.from_dict(notebook)
    result.cells = [nbformat.from_dict(cell) for cell in header] + body
    result.metadata["kernelspec"] = nbformat.from_dict(KERNELSPEC)
    return result


def has_current_header(notebook: nbformat.NotebookNode, header: list[nbformat.NotebookNode]) -> bool:
    """True when the first two cells are exactly ``header``, no other header cell is left below them and the
    kernelspec is ``KERNELSPEC``."""
    first = notebook.cells[:2]
    same = len(first) == 2 and all(
        (a.cell_type, a.source, a.get("id")) == (b.cell_type, b.source, b.get("id")) for a, b in zip(first, header))
    return (same and not any(is_header_cell(cell) for cell in notebook.cells[2:])
            and notebook.metadata.get("kernelspec") == KERNELSPEC)


def solution_notebooks(repo_root: Path = REPO_ROOT) -> list[Path]:
    """Every ``solutions/<a>/<a>.ipynb`` (one notebook per assignment folder, named after it)."""
    return sorted(p for p in (repo_root / "solutions").glob("*/*.ipynb") if p.stem == p.parent.name)


def notebook_paths(names: list[str], repo_root: Path = REPO_ROOT) -> list[Path]:
    """Solution notebooks given by path or by assignment name (``01_data_transforms`` ->
    ``solutions/01_data_transforms/01_data_transforms.ipynb``); every one of them when ``names`` is empty."""
    if not names:
        return solution_notebooks(repo_root)
    paths = []
    for name in names:
        path = Path(name)
        if path.suffix != ".ipynb":
            path = repo_root / "solutions" / name / f"{name}.ipynb"
        if not path.is_file():
            known = ", ".join(p.stem for p in solution_notebooks(repo_root))
            raise SystemExit(f"no notebook {name!r}: give a path or one of {known}")
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", help="solutions notebooks, by path or name (default: all of them)")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a header is not current")
    args = parser.parse_args(argv)
    repository = repository_url()
    paths = notebook_paths(args.notebooks)
    outdated = []
    for path in paths:
        notebook = nbformat.read(path, as_version=4)
        header = header_cells(repository, release_path(path))
        if has_current_header(notebook, header):
            continue
        outdated.append(path)
        if not args.check:
            updated = stamped(notebook, header)
            nbformat.validate(updated)
            nbformat.write(updated, path)
            print(f"notebook_header: stamped {path.relative_to(REPO_ROOT) if path.is_absolute() else path}")
    if args.check and outdated:
        print("notebook_header: header missing or outdated in: " + ", ".join(map(str, outdated))
              + "; run `python tools/notebook_header.py` then `make release`.", file=sys.stderr)
        return 1
    if not outdated:
        print(f"notebook_header: {len(paths)} notebook(s) already current")
    return 0


if __name__ == "__main__":
    sys.exit(main())
