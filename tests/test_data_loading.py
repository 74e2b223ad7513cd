"""Loading PNGs: full bit depth kept, and every kind of bad file ends in one documented exception naming it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from PIL import Image

from course_lib.data import CorruptImageError, DatasetError, LungXRayDataset, MaskMismatchError
from course_lib.data.files import CaseFiles, find_cases, read_case, read_png


def _write_case(root: Path, name: str, image: np.ndarray, mask: np.ndarray | None = None) -> Path:
    """A one-case MontgomerySet under ``root``; ``image`` saved as given (uint8 -> L, uint16 -> 16-bit)."""
    for folder in ("CXR_png", "ManualMask/leftMask", "ManualMask/rightMask"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    Image.fromarray(image).save(root / "CXR_png" / f"{name}.png")
    if mask is None:
        mask = np.zeros(image.shape[:2], np.uint8)
        mask[1:3, 1:3] = 255
    for side in ("leftMask", "rightMask"):
        Image.fromarray(mask).save(root / "ManualMask" / side / f"{name}.png")
    return root


def _load(root: Path) -> dict:
    return LungXRayDataset(root / "CXR_png", root / "ManualMask")({})


def test_loading_the_phantom_gives_float_images_in_unit_range_and_binary_labels(small_phantom_dir):
    names = sorted(p.stem for p in (small_phantom_dir / "CXR_png").glob("*.png"))[:3]
    data = LungXRayDataset(small_phantom_dir / "CXR_png", small_phantom_dir / "ManualMask", names=names)({})
    assert data["names"] == names
    for image, label in zip(data["images"], data["labels"]):
        assert image.dtype == label.dtype == np.float32 and image.shape == label.shape
        assert image.min() == 0.0 and image.max() == 1.0
        assert set(np.unique(label)) == {0.0, 1.0}
    assert "cases=3" in repr(LungXRayDataset(small_phantom_dir / "CXR_png", small_phantom_dir / "ManualMask", names))


def test_a_16_bit_png_keeps_its_12_bit_range(tmp_path):
    ramp = (np.arange(64 * 64).reshape(64, 64) % 4096).astype(np.uint16)    # 12-bit values, like the originals
    _write_case(tmp_path, "MCUCXR_0001_0", ramp)
    assert read_png(tmp_path / "CXR_png" / "MCUCXR_0001_0.png").max() == 4095
    image = _load(tmp_path)["images"][0]
    assert len(np.unique(image)) == 4096                          # not squeezed into 256 grey levels
    assert image.max() == 1.0 and image.min() == 0.0


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "P", "LA"])
def test_unexpected_modes_are_refused_with_the_fix(tmp_path, mode):
    _write_case(tmp_path, "case", np.full((8, 8), 100, np.uint8))
    Image.new(mode, (8, 8)).save(tmp_path / "CXR_png" / "case.png")
    with pytest.raises(CorruptImageError, match=r"case\.png.*grayscale"):
        _load(tmp_path)


@pytest.mark.parametrize("content", [b"", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, b"not an image at all"])
def test_empty_random_and_fake_files_name_the_file(tmp_path, content):
    _write_case(tmp_path, "case", np.full((8, 8), 100, np.uint8))
    (tmp_path / "CXR_png" / "case.png").write_bytes(content)
    with pytest.raises(CorruptImageError, match=r"case\.png"):
        _load(tmp_path)


def test_a_truncated_png_is_detected(tmp_path):
    rng = np.random.default_rng(0)
    _write_case(tmp_path, "case", rng.integers(0, 255, (64, 64), dtype=np.uint8))
    path = tmp_path / "CXR_png" / "case.png"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(CorruptImageError, match="truncated"):
        _load(tmp_path)


def test_a_mask_of_another_size_is_refused(tmp_path):
    _write_case(tmp_path, "case", np.full((8, 8), 100, np.uint8), mask=np.zeros((8, 9), np.uint8))
    with pytest.raises(MaskMismatchError, match=r"leftMask/case\.png is 9x8.*8x8"):
        _load(tmp_path)


def test_an_image_without_a_mask_is_refused(tmp_path):
    _write_case(tmp_path, "case", np.full((8, 8), 100, np.uint8))
    (tmp_path / "ManualMask" / "rightMask" / "case.png").unlink()
    with pytest.raises(MaskMismatchError, match=r"rightMask/case\.png"):
        _load(tmp_path)


def test_an_all_black_image_is_refused_by_name(tmp_path):
    _write_case(tmp_path, "MCUCXR_0042_1", np.zeros((8, 8), np.uint8))
    with pytest.raises(DatasetError, match="MCUCXR_0042_1.png is all black"):
        _load(tmp_path)


def test_missing_and_empty_folders_and_unknown_names(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        LungXRayDataset(tmp_path / "nowhere", tmp_path / "ManualMask")
    for folder in ("CXR_png", "ManualMask/leftMask", "ManualMask/rightMask"):
        (tmp_path / folder).mkdir(parents=True)
    with pytest.raises(DatasetError, match="no .png files"):
        LungXRayDataset(tmp_path / "CXR_png", tmp_path / "ManualMask")
    with pytest.raises(DatasetError, match="leftMask"):
        find_cases(tmp_path / "CXR_png", tmp_path)
    with pytest.raises(DatasetError, match="MCUCXR_0001_0"):
        LungXRayDataset(tmp_path / "CXR_png", tmp_path / "ManualMask", names=["MCUCXR_0001_0"])


# ---- property-based: whatever bytes or image a file holds, the loader returns valid arrays or raises DatasetError
def _case_at(root: Path) -> CaseFiles:
    return find_cases(root / "CXR_png", root / "ManualMask")[0]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=st.binary(max_size=300), cut=st.integers(0, 400))
def test_random_bytes_never_crash_the_loader(tmp_path_factory, payload, cut):
    root = _write_case(tmp_path_factory.mktemp("bytes"), "case", np.full((6, 6), 50, np.uint8))
    png = (root / "CXR_png" / "case.png").read_bytes()
    (root / "CXR_png" / "case.png").write_bytes(png[:cut] + payload)
    try:
        image, label = read_case(_case_at(root))
    except DatasetError as error:
        assert "case.png" in str(error)
    else:
        assert image.dtype == np.float32 and 0 <= image.min() and image.max() <= 1 and image.shape == label.shape


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(height=st.integers(1, 12), width=st.integers(1, 12), mode=st.sampled_from(["L", "I;16", "RGB", "1", "P"]),
       seed=st.integers(0, 2**16), mask_extra=st.integers(0, 1))
def test_random_images_load_correctly_or_fail_clearly(tmp_path_factory, height, width, mode, seed, mask_extra):
    rng = np.random.default_rng(seed)
    root = tmp_path_factory.mktemp("images")
    _write_case(root, "case", np.zeros((height, width), np.uint8), mask=np.zeros((height, width + mask_extra), np.uint8))
    top = 65535 if mode == "I;16" else 255
    pixels = rng.integers(0, top + 1, (height, width)).astype(np.uint16 if mode == "I;16" else np.uint8)
    picture = Image.fromarray(pixels) if mode in ("L", "I;16") else Image.fromarray(pixels.astype(np.uint8)).convert(mode)
    picture.save(root / "CXR_png" / "case.png")
    try:
        image, label = read_case(_case_at(root))
    except DatasetError as error:
        assert "case.png" in str(error)
        assert mask_extra or mode in ("RGB", "P") or pixels.min() == pixels.max() or mode == "1"
    else:
        assert mode in ("L", "I;16", "1") and not mask_extra
        assert image.shape == (height, width) and image.min() == 0.0 and image.max() == 1.0
        assert set(np.unique(label)) <= {0.0, 1.0}


def test_merge_masks_joins_the_two_lungs_whatever_their_values():
    from course_lib.data.files import merge_masks

    left = np.zeros((4, 5), np.uint8)
    right = np.zeros((4, 5), bool)
    left[0, 0], right[3, 4] = 255, True
    label = merge_masks(left, right)
    assert label.dtype == np.float32 and label.sum() == 2 and label[0, 0] == label[3, 4] == 1.0
    with pytest.raises(ValueError, match="both masks of a case must have its image's shape"):
        merge_masks(np.zeros((6, 5)), np.zeros((1, 5)))  # broadcastable, still refused
