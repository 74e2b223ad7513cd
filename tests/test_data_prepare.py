"""prepare_arrays/prepare_split: the lab's pipeline as arrays, a safe cache, the course split, the default dataset."""

from __future__ import annotations

import os
import zipfile

import numpy as np
import pytest

from course_lib.data import (DatasetError, cross_validation_folds, default_dataset, load_split, prepare_arrays,
                             prepare_split, split_for)
from course_lib.cli import main
from course_lib.data.files import find_cases
from course_lib.data.prepare import cache_path
from course_lib.data.splits import all_case_names


def test_prepared_arrays_have_the_documented_shapes(small_phantom_dir, isolated_data_root):
    result = prepare_arrays(small_phantom_dir, size=(48, 40), workers=2, progress=False)
    assert result["images"].shape == result["labels"].shape == (8, 48, 40)
    assert result["images"].dtype == result["labels"].dtype == np.float32
    assert 0 <= result["images"].min() and result["images"].max() <= 1
    assert set(np.unique(result["labels"])) == {0.0, 1.0}
    assert result["names"] == sorted(result["names"]) and len(result["names"]) == 8
    serial = prepare_arrays(small_phantom_dir, size=(48, 40), workers=1, cache=False, progress=False)
    np.testing.assert_array_equal(serial["images"], result["images"])


def test_the_cache_is_reused_keyed_and_never_unpickled(small_phantom_dir, isolated_data_root, tmp_path):
    first = prepare_arrays(small_phantom_dir, size=32, progress=False)
    cases = find_cases(small_phantom_dir / "CXR_png", small_phantom_dir / "ManualMask")
    path = cache_path(cases, (32, 32))
    assert path.is_file() and path.parent == isolated_data_root / "cache"
    with np.load(path, allow_pickle=False) as stored:                      # plain arrays only
        assert all(stored[key].dtype != object for key in stored.files)
    second = prepare_arrays(small_phantom_dir, size=32, progress=False)
    np.testing.assert_array_equal(first["labels"], second["labels"])
    assert cache_path(cases, (32, 48)) != path                             # parameters are in the key
    subset = prepare_arrays(small_phantom_dir, names=first["names"][:2], size=32, progress=False)
    assert subset["names"] == first["names"][:2]
    # a damaged cache entry is ignored and rewritten, not trusted
    path.write_bytes(b"garbage")
    again = prepare_arrays(small_phantom_dir, size=32, progress=False)
    np.testing.assert_array_equal(again["images"], first["images"])
    assert zipfile.is_zipfile(path)


def test_a_changed_source_file_changes_the_cache_key(small_phantom_dir, isolated_data_root, tmp_path):
    import shutil

    copy = tmp_path / "MontgomerySet"
    shutil.copytree(small_phantom_dir, copy)
    cases = find_cases(copy / "CXR_png", copy / "ManualMask")
    before = cache_path(cases, (16, 16))
    os.utime(cases[0].image, ns=(0, 10**9))
    assert cache_path(cases, (16, 16)) != before


def test_the_split_is_stratified_disjoint_and_complete():
    split = load_split()
    assert {k: len(v) for k, v in split.items()} == {"train": 96, "val": 20, "test": 22}
    assert sorted(sum(split.values(), [])) == all_case_names()
    tb = {k: sum(n.endswith("_1") for n in v) for k, v in split.items()}
    assert tb == {"train": 41, "val": 8, "test": 9}
    split["train"].clear()
    assert len(load_split()["train"]) == 96                                # callers get copies


def test_three_folds_test_every_case_once_and_are_stratified():
    folds = cross_validation_folds()
    assert [tuple(len(fold[k]) for k in ("train", "val", "test")) for fold in folds] == [(72, 20, 46)] * 3
    assert sorted(name for fold in folds for name in fold["test"]) == all_case_names()
    for fold in folds:
        assert sorted(fold["train"] + fold["val"] + fold["test"]) == all_case_names()
        tb_share = sum(n.endswith("_1") for n in fold["test"]) / 46
        assert abs(tb_share - 58 / 138) < 0.03, f"test fold is not stratified: {tb_share:.2f} tuberculosis"
    assert cross_validation_folds() == folds                                 # same folds on every machine
    assert cross_validation_folds(seed=1) != folds
    assert [len(f["test"]) for f in cross_validation_folds(folds=5, val_size=10)] == [28, 28, 28, 27, 27]
    with pytest.raises(ValueError, match="folds must be"):
        cross_validation_folds(folds=1)
    with pytest.raises(ValueError, match="val_size must be"):
        cross_validation_folds(val_size=92)


def test_the_split_names_match_the_real_set(real_montgomery_dir):
    if real_montgomery_dir is None:
        pytest.skip("the reduced real set (../shared/data/montgomery) is not on this machine")
    assert sorted(p.stem for p in (real_montgomery_dir / "CXR_png").glob("*.png")) == all_case_names()


def test_prepare_split_on_the_course_data(montgomery_dir, isolated_data_root):
    splits = prepare_split(montgomery_dir, size=32, progress=False)
    assert {k: v["images"].shape for k, v in splits.items()} == \
        {"train": (96, 32, 32), "val": (20, 32, 32), "test": (22, 32, 32)}
    assert splits["val"]["names"] == load_split()["val"]
    fraction = float(splits["train"]["labels"].mean())
    assert 0.1 < fraction < 0.6                                            # lungs fill a fair part of a cropped image
    fold = cross_validation_folds()[1]
    folded = prepare_split(montgomery_dir, size=32, split=fold, progress=False)
    assert {k: v["images"].shape[0] for k, v in folded.items()} == {"train": 72, "val": 20, "test": 46}
    assert folded["test"]["names"] == fold["test"]
    first = fold["test"][0]
    home = next(part for part in splits.values() if first in part["names"])  # where the course split put it
    assert (folded["test"]["images"][0] == home["images"][home["names"].index(first)]).all(), \
        "a case must get the same arrays whichever split it is handed out in"


def test_prepare_split_needs_every_case_of_the_split_it_is_given(small_phantom_dir, isolated_data_root):
    with pytest.raises(DatasetError, match="lacks 130"):
        prepare_split(small_phantom_dir, size=16, split=load_split())


def test_a_folder_without_the_course_cases_gets_its_own_split(small_phantom_dir, isolated_data_root):
    parts = prepare_split(small_phantom_dir, size=16, progress=False)
    names = {part: arrays["names"] for part, arrays in parts.items()}
    assert names == split_for(small_phantom_dir) == split_for(small_phantom_dir), "the split must be reproducible"
    everything = sorted(name for part in names.values() for name in part)
    assert everything == sorted(p.stem for p in (small_phantom_dir / "CXR_png").glob("*.png"))
    assert all(names[part] for part in ("train", "val", "test")), names


def test_default_dataset_prefers_cfcm_data_then_real_then_phantom(phantom_root, small_phantom_dir, monkeypatch,
                                                                    tmp_path):
    monkeypatch.setenv("CFCM_DATA", str(small_phantom_dir))
    assert default_dataset() == small_phantom_dir
    monkeypatch.setenv("CFCM_DATA", str(tmp_path / "nothing"))
    with pytest.raises(DatasetError, match="CFCM_DATA"):
        default_dataset()
    monkeypatch.delenv("CFCM_DATA")
    monkeypatch.setenv("CFCM_DATA_ROOT", str(phantom_root))
    assert default_dataset() == phantom_root / "phantom" / "MontgomerySet"  # the phantom, already generated
    real = tmp_path / "montgomery" / "MontgomerySet"
    import shutil

    shutil.copytree(small_phantom_dir, real)
    monkeypatch.setenv("CFCM_DATA_ROOT", str(tmp_path))
    assert default_dataset() == real


def test_command_line_phantom_and_errors(tmp_path, capsys):
    assert main(["data", "phantom", "--root", str(tmp_path), "--n-cases", "2"]) == 0
    assert "phantom set ready" in capsys.readouterr().out
    assert main(["data", "download", "--root", str(tmp_path / "d"), "--url", (tmp_path / "none.zip").as_uri(),
                 "--sha256", "0" * 64]) == 2, "bad input exits with 2, as train and evaluate do"
    assert "error:" in capsys.readouterr().err


def test_large_originals_are_shrunk_fast_and_close_to_the_exact_resize():
    from course_lib.data.prepare import shrink_large
    from course_lib.data.transforms import resize_image

    y, x = np.mgrid[0:1200, 0:1000]
    image = (0.5 + 0.4 * np.sin(x / 37.0) * np.cos(y / 23.0)).astype(np.float32)
    fast = resize_image(shrink_large(image, (64, 64)), (64, 64))
    exact = resize_image(image, (64, 64))
    assert shrink_large(image, (64, 64)).shape == (128, 128)
    assert np.abs(fast - exact).mean() < 0.01
    small = np.ones((200, 200), np.float32)
    assert shrink_large(small, (64, 64)) is small                         # the reduced set keeps the exact path
