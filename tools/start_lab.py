#!/usr/bin/env python3
"""Start JupyterLab for the course: students on ``notebooks/``, instructors with nbgrader's tools.

``make lab`` runs ``--student``: it prepares the dataset the notebooks use (the offline phantom set unless
``$CFCM_DATA`` or a downloaded real set is there) and serves ``notebooks/`` with nbgrader switched off, because
its formgrader and create-assignment toolbar are instructor tools that only confuse a first session.
``make instructor`` runs ``--instructor``: the repository root (``solutions/`` included) with nbgrader on.

nbgrader is switched off for this one JupyterLab process only: its server extensions through command-line
options, its JupyterLab extension through a private ``page_config.json`` (under ``build/jupyter-config/``)
placed first on ``JUPYTER_CONFIG_PATH``. The user's own Jupyter configuration is never written.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
PRIVATE_CONFIG_DIR = REPO_ROOT / "build" / "jupyter-config"
NBGRADER_LAB_EXTENSION = "@jupyter/nbgrader"
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
    config_dir = private_config_dir / mode
    write_page_config(config_dir, mode)
    env = dict(os.environ)
    env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(filter(None, [str(config_dir), env.get("JUPYTER_CONFIG_PATH")]))
    host = "localhost" if ip in (LOCALHOST, "localhost", "0.0.0.0", "") else ip
    return LabLaunch(argv=argv, env=env, url=f"http://{host}:{port}/lab?token={token}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--student", action="store_const", dest="mode", const="student",
                      help="serve notebooks/ without nbgrader's instructor tools; prepare the data first")
    mode.add_argument("--instructor", action="store_const", dest="mode", const="instructor",
                      help="serve the repository root (solutions/, notebooks/) with nbgrader's tools")
    parser.add_argument("--port", type=int, default=None,
                        help=f"port to listen on (default: the first free one from {DEFAULT_PORT})")
    parser.add_argument("--ip", default=LOCALHOST, help=f"address to listen on (default {LOCALHOST})")
    parser.add_argument("--no-browser", action="store_true", help="do not open a web browser")
    parser.add_argument("--root", type=Path, default=None,
                        help="folder to serve instead of the default (notebooks/ for students, the repository root "
                             "for instructors)")
    parser.add_argument("--token", default=None, help="access token (default: a random one, printed in the URL)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    default_root = REPO_ROOT / "notebooks" if args.mode == "student" else REPO_ROOT
    root = (args.root or default_root).resolve()
    if args.port is not None and not port_is_free(args.port, args.ip if args.ip != "0.0.0.0" else ""):
        raise SystemExit(f"start_lab: port {args.port} is taken; pass another --port or leave it out.")
    port = args.port if args.port is not None else first_free_port(host=args.ip if args.ip != "0.0.0.0" else "")
    if args.mode == "student":
        prepare_data()
    launch = build_launch(args.mode, root, port, open_browser=not args.no_browser, ip=args.ip, token=args.token)
    tools = "without nbgrader's instructor tools" if args.mode == "student" else "with nbgrader's instructor tools"
    print(f"start_lab: JupyterLab on {root} ({args.mode}, {tools})", flush=True)
    print(f"start_lab: open {launch.url}", flush=True)
    print("start_lab: stop it with Ctrl-C (twice)", flush=True)
    # Replace this process, so Ctrl-C and kill reach JupyterLab directly.
    os.execve(launch.argv[0], launch.argv, launch.env)


if __name__ == "__main__":
    main()
