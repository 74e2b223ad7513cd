"""`make lab` / `make instructor`: JupyterLab with nbgrader's tools only for instructors, global config untouched."""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import start_lab  # tools/start_lab.py (conftest puts tools/ on the import path)
from course_lib.settings import repository_root

REPO_ROOT = repository_root()


def test_student_launch_switches_nbgrader_off_for_that_process_only(tmp_path):
    launch = start_lab.build_launch("student", REPO_ROOT / "notebooks", 8999, open_browser=False, token="t0k",
                                    private_config_dir=tmp_path / "config")
    disabled = [a for a in launch.argv if a.startswith("--ServerApp.jpserver_extensions=")]
    assert "--ServerApp.jpserver_extensions=nbgrader=False" in disabled
    assert all(a.endswith("=False") and "nbgrader" in a for a in disabled)
    assert f"--ServerApp.root_dir={REPO_ROOT / 'notebooks'}" in launch.argv
    assert launch.env["JUPYTER_CONFIG_PATH"].split(os.pathsep)[0] == str(tmp_path / "config" / "student")
    page_config = json.loads((tmp_path / "config" / "student" / "labconfig" / "page_config.json").read_text())
    assert page_config["disabledExtensions"][start_lab.NBGRADER_LAB_EXTENSION] is True
    assert launch.url == "http://localhost:8999/lab?token=t0k"


def test_instructor_launch_keeps_nbgrader_and_guards_its_generate_button(tmp_path):
    launch = start_lab.build_launch("instructor", REPO_ROOT, 8999, open_browser=True, private_config_dir=tmp_path)
    switched = [a for a in launch.argv if "jpserver_extensions" in a]
    assert switched == [f"--ServerApp.jpserver_extensions={start_lab.GENERATE_GUARD}=True"], switched
    page_config = json.loads((tmp_path / "instructor" / "labconfig" / "page_config.json").read_text())
    assert start_lab.NBGRADER_LAB_EXTENSION not in page_config["disabledExtensions"]


def test_bad_arguments_are_named(tmp_path):
    with pytest.raises(SystemExit, match="does not exist"):
        start_lab.build_launch("student", tmp_path / "missing", 8999, open_browser=False)
    with pytest.raises(ValueError, match="'student' or 'instructor'"):
        start_lab.build_launch("teacher", tmp_path, 8999, open_browser=False)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([sys.executable, str(REPO_ROOT / "tools" / "start_lab.py"), "--instructor",
                               "--no-browser", "--port", str(port)], capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and f"port {port} is taken" in done.stderr


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_the_workspace_is_made_once_and_never_overwritten(tmp_path):
    release, workspace = tmp_path / "notebooks", tmp_path / "workspace"
    (release / "01_a" / ".ipynb_checkpoints").mkdir(parents=True)
    (release / "01_a" / "01_a.ipynb").write_text("release of 01")
    (release / "01_a" / ".ipynb_checkpoints" / "01_a-checkpoint.ipynb").write_text("lab's own copy")
    copied = start_lab.sync_workspace(release, workspace)
    assert [p.relative_to(workspace).as_posix() for p in copied] == ["01_a/01_a.ipynb"]
    assert not (workspace / "01_a" / ".ipynb_checkpoints").exists(), "JupyterLab's checkpoints are not copied"

    (workspace / "01_a" / "01_a.ipynb").write_text("the student's answers")
    (release / "01_a" / "01_a.ipynb").write_text("release of 01, regenerated")  # `make release` after an edit
    (release / "02_b").mkdir()
    (release / "02_b" / "02_b.ipynb").write_text("release of 02")               # a new assignment
    copied = start_lab.sync_workspace(release, workspace)
    assert [p.relative_to(workspace).as_posix() for p in copied] == ["02_b/02_b.ipynb"]
    assert (workspace / "01_a" / "01_a.ipynb").read_text() == "the student's answers"

    (workspace / "02_b" / "02_b.ipynb").unlink()  # the README's way to start an assignment afresh
    assert start_lab.sync_workspace(release, workspace) == [workspace / "02_b" / "02_b.ipynb"]
    assert (workspace / "02_b" / "02_b.ipynb").read_text() == "release of 02"
    assert start_lab.sync_workspace(release, workspace) == []


def test_the_workspace_is_git_ignored():
    done = subprocess.run(["git", "check-ignore", "-q", "workspace/01_data_transforms/01_data_transforms.ipynb"],
                          cwd=REPO_ROOT)
    assert done.returncode == 0, "workspace/ must be git-ignored: it holds a student's own work"


def _run_lab(mode: str, tmp_path: Path, *, root: Path | None = None, bare_path: bool = False,
             pages: tuple[str, ...] = ("/formgrader", "/lab"), posts: tuple[str, ...] = ()
             ) -> tuple[dict[str, tuple[int, str]], str]:
    """Start the real command, fetch `pages` and POST to `posts` ({page: (status, body)}) and its printed output;
    stop it.

    With `root`, the lab serves that folder and runs from it (how an instructor serves a course copy); with
    `bare_path`, PATH holds only the system's folders, as in a shell with no virtual environment activated.
    """
    port, token = _free_port(), secrets.token_hex(8)
    user_config = tmp_path / "user-config"
    user_config.mkdir()
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(user_config), JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"))
    if bare_path:
        env["PATH"] = "/usr/bin:/bin"
    command = [sys.executable, str(REPO_ROOT / "tools" / "start_lab.py"), f"--{mode}", "--no-browser",
               "--port", str(port), "--token", token, "--workspace", str(tmp_path / "workspace")]
    if root is not None:
        command += ["--root", str(root)]
    log_path = tmp_path / "lab.log"
    fetched = {}
    with log_path.open("w") as log:
        process = subprocess.Popen(command, env=env, cwd=root, stdout=log, stderr=subprocess.STDOUT)
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 240
            while _status_or_none(f"{base}/api/status?token={token}") != 200:
                assert process.poll() is None, f"start_lab exited early:\n{log_path.read_text()[-3000:]}"
                assert time.monotonic() < deadline, f"JupyterLab did not start:\n{log_path.read_text()[-3000:]}"
                time.sleep(0.5)
            for page in pages:
                fetched[page] = _fetch(f"{base}{page}?token={token}")
            for page in posts:
                fetched[page] = _fetch(f"{base}{page}?token={token}", data=b"")
        finally:
            process.terminate()
            process.wait(timeout=30)
    # Jupyter itself drops a 'migrated' marker there; any configuration file would be ours.
    written = [p.name for p in user_config.iterdir() if p.name != "migrated"]
    assert written == [], f"start_lab wrote {written} into the user's Jupyter config folder"
    return fetched, log_path.read_text()


def _fetch(url: str, data: bytes | None = None) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, data=data, timeout=120) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


def _status_or_none(url: str) -> int | None:
    try:
        return _status(url)
    except OSError:
        return None


def _disabled_extensions(page: str) -> list[str]:
    match = re.search(r'"disabledExtensions": (\[[^\]]*\])', page)
    assert match, "the lab page carries no page config"
    return json.loads(match.group(1))


def test_student_lab_has_no_instructor_tools(tmp_path):
    fetched, output = _run_lab("student", tmp_path)
    (formgrader, _), (_, page) = fetched["/formgrader"], fetched["/lab"]
    assert formgrader == 404, "nbgrader's formgrader is served to students"
    assert start_lab.NBGRADER_LAB_EXTENSION in _disabled_extensions(page)
    assert "notebooks will read data from" in output and "/lab?token=" in output
    assert "made your workspace" in output and (tmp_path / "workspace" / "01_data_transforms").is_dir()


def test_instructor_lab_has_formgrader(tmp_path):
    fetched, output = _run_lab("instructor", tmp_path)
    (formgrader, _), (_, page) = fetched["/formgrader"], fetched["/lab"]
    assert formgrader != 404, "nbgrader's formgrader is missing for instructors"
    assert start_lab.NBGRADER_LAB_EXTENSION not in _disabled_extensions(page)


def test_formgrader_works_from_a_plain_shell_with_no_generate_click_and_its_generate_keeps_typed_answers(tmp_path):
    """`make instructor` registers every assignment in the gradebook first (a new gradebook needs nbgrader's
    `alembic` command, which a shell without the environment lacks), so formgrader can autograde and grade by hand
    at once; and formgrader's Generate and Release buttons refuse, changing nothing, a release holding typed answers
    (Generate would replace them, Release would hand them to the class)."""
    from nbgrader.api import Gradebook

    course = tmp_path / "course"
    shutil.copytree(REPO_ROOT / "solutions", course / "solutions",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    shutil.copytree(REPO_ROOT / "notebooks", course / "notebooks",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    shutil.copy(REPO_ROOT / "nbgrader_config.py", course)
    typed = course / "notebooks" / "01_data_transforms" / "01_data_transforms.ipynb"
    typed.write_text(typed.read_text().replace("raise NotImplementedError()", "return 'my answer'", 1))
    before = typed.read_bytes()
    generate, release = (f"/formgrader/api/assignment/01_data_transforms/{action}" for action in ("assign", "release"))
    fetched, output = _run_lab("instructor", tmp_path, root=course, bare_path=True,
                               pages=("/formgrader/api/assignments",), posts=(generate, release))
    status, body = fetched["/formgrader/api/assignments"]
    assert status == 200, f"formgrader's assignment list failed ({status}):\n{body[-2000:]}\n{output[-3000:]}"
    names = sorted(assignment["name"] for assignment in json.loads(body))
    solutions = sorted(p.name for p in (REPO_ROOT / "solutions").iterdir() if p.is_dir() and not p.name.startswith("."))
    assert names == solutions, names
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        assert sorted(a.name for a in gradebook.assignments) == solutions, "registered before formgrader started"
    assert "start_lab: registered" in output, output[-2000:]
    for action in (generate, release):
        status, body = fetched[action]
        result = json.loads(body)
        assert status == 200 and result["success"] is False, f"{action}: {body[-2000:]}"
        assert "answers typed into the release" in result["error"] and "01_data_transforms.ipynb" in result["error"]
    assert typed.read_bytes() == before, "formgrader's Generate replaced a notebook someone typed answers into"
