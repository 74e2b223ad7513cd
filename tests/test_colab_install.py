"""What the Colab setup cell installs (a non-editable `pip install` of the repository) carries every data file.

Locally the course is installed editable, so a JSON manifest or any other non-Python file under course_lib/
is always found; on Colab the package comes from a built wheel, and a file that the build leaves out only
fails there, in front of a student.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import zipfile

from course_lib.settings import repository_root

REPO_ROOT = repository_root()


def test_the_built_package_contains_every_file_under_course_lib(tmp_path):
    source = tmp_path / "source"
    shutil.copytree(REPO_ROOT / "course_lib", source / "course_lib",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO_ROOT / name, source / name)
    offline = ["--no-build-isolation"] if importlib.util.find_spec("setuptools") else []
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", *offline, str(source),
                           "-w", str(tmp_path / "wheel")], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"building the course's wheel failed: {done.stderr[-2000:]}"
    (wheel,) = (tmp_path / "wheel").glob("*.whl")
    packaged = set(zipfile.ZipFile(wheel).namelist())
    expected = {p.relative_to(source).as_posix() for p in (source / "course_lib").rglob("*") if p.is_file()}
    missing = sorted(expected - packaged)
    assert not missing, (f"pip install of the repository (the Colab route) leaves out {missing}: list them in "
                         "pyproject.toml [tool.setuptools.package-data], e.g. course_lib = [\"**/*.json\"]")
