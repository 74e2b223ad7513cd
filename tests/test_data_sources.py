"""course_lib.data.sources: where datasets live, which is the default, and how a folder is split; a new source is
one registry entry away from the command line."""

from __future__ import annotations

import json

import pytest

from course_lib import cli
from course_lib.data import SOURCES, DatasetError, Source, load_split, register, resolve_dataset, split_for
from course_lib.data.phantom import make_phantom_dataset

TINY = ["--model", "cfcm18", "--config", "quick", "--base", "4", "--size", "32", "--batch-size", "4", "--epochs", "1",
        "--device", "cpu", "--quiet"]


@pytest.fixture
def hospital(tmp_path, isolated_data_root):
    """A second hospital's X-rays, registered as a source of its own (here a small phantom under other names)."""
    folder = make_phantom_dataset(tmp_path / "hospital2", n_cases=9, progress=False)
    for path in (folder / "CXR_png").glob("*.png"):  # other case names than Montgomery's
        for sub in ("CXR_png", "ManualMask/leftMask", "ManualMask/rightMask"):
            (folder / sub / path.name).rename(folder / sub / path.name.replace("MCUCXR", "HOSP2"))
    source = register(Source("hospital2", lambda: folder, "a second hospital's chest X-rays (test fixture)"))
    yield source
    del SOURCES["hospital2"]


def test_a_registered_source_trains_and_evaluates_through_the_command_line(hospital, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COURSE_QUICK", "1")
    assert cli.main(["train", "--data", "hospital2", *TINY, "--out", str(tmp_path / "run"), "--json"]) == 0
    trained = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert trained["data"] == str(hospital.folder()) and 0.0 <= trained["test_dice"] <= 1.0
    assert cli.main(["evaluate", "--checkpoint", trained["checkpoint"], "--data", "hospital2", "--json"]) == 0
    scored = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert scored["images"] == 9 and all(name.startswith("HOSP2") for name in scored["per_image"])


def test_a_folder_without_the_course_cases_is_split_by_seed_and_stratified(hospital):
    parts = split_for(hospital.folder())
    assert parts == split_for(hospital.folder()), "the same folder must always split the same way"
    names = sorted(name for part in parts.values() for name in part)
    assert names == sorted(path.stem for path in (hospital.folder() / "CXR_png").glob("*.png"))
    assert all(parts[part] for part in ("train", "val", "test"))
    assert any(name.endswith("_1") for name in parts["train"]) and any(name.endswith("_0") for name in parts["train"])


def test_the_montgomery_cases_keep_the_course_split(montgomery_dir):
    assert split_for(montgomery_dir) == load_split()


def test_unknown_names_and_folders_are_refused_with_the_known_sources(tmp_path):
    with pytest.raises(DatasetError, match="neither a data source the course knows.*phantom"):
        resolve_dataset(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="registered already"):
        register(Source("phantom", lambda: tmp_path, "a second phantom"))


def test_the_command_line_names_the_sources_when_data_is_wrong(tmp_path, capsys):
    assert cli.main(["train", "--data", str(tmp_path / "nowhere"), *TINY]) == 2
    error = capsys.readouterr().err
    assert f"data folder {tmp_path / 'nowhere'} does not exist" in error and "montgomery, phantom" in error
