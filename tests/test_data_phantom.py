"""The offline phantom set: Montgomery layout and names, deterministic, and anatomy and appearance that vary as
real radiographs do (how close it comes to the real set is measured by benchmarks/phantom_realism.py)."""

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
    assert 0 < bands < 12          # some, not all, have black rows or columns (unexposed plate, air beside the body)


@pytest.fixture(scope="module")
def rendered() -> list[tuple[np.ndarray, np.ndarray, np.ndarray, bool]]:
    """24 cases, every other one a tuberculosis case: (image, right mask, left mask, tb)."""
    return [(*render_case(100 + seed, tb=seed % 2 == 1), seed % 2 == 1) for seed in range(24)]


def test_the_heart_cuts_the_left_lung_which_is_the_smaller(rendered):
    ratios = [(left > 0).sum() / (right > 0).sum() for _, right, left, tb in rendered if not tb]
    assert np.median(ratios) < 0.95, f"left/right lung area: median {np.median(ratios):.3f}"
    # the heart sits low and medial: the left lung's lower medial quarter is mostly gone, the right's is not
    def lower_medial_share(mask: np.ndarray, medial_is_left: bool) -> float:
        rows, cols = np.nonzero(mask)
        low = rows > np.percentile(rows, 75)
        medial = cols < np.median(cols) if medial_is_left else cols > np.median(cols)
        return (low & medial).mean()
    left_share = np.median([lower_medial_share(left > 0, True) for _, _, left, tb in rendered if not tb])
    right_share = np.median([lower_medial_share(right > 0, False) for _, right, _, tb in rendered if not tb])
    assert left_share < right_share


def test_each_lung_reaches_its_lowest_point_at_the_costophrenic_angle(rendered):
    lateral = []
    for _, right, left, _ in rendered:
        for mask, lateral_is_left in ((right > 0, True), (left > 0, False)):
            rows, cols = np.nonzero(mask)
            lowest = cols[rows >= rows.max() - 2].mean()
            third = np.percentile(cols, 33 if lateral_is_left else 67)
            lateral.append(lowest < third if lateral_is_left else lowest > third)
    assert np.mean(lateral) > 0.8, f"lowest point on the lateral side in {np.mean(lateral):.0%} of lungs"


def test_exposure_contrast_and_anatomy_vary_between_cases(rendered):
    lung_means, areas = [], []
    for image, right, left, _ in rendered:
        lungs = (right > 0) | (left > 0)
        lung_means.append(image[lungs].mean() / max(image.max(), 1))
        areas.append(lungs.mean())
    assert np.std(lung_means) > 0.03 and np.std(areas) > 0.02


def test_tuberculosis_signs_stay_in_the_lungs_and_fluid_leaves_the_mask():
    from course_lib.data.phantom_anatomy import LEFT, draw_thorax, fill
    from course_lib.data.phantom_xray import consolidation, effusion

    thorax = draw_thorax(np.random.default_rng(3), 520, 480)
    lung = fill(thorax, thorax.lungs[1])
    patches = consolidation(np.random.default_rng(4), thorax, lung.astype(np.float32))
    assert patches.max() > 0.1 and patches[~lung].max() < 1e-6          # opacities inside the lung fields only
    drained, fluid = effusion(np.random.default_rng(5), thorax, lung, LEFT)
    assert (drained <= lung).all() and drained.sum() < lung.sum()       # the fluid is no longer outlined as lung
    assert np.nonzero(drained)[0].max() < np.nonzero(lung)[0].max()     # the base, with its angle, is hidden
    assert fluid[lung & ~drained].mean() > 0.5                          # and reads as soft tissue there


def test_parallel_generation_writes_the_same_set(tmp_path):
    serial = make_phantom_dataset(tmp_path / "serial", n_cases=4, seed=3, progress=False, workers=1)
    parallel = make_phantom_dataset(tmp_path / "parallel", n_cases=4, seed=3, progress=False, workers=2)
    for path in serial.rglob("*.png"):
        assert path.read_bytes() == (parallel / path.relative_to(serial)).read_bytes()


def test_bad_case_counts_are_refused(tmp_path):
    for n in (0, 139):
        with pytest.raises(ValueError, match="n_cases"):
            make_phantom_dataset(tmp_path, n_cases=n, progress=False)
