"""What each notebook's setup cell does on Google Colab once the course package is installed.

A Colab runtime is a fresh machine that can disconnect at any time: the course installs what Colab lacks
(never its torch, which matches its CUDA), prepares the data, and can keep data, caches and checkpoints on
Google Drive so that a disconnect does not cost a student the run. This module imports anywhere (no Colab,
Jupyter or torch needed at import time) and ``setup_colab`` does nothing off Colab.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

DISTRIBUTION = "cfcm-course"
DRIVE_MOUNT_POINT = Path("/content/drive")
DRIVE_FOLDER = "MyDrive/cfcm-course"
# Colab's torch is built for its CUDA; reinstalling it would take minutes and could break the GPU.
NEVER_REINSTALLED = frozenset({"torch"})


@dataclass(frozen=True)
class ColabSetup:
    """What the setup cell arranged: where the data is, where caches and checkpoints go, the device found."""

    dataset: Path
    data_root: Path
    on_drive: bool
    device: str


def on_colab() -> bool:
    """True inside a Google Colab kernel (which always has ``google.colab`` imported)."""
    return "google.colab" in sys.modules


def requirement_name(requirement: str) -> str:
    """The distribution name of a requirement string, e.g. ``'scikit-image>=0.21'`` -> ``'scikit-image'``."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    if match is None:
        raise ValueError(f"cannot read a package name from the requirement {requirement!r}")
    return match.group(1)


def is_installed(name: str) -> bool:
    """True when a distribution called ``name`` is installed in this environment."""
    try:
        metadata.version(name)
    except metadata.PackageNotFoundError:
        return False
    return True


def core_requirements() -> list[str]:
    """The course's core requirements as installed (no extras): read from the package, listed once in pyproject."""
    return [r for r in metadata.requires(DISTRIBUTION) or [] if "extra ==" not in r]


def missing_requirements(
    requirements: Iterable[str] | None = None, installed: Callable[[str], bool] = is_installed
) -> list[str]:
    """Requirements not installed here, never torch: what ``pip install --no-deps`` of the course left out."""
    requirements = core_requirements() if requirements is None else requirements
    return [r for r in requirements
            if requirement_name(r).lower() not in NEVER_REINSTALLED and not installed(requirement_name(r))]


def install_missing_requirements() -> list[str]:
    """pip-install the missing core requirements (Colab has most of them); return what was installed."""
    missing = missing_requirements()
    if missing:
        print(f"Installing what this runtime lacks: {', '.join(missing)}", flush=True)
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *missing], check=True)
    return missing


def keep_on_drive(folder: str = DRIVE_FOLDER, mount_point: Path | None = None) -> Path:
    """Mount Google Drive and make it the course's data root (data, caches, checkpoints); return that folder.

    Colab asks the student to allow access. Everything later in the session that calls
    ``course_lib.settings.data_root()`` then reads and writes on Drive, which outlives the runtime.
    """
    from google.colab import drive  # only on Colab

    mount_point = DRIVE_MOUNT_POINT if mount_point is None else mount_point
    drive.mount(str(mount_point))
    root = mount_point / folder / "data"
    root.mkdir(parents=True, exist_ok=True)
    os.environ["CFCM_DATA_ROOT"] = str(root)
    return root


def device_message() -> str:
    """Which device training will use, and on a CPU-only runtime how to get a GPU on Colab (the trainer's words)."""
    from course_lib.train.device import choose_device, describe_device

    return describe_device(choose_device(verbose=False))


def setup_colab(keep_data_on_drive: bool = False, real_data: bool = False) -> ColabSetup | None:
    """On Colab: install what is missing, optionally move the data root to Drive, prepare the data, name the device.

    ``real_data`` downloads the real Montgomery set (a large download, done once; kept on Drive when asked) instead of
    generating the offline phantom set. Off Colab this returns None and changes nothing.
    """
    if not on_colab():
        return None
    install_missing_requirements()
    from course_lib import settings
    from course_lib.data import SOURCES, default_dataset, download_montgomery

    if keep_data_on_drive:
        print(f"Data, caches and checkpoints will be kept on Google Drive in {keep_on_drive()}", flush=True)
    else:
        print("Data and checkpoints stay on this runtime and are lost when it disconnects "
              "(tick KEEP_ON_DRIVE in this cell to keep them on Google Drive).", flush=True)
    if real_data:
        download_montgomery(SOURCES["montgomery"].folder().parent)
    dataset = default_dataset()
    device = device_message()
    print(f"Dataset: {dataset}\n{device}", flush=True)
    return ColabSetup(dataset=dataset, data_root=settings.data_root(), on_drive=keep_data_on_drive, device=device)
