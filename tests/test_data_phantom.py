"""The offline phantom set: Montgomery layout and names, deterministic, and a real (if easier) learning problem."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from course_lib.data import load_split, make_phantom_dataset
from course_lib.data.phantom import render_case
from course_lib.data.splits import all_case_names


def test_the_full_phantom_has_every_montgomery_case(phantom_root):
    folder = phantom_root / "phantom" / "MontgomerySet"
    for sub in ("CXR_png", "ManualMask/leftMask", "ManualMask/rightMask"):
        assert sorted(p.stem for p in (folder / sub).glob("*.png")) == all_case_names()
    split = load_split()
    assert sum(len(v) for v in split.values()) == 138
    assert sum(name.endswith("_1") for name in all_case_names()) == 58


def test_a_small_phantom_keeps_both_classes_and_8_bit_pngs(small_phantom_dir):
    names = sorted(p.stem for p in (small_phantom_dir / "CXR_png").glob("*.png"))
    assert len(names) == 8 and set(names) <= set(all_case_names())
    assert {name[-1] for name in names} == {"0", "1"}
    with Image.open(small_phantom_dir / "CXR_png" / f"{names[0]}.png") as image:
        assert image.mode == "L"


def test_rendering_is_deterministic_by_seed():
    first, second, other = render_case(7), render_case(7), render_case(8)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    assert first[0].shape != other[0].shape or not np.array_equal(first[0], other[0])


def test_datasets_with_the_same_seed_are_identical_and_reused(tmp_path):
    a = make_phantom_dataset(tmp_path / "a", n_cases=2, seed=5, progress=False)
    b = make_phantom_dataset(tmp_path / "b", n_cases=2, seed=5, progress=False)
    for path in a.rglob("*.png"):
        assert path.read_bytes() == (b / path.relative_to(a)).read_bytes()
    stamp = (a / "CXR_png").stat().st_mtime_ns
    assert make_phantom_dataset(tmp_path / "a", n_cases=2, seed=5, progress=False) == a
    assert (a / "CXR_png").stat().st_mtime_ns == stamp                      # reused, not rewritten
    make_phantom_dataset(tmp_path / "a", n_cases=2, seed=6, progress=False)  # another recipe replaces it
    assert json.loads((a / "phantom.json").read_text())["seed"] == 6
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["MontgomerySet"]


def test_anatomy_lungs_darker_left_lung_on_the_image_right_and_cut_by_the_heart():
    darker, heights, widths, bands = [], set(), set(), 0
    for seed in range(12):
        image, right, left = render_case(seed, tb=seed % 2 == 1)
        heights.add(image.shape[0])
        widths.add(image.shape[1])
        lungs = (right > 0) | (left > 0)
        body = (image > 60) & ~lungs
        darker.append(image[lungs].mean() < image[body].mean() - 25)
        columns = np.nonzero(left.any(axis=0))[0], np.nonzero(right.any(axis=0))[0]
        assert columns[0].mean() > image.shape[1] / 2 > columns[1].mean()   # patient's left on the image's right
        assert right.sum() > 0.05 * 255 * image.size and left.sum() > 0.04 * 255 * image.size
        assert set(np.unique(right)) == {0, 255}
        bands += bool((image == 0).all(axis=1).any() or (image == 0).all(axis=0).any())
    assert all(darker)
    assert len(heights) > 1 and len(widths) > 1
    assert 0 < bands < 12                                                   # some, not all, have black bands


def test_bad_case_counts_are_refused(tmp_path):
    for n in (0, 139):
        with pytest.raises(ValueError, match="n_cases"):
            make_phantom_dataset(tmp_path, n_cases=n, progress=False)
