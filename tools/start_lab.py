#!/usr/bin/env python3
"""Start JupyterLab for the course: students in a workspace of their own, instructors with nbgrader's tools.

``make lab`` runs ``--student``: it prepares the dataset the notebooks use (the offline phantom set unless
``$CFCM_DATA`` or a downloaded real set is there), copies the release (``notebooks/``) into the student's
workspace (``workspace/``, git-ignored) and serves that with nbgrader switched off, because its formgrader and
create-assignment toolbar are instructor tools that only confuse a first session. The workspace is made on the
first start and never overwritten: later starts copy in only what it does not have yet (an assignment released
since, or a notebook the student deleted to start afresh), so a student's answers survive `make release`, a
`git pull` and every other make target.
``make instructor`` runs ``--instructor``: the repository root (``solutions/`` included) with nbgrader on. Its
gradebook (``gradebook.db``) is given every assignment first (``tools/gradebook.py register``), so formgrader lists
them and can autograde and grade by hand without its *Generate* button; and that button goes through the release's
check for typed answers (``course_lib.instructor.formgrader``, loaded as a server extension of this JupyterLab only).

nbgrader is switched off for this one JupyterLab process only: its server extensions through command-line
options, its JupyterLab extension through a private ``page_config.json`` (under ``build/jupyter-config/``)
placed first on ``JUPYTER_CONFIG_PATH``. The user's own Jupyter configuration is never written.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

from course_lib.instructor.course import checkout

REPO_ROOT = checkout()
RELEASE_DIR = REPO_ROOT / "notebooks"
WORKSPACE_DIR = REPO_ROOT / "workspace"
# What JupyterLab and Python leave next to notebooks: never part of a release, never copied.
NOT_COPIED = {".ipynb_checkpoints", "__pycache__"}
PRIVATE_CONFIG_DIR = REPO_ROOT / "build" / "jupyter-config"
NBGRADER_LAB_EXTENSION = "@jupyter/nbgrader"
GENERATE_GUARD = "course_lib.instructor.formgrader"  # formgrader's Generate behind the release's check
# Asks on first start whether to fetch news from the internet: noise for a student working offline.
ANNOUNCEMENTS_PLUGIN = "@jupyterlab/apputils-extension:announcements"
DEFAULT_PORT = 8888
LOCALHOST = "127.0.0.1"


@dataclass(frozen=True)
class LabLaunch:
    """Everything needed to start one JupyterLab process: its argv, its environment and the URL to open."""

    argv: list[str]
    env: dict[str, str]
    url: str


def port_is_free(port: int, host: str = LOCALHOST) -> bool:
    """True when nothing listens on ``host:port`` (a bind succeeds)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def first_free_port(start: int = DEFAULT_PORT, tries: int = 50, host: str = LOCALHOST) -> int:
    """The first free port from ``start`` on, so the URL we print is the one JupyterLab really uses."""
    for port in range(start, start + tries):
        if port_is_free(port, host):
            return port
    raise SystemExit(f"start_lab: no free port in {start}-{start + tries - 1}; pass --port with a free one.")


def nbgrader_server_extensions() -> list[str]:
    """Every nbgrader server extension Jupyter would load, as named in any config file plus the package itself."""
    from jupyter_core.paths import jupyter_config_path
    from jupyter_server.extension.config import ExtensionConfigManager

    configured = ExtensionConfigManager(read_config_path=jupyter_config_path()).get_jpserver_extensions()
    names = {name for name in configured if name == "nbgrader" or name.startswith("nbgrader.")}
    return sorted(names | {"nbgrader"})


def write_page_config(config_dir: Path, mode: str) -> Path:
    """Write ``<config_dir>/labconfig/page_config.json`` with the JupyterLab extensions ``mode`` runs without."""
    disabled = {ANNOUNCEMENTS_PLUGIN: True}
    if mode == "student":
        disabled[NBGRADER_LAB_EXTENSION] = True
    page_config = config_dir / "labconfig" / "page_config.json"
    page_config.parent.mkdir(parents=True, exist_ok=True)
    page_config.write_text(json.dumps({"disabledExtensions": disabled}, indent=2) + "\n")
    return page_config


def sync_workspace(release: Path, workspace: Path) -> list[Path]:
    """Copy every release file that ``workspace`` does not have yet; never replace or delete one. Returns the copies.

    A student's notebook therefore stays theirs, and deleting it (or any file) before the next start brings back
    a fresh copy from the release.
    """
    if not release.is_dir():
        raise SystemExit(f"start_lab: the release folder {release} does not exist; run `make release` first.")
    copied = []
    for source in sorted(release.rglob("*")):
        relative = source.relative_to(release)
        if source.is_dir() or NOT_COPIED & set(relative.parts):
            continue
        target = workspace / relative
        if target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
        copied.append(target)
    return copied


def prepare_data() -> Path:
    """The dataset the notebooks will use, generated once when it is the offline phantom set."""
    try:
        from course_lib.data import default_dataset
    except ImportError as error:
        raise SystemExit(
            f"start_lab: cannot import course_lib.data ({error}). Install the course first: "
            "`make lab` does it, or `pip install -e '.[lab]'` in your environment."
        ) from error
    print("start_lab: preparing the dataset (the offline set is generated once, then reused) ...", flush=True)
    dataset = default_dataset()
    print(f"start_lab: notebooks will read data from {dataset}", flush=True)
    return dataset


def register_assignments(course: Path) -> None:
    """Give the gradebook of the course directory ``course`` every assignment of its solutions/ (nothing when it is
    not a course directory), so formgrader lists them and grades without its Generate button."""
    if not ((course / "nbgrader_config.py").is_file() and (course / "solutions").is_dir()):
        return
    from course_lib.instructor.gradebook import register

    print(f"start_lab: registering the assignments in {course / 'gradebook.db'} ...", flush=True)
    names = register(course, course / "solutions")
    print(f"start_lab: {'registered ' + ', '.join(names) if names else 'every assignment is registered'}", flush=True)


def build_launch(
    mode: str,
    root: Path,
    port: int,
    open_browser: bool,
    ip: str = LOCALHOST,
    token: str | None = None,
    private_config_dir: Path = PRIVATE_CONFIG_DIR,
) -> LabLaunch:
    """The JupyterLab command for ``mode`` ("student" or "instructor") serving ``root`` on ``ip:port``."""
    if mode not in ("student", "instructor"):
        raise ValueError(f"mode must be 'student' or 'instructor', got {mode!r}")
    if not root.is_dir():
        raise SystemExit(f"start_lab: the folder to serve, {root}, does not exist; pass --root with an existing one.")
    token = token if token is not None else secrets.token_hex(24)
    argv = [
        sys.executable, "-m", "jupyterlab",
        f"--ServerApp.root_dir={root}",
        f"--ServerApp.ip={ip}",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.open_browser={open_browser}",
        # Offline friendliness: no news feed and no update check reaching out to the internet.
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        argv.append("--ServerApp.allow_root=True")  # containers and CI run as root
    if mode == "student":
        argv += [f"--ServerApp.jpserver_extensions={name}=False" for name in nbgrader_server_extensions()]
    else:
        argv.append(f"--ServerApp.jpserver_extensions={GENERATE_GUARD}=True")
    config_dir = private_config_dir / mode
    write_page_config(config_dir, mode)
    env = dict(os.environ)
    env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(filter(None, [str(config_dir), env.get("JUPYTER_CONFIG_PATH")]))
    # The environment's own commands first: formgrader runs `alembic` from PATH to create a new gradebook, and a
    # plain shell (no virtual environment activated) does not have it there.
    env["PATH"] = os.pathsep.join(filter(None, [str(Path(sys.executable).parent), env.get("PATH")]))
    host = "localhost" if ip in (LOCALHOST, "localhost", "0.0.0.0", "") else ip
    return LabLaunch(argv=argv, env=env, url=f"http://{host}:{port}/lab?token={token}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--student", action="store_const", dest="mode", const="student",
                      help="serve the student's workspace (a copy of notebooks/) without nbgrader's instructor "
                           "tools; prepare the data first")
    mode.add_argument("--instructor", action="store_const", dest="mode", const="instructor",
                      help="serve the repository root (solutions/, notebooks/) with nbgrader's tools")
    parser.add_argument("--port", type=int, default=None,
                        help=f"port to listen on (default: the first free one from {DEFAULT_PORT})")
    parser.add_argument("--ip", default=LOCALHOST, help=f"address to listen on (default {LOCALHOST})")
    parser.add_argument("--no-browser", action="store_true", help="do not open a web browser")
    parser.add_argument("--root", type=Path, default=None,
                        help="folder to serve instead of the default (the workspace for students, the repository "
                             "root for instructors); nothing is copied into it")
    parser.add_argument("--workspace", type=Path, default=WORKSPACE_DIR,
                        help=f"the student's workspace (default {WORKSPACE_DIR.relative_to(REPO_ROOT)}/): made from "
                             "the release on the first start, never overwritten")
    parser.add_argument("--token", default=None, help="access token (default: a random one, printed in the URL)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.mode == "student" and args.root is None:
        workspace = args.workspace.resolve()
        fresh = not workspace.exists()
        copied = sync_workspace(RELEASE_DIR, workspace)
        if fresh:
            print(f"start_lab: made your workspace {workspace} from the release: your notebooks and answers live "
                  "there (git ignores it; nothing overwrites it)", flush=True)
        elif copied:
            print(f"start_lab: copied {len(copied)} new file(s) from the release into {workspace} (nothing of yours "
                  "was replaced): " + ", ".join(str(path.relative_to(workspace)) for path in copied), flush=True)
        root = workspace
    else:
        root = (args.root or REPO_ROOT).resolve()
    if args.port is not None and not port_is_free(args.port, args.ip if args.ip != "0.0.0.0" else ""):
        raise SystemExit(f"start_lab: port {args.port} is taken; pass another --port or leave it out.")
    port = args.port if args.port is not None else first_free_port(host=args.ip if args.ip != "0.0.0.0" else "")
    if args.mode == "student":
        prepare_data()
    else:
        register_assignments(root)
    launch = build_launch(args.mode, root, port, open_browser=not args.no_browser, ip=args.ip, token=args.token)
    tools = "without nbgrader's instructor tools" if args.mode == "student" else "with nbgrader's instructor tools"
    print(f"start_lab: JupyterLab on {root} ({args.mode}, {tools})", flush=True)
    print(f"start_lab: open {launch.url}", flush=True)
    print("start_lab: stop it with Ctrl-C (twice)", flush=True)
    # Replace this process, so Ctrl-C and kill reach JupyterLab directly.
    os.execve(launch.argv[0], launch.argv, launch.env)


if __name__ == "__main__":
    main()
