"""Shared fixtures: where the real reduced Montgomery set is (when this machine has it) and phantom sets.

``montgomery_dir`` is the real reduced set (``<repo>/../shared/data/montgomery/MontgomerySet``) when it
exists, else the full 138-case phantom generated once per test session. Tests never write into the
repository's ``data/``: use the ``isolated_data_root`` fixture when code under test caches or downloads.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from course_lib.data.files import has_montgomery_layout
from course_lib.data.phantom import make_phantom_dataset
from course_lib.settings import repository_root

REPO_ROOT = repository_root()
if REPO_ROOT is None:
    raise pytest.UsageError("course_lib is not this checkout's (installed elsewhere?): run the tests with the "
                            "checkout installed, e.g. `make test`")
# Some tests import the scripts of tools/ (start_lab, library_shape, notebook_header, embed_figures) as modules.
# tools/ is a folder of scripts, not a package: its folder goes on the import path here, once.
sys.path.insert(0, str(REPO_ROOT / "tools"))
SMALL_PHANTOM_CASES = 8


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "guide: follows CONTRIBUTING.md on a copy of the repository (a few minutes); "
                                       "-m 'not guide' leaves it out")


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The course checkout."""
    return REPO_ROOT


@pytest.fixture(scope="session")
def real_montgomery_dir() -> Path | None:
    """The reduced real set's MontgomerySet folder, or None where this machine does not have it."""
    folder = REPO_ROOT.parent / "shared" / "data" / "montgomery" / "MontgomerySet"
    return folder if has_montgomery_layout(folder) else None


@pytest.fixture(scope="session")
def phantom_root(tmp_path_factory) -> Path:
    """A data root whose ``phantom/MontgomerySet`` holds the full 138-case phantom (as default_dataset makes it)."""
    root = tmp_path_factory.mktemp("data_root")
    make_phantom_dataset(root / "phantom", progress=False)
    return root


@pytest.fixture(scope="session")
def small_phantom_dir(tmp_path_factory) -> Path:
    """A MontgomerySet folder with a few phantom cases (both classes), for quick loader tests."""
    return make_phantom_dataset(tmp_path_factory.mktemp("small_phantom"), n_cases=SMALL_PHANTOM_CASES, progress=False)


@pytest.fixture(scope="session")
def montgomery_dir(request, real_montgomery_dir) -> Path:
    """The real reduced set when present, else the 138-case phantom: the same layout and case names."""
    if real_montgomery_dir is not None:
        return real_montgomery_dir
    return request.getfixturevalue("phantom_root") / "phantom" / "MontgomerySet"


@pytest.fixture
def strict_checks(monkeypatch) -> None:
    """Exercise checks raise on failure, as under nbgrader (a test then asserts on the exception's message)."""
    monkeypatch.setenv("COURSE_STRICT_CHECKS", "1")


@pytest.fixture
def student_session(monkeypatch) -> None:
    """Exercise checks show their result instead of raising, as in a student's own Jupyter session."""
    for name in ("COURSE_STRICT_CHECKS", "NBGRADER_EXECUTION"):
        monkeypatch.delenv(name, raising=False)


def ok_lines(text: str) -> list[str]:
    """The headings of the passed checks in printed output (each check prints its heading, then its message)."""
    return [line for line in text.splitlines() if line.startswith("OK ")]


@pytest.fixture
def isolated_data_root(tmp_path, monkeypatch) -> Path:
    """Points ``settings.data_root()`` at an empty temporary folder (caches, downloads) for one test."""
    root = tmp_path / "data_root"
    monkeypatch.setenv("CFCM_DATA_ROOT", str(root))
    monkeypatch.delenv("CFCM_DATA", raising=False)
    return root
