"""The two ways to install the course ask for the same packages."""

import re
import tomllib
from course_lib.settings import repository_root

ROOT = repository_root()


def _pyproject_requirements() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = set(project["dependencies"])
    for group in project["optional-dependencies"].values():
        requirements.update(group)
    return {re.sub(r"\s+", "", r) for r in requirements}


def _environment_requirements() -> set[str]:
    lines = (ROOT / "environment.yml").read_text().splitlines()
    pip_entries = [line.strip()[2:].strip() for line in lines if line.startswith("      - ")]
    return {re.sub(r"\s+", "", entry) for entry in pip_entries if entry != "-e ."}


def test_environment_yml_matches_pyproject():
    in_pyproject = _pyproject_requirements()
    in_environment = _environment_requirements()
    assert in_environment == in_pyproject, (
        f"only in pyproject.toml: {sorted(in_pyproject - in_environment)}; "
        f"only in environment.yml: {sorted(in_environment - in_pyproject)}"
    )


def test_core_dependencies_need_no_jupyter():
    core = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    names = {re.split(r"[<>=!~ \[]", requirement)[0].lower() for requirement in core}
    assert names == {"torch", "numpy", "scikit-image", "scipy", "matplotlib", "tqdm", "pillow"}


def test_ci_runs_the_readme_test_command():
    ci_commands = [
        line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.startswith("#") and not line.startswith(("set ", "cd "))
    ]
    readme = (ROOT / "README.md").read_text()
    for command in ci_commands:
        assert command in readme, f".ci/run runs {command!r}, which the README does not show"
