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


def test_cpu_only_colab_is_told_how_to_get_a_gpu(monkeypatch):
    import torch
    import types

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    assert "Runtime > Change runtime type" in colab.device_message()
    monkeypatch.delitem(sys.modules, "google.colab")
    assert "CPU" in colab.device_message()
