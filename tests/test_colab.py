"""course_lib.colab: installs only what Colab lacks, never torch, and does nothing off Colab."""

from __future__ import annotations

import os
import sys

import course_lib.colab as colab


def test_requirement_names():
    assert colab.requirement_name("scikit-image>=0.21") == "scikit-image"
    assert colab.requirement_name("torch") == "torch"
    assert colab.requirement_name("pillow >=10 ; python_version > '3'") == "pillow"


def test_only_missing_requirements_are_installed_and_never_torch():
    requirements = ["torch>=2.1", "numpy>=1.24", "tqdm>=4.64", "pillow>=10"]
    present = {"numpy"}
    missing = colab.missing_requirements(requirements, installed=lambda name: name in present)
    assert missing == ["tqdm>=4.64", "pillow>=10"]


def test_core_requirements_come_from_the_installed_package():
    names = {colab.requirement_name(r).lower() for r in colab.core_requirements()}
    assert {"torch", "numpy", "scikit-image", "matplotlib", "tqdm", "pillow"} <= names
    assert "jupyterlab" not in names and "nbgrader" not in names


def test_setup_does_nothing_off_colab(monkeypatch):
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    monkeypatch.setattr(colab, "install_missing_requirements", lambda: (_ for _ in ()).throw(AssertionError))
    before = dict(os.environ)
    assert colab.on_colab() is False
    assert colab.setup_colab(keep_data_on_drive=True, real_data=True) is None
    assert dict(os.environ) == before


def test_a_cpu_only_runtime_is_told_how_to_get_a_gpu(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    message = colab.device_message()
    assert "CPU" in message and "Runtime > Change runtime type" in message


def test_setup_on_colab_keeps_data_on_drive_and_prepares_it(monkeypatch, tmp_path):
    import types

    import torch

    mounted, downloads = [], []
    drive = types.SimpleNamespace(mount=lambda path: mounted.append(path))
    google_colab = types.ModuleType("google.colab")
    google_colab.drive = drive
    from course_lib.data import SOURCES

    fake_data = types.ModuleType("course_lib.data")
    fake_data.SOURCES = SOURCES  # the real registry: its folders follow the data root that setup moves to Drive
    fake_data.download_montgomery = lambda root: downloads.append(root)
    fake_data.default_dataset = lambda: colab.Path(os.environ["CFCM_DATA_ROOT"]) / "phantom" / "MontgomerySet"
    monkeypatch.setitem(sys.modules, "google.colab", google_colab)
    monkeypatch.setitem(sys.modules, "course_lib.data", fake_data)
    monkeypatch.setattr(colab, "install_missing_requirements", lambda: [])
    monkeypatch.setattr(colab, "DRIVE_MOUNT_POINT", tmp_path / "drive")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setenv("CFCM_DATA_ROOT", str(tmp_path / "local"))  # setup moves it to Drive; restored afterwards

    result = colab.setup_colab(keep_data_on_drive=True, real_data=True)

    drive_root = tmp_path / "drive" / colab.DRIVE_FOLDER / "data"
    assert mounted == [str(tmp_path / "drive")]
    assert result.on_drive and result.data_root == drive_root and drive_root.is_dir()
    assert downloads == [drive_root / "montgomery"]
    assert result.dataset == drive_root / "phantom" / "MontgomerySet"
    assert "Change runtime type" in result.device
