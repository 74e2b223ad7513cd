"""Run nbgrader in a course directory of its own, isolated from the user's Jupyter configuration.

nbgrader keeps state (gradebook.db, submitted/, autograded/, feedback/) in its course directory. The course's tools
build such a directory in a temporary folder from the checkout's nbgrader_config.py and solutions/, run
``python -m nbgrader ...`` there as a subprocess with HOME and the Jupyter config/data directories pointed inside
it, and copy back only what they were asked for. A user's ~/.jupyter/nbgrader_config.py cannot change a release or
a grade. The gradebook may live elsewhere (``db_url``): that is how assignments are registered in the instructor's
gradebook without touching the release (``gradebook.register``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from course_lib.settings import repository_root

__all__ = ["CourseDir", "NbgraderError", "find_assignments", "isolated_env", "checkout", "config_file",
           "SOURCE_DIRNAME", "RELEASE_DIRNAME", "GRADEBOOK"]

SOURCE_DIRNAME = "solutions"
RELEASE_DIRNAME = "notebooks"
GRADEBOOK = "gradebook.db"  # nbgrader's default name, at the root of a course directory
# Per-student state a clone must not inherit (each clone grades its own share of students).
WORK_FOLDERS = (".home", "submitted", "autograded", "feedback", "downloaded", "extracted")


class NbgraderError(RuntimeError):
    """An nbgrader command failed; the message holds the command and the end of its log."""


def checkout() -> Path:
    """The course checkout this library runs from; an error that says what to do when it runs from elsewhere."""
    root = repository_root()
    if root is None:
        raise NbgraderError("course_lib is not running from a checkout of the course (solutions/ and pyproject.toml "
                            "next to it): install the checkout with `make test` or `pip install -e .` and run the "
                            "tools from it")
    return root


def config_file() -> Path:
    """The checkout's nbgrader_config.py, which every course directory here starts from."""
    return checkout() / "nbgrader_config.py"


def find_assignments(solutions_dir: Path) -> list[str]:
    """Assignment names under ``solutions_dir``: folders holding at least one notebook, sorted."""
    solutions_dir = Path(solutions_dir)
    if not solutions_dir.is_dir():
        raise FileNotFoundError(f"{solutions_dir} is not a folder: pass the folder that holds "
                                "<assignment>/<assignment>.ipynb")
    return sorted(child.name for child in solutions_dir.iterdir()
                  if child.is_dir() and not child.name.startswith(".") and any(child.glob("*.ipynb")))


def isolated_env(home: Path, threads: int | None = None) -> dict[str, str]:
    """The environment for an nbgrader subprocess: private HOME and Jupyter dirs, the course's Python first.

    ``threads`` caps the math libraries' threads per kernel (use cores / workers when grading in parallel).
    """
    env = dict(os.environ)
    home = Path(home)
    for name, sub in (("HOME", ""), ("JUPYTER_CONFIG_DIR", ".jupyter"), ("JUPYTER_DATA_DIR", ".local/share/jupyter"),
                      ("JUPYTER_RUNTIME_DIR", ".local/share/jupyter/runtime"), ("IPYTHONDIR", ".ipython")):
        path = home / sub if sub else home
        path.mkdir(parents=True, exist_ok=True)
        env[name] = str(path)
    env.pop("JUPYTER_CONFIG_PATH", None)
    env.pop("JUPYTER_PATH", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(checkout()), env.get("PYTHONPATH", "")]))
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.setdefault("MPLBACKEND", "Agg")
    env["PYTHONWARNINGS"] = "ignore::DeprecationWarning"  # nbgrader/jupyter deprecation chatter in the logs only
    if threads is not None:
        for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            env[name] = str(max(1, threads))
    return env


def _write_config(root: Path, db_url: str | None) -> None:
    """The checkout's nbgrader_config.py with the course root (and, when given, the gradebook) pinned."""
    lines = [config_file().read_text(encoding="utf-8"), f"c.CourseDirectory.root = {str(root)!r}"]
    if db_url is not None:
        lines.append(f"c.CourseDirectory.db_url = {db_url!r}")
    (root / "nbgrader_config.py").write_text("\n".join(lines) + "\n", encoding="utf-8")


@dataclass
class CourseDir:
    """An nbgrader course directory: ``root`` holds nbgrader_config.py, solutions/ and nbgrader's state."""

    root: Path
    env: dict[str, str]
    gradebook_url: str | None = None  # where its gradebook is, when not at root/gradebook.db

    @classmethod
    def create(cls, root: Path, solutions_dir: Path, assignments: list[str] | None = None,
               threads: int | None = None, db_url: str | None = None) -> CourseDir:
        """Lay out ``root`` with the course config and a copy of the chosen assignments' sources."""
        root = Path(root).resolve()
        root.mkdir(parents=True, exist_ok=True)
        _write_config(root, db_url)
        names = assignments if assignments is not None else find_assignments(solutions_dir)
        for name in names:
            source = Path(solutions_dir) / name
            if not source.is_dir():
                raise FileNotFoundError(f"no assignment folder {source}: expected {source}/{name}.ipynb")
            shutil.copytree(source, root / SOURCE_DIRNAME / name, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", "*.pyc"))
        return cls(root=root, env=isolated_env(root / ".home", threads), gradebook_url=db_url)

    def clone(self, root: Path, threads: int | None = None) -> CourseDir:
        """A copy of this course (sources, releases, gradebook; no student work) at ``root``, configured for it."""
        root = Path(root).resolve()
        shutil.copytree(self.root, root, ignore=shutil.ignore_patterns(*WORK_FOLDERS))
        _write_config(root, None)
        return CourseDir(root=root, env=isolated_env(root / ".home", threads))

    def run(self, *args: str, check: bool = True, timeout: float | None = None) -> subprocess.CompletedProcess:
        """``python -m nbgrader *args`` in the course directory; raises NbgraderError on failure when ``check``."""
        command = [sys.executable, "-m", "nbgrader", *args]
        done = subprocess.run(command, cwd=self.root, env=self.env, capture_output=True, text=True, timeout=timeout)
        if check and done.returncode != 0:
            log = (done.stdout + done.stderr)[-4000:]
            raise NbgraderError(f"`nbgrader {' '.join(args)}` failed (exit {done.returncode}) in {self.root}:\n{log}")
        return done

    def generate(self, assignment: str) -> Path:
        """``nbgrader generate_assignment``: the release folder of ``assignment`` (also fills the gradebook)."""
        self.run("generate_assignment", assignment, "--force")
        return self.root / RELEASE_DIRNAME / assignment

    @property
    def db_url(self) -> str:
        return self.gradebook_url or f"sqlite:///{self.root / GRADEBOOK}"
