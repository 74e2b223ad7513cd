"""The downloader against zips the tests build: good, wrong checksum, interrupted, hostile, not Montgomery."""

from __future__ import annotations

import hashlib
import stat
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from course_lib.data import ChecksumError, DatasetError, UnsafeArchiveError, download_montgomery
from course_lib.data.files import has_montgomery_layout


def _png_bytes(tmp_path: Path, value: int) -> bytes:
    path = tmp_path / f"tmp_{value}.png"
    Image.fromarray(np.full((4, 4), value, np.uint8)).save(path)
    return path.read_bytes()


def _zip(tmp_path: Path, extra: list[tuple[str, bytes]] = (), link: str | None = None, name="set.zip") -> tuple[str, str]:
    """A Montgomery-like zip (two cases) plus ``extra`` members; returns (file:// url, sha256)."""
    archive = tmp_path / name
    image, mask = _png_bytes(tmp_path, 90), _png_bytes(tmp_path, 255)
    with zipfile.ZipFile(archive, "w") as zipped:
        for case in ("MCUCXR_0001_0", "MCUCXR_0002_1"):
            zipped.writestr(f"MontgomerySet/CXR_png/{case}.png", image)
            zipped.writestr(f"MontgomerySet/ManualMask/leftMask/{case}.png", mask)
            zipped.writestr(f"MontgomerySet/ManualMask/rightMask/{case}.png", mask)
        zipped.writestr("MontgomerySet/NLM-MontgomeryCXRSet-ReadMe.txt", b"readme")
        for member, content in extra:
            zipped.writestr(member, content)
        if link is not None:
            info = zipfile.ZipInfo("MontgomerySet/CXR_png/link.png")
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zipped.writestr(info, link)
    return archive.as_uri(), hashlib.sha256(archive.read_bytes()).hexdigest()


def _leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


def test_a_good_zip_is_downloaded_verified_and_extracted(tmp_path):
    url, digest = _zip(tmp_path)
    root = tmp_path / "data"
    folder = download_montgomery(root, url=url, sha256=digest, progress=False)
    assert folder == root / "MontgomerySet" and has_montgomery_layout(folder)
    assert sorted(p.name for p in (folder / "CXR_png").iterdir()) == ["MCUCXR_0001_0.png", "MCUCXR_0002_1.png"]
    assert _leftovers(root) == ["MontgomerySet", "set.zip"]        # no .part, no temporary folders


def test_download_is_idempotent(tmp_path):
    url, digest = _zip(tmp_path)
    root = tmp_path / "data"
    download_montgomery(root, url=url, sha256=digest, progress=False)
    # a complete set is returned without touching the network (this url does not exist)
    assert download_montgomery(root, url="file:///nowhere/set.zip", sha256=digest, progress=False).is_dir()
    # a verified archive is extracted again without downloading
    import shutil
    shutil.rmtree(root / "MontgomerySet")
    assert has_montgomery_layout(download_montgomery(root, url="file:///nowhere/set.zip", sha256=digest, progress=False))


def test_a_checksum_mismatch_keeps_nothing(tmp_path):
    url, _ = _zip(tmp_path)
    root = tmp_path / "data"
    with pytest.raises(ChecksumError, match="expected 0000"):
        download_montgomery(root, url=url, sha256="0" * 64, progress=False)
    assert _leftovers(root) == []


def test_an_interrupted_or_corrupted_earlier_download_is_replaced(tmp_path):
    url, digest = _zip(tmp_path)
    root = tmp_path / "data"
    root.mkdir()
    (root / "set.zip.part").write_bytes(b"half a download")
    (root / "set.zip").write_bytes(b"a corrupted archive")
    folder = download_montgomery(root, url=url, sha256=digest, progress=False)
    assert has_montgomery_layout(folder)
    assert hashlib.sha256((root / "set.zip").read_bytes()).hexdigest() == digest
    assert not (root / "set.zip.part").exists()


def test_an_unreachable_url_says_what_to_do(tmp_path):
    with pytest.raises(DatasetError, match="mirror"):
        download_montgomery(tmp_path / "data", url=(tmp_path / "missing.zip").as_uri(), sha256="0" * 64, progress=False)
    assert _leftovers(tmp_path / "data") == []


@pytest.mark.parametrize("member, match", [
    ("../escaped.txt", r"\.\."),
    ("MontgomerySet/../../escaped.txt", r"\.\."),
    ("/tmp/escaped_absolute.txt", "absolute"),
    ("C:/escaped.txt", "absolute"),
])
def test_hostile_paths_are_refused_and_nothing_is_written(tmp_path, member, match):
    url, digest = _zip(tmp_path, extra=[(member, b"evil")])
    root = tmp_path / "deep" / "data"
    with pytest.raises(UnsafeArchiveError, match=match):
        download_montgomery(root, url=url, sha256=digest, progress=False)
    assert not (root / "MontgomerySet").exists()
    assert [p.name for p in root.iterdir()] == ["set.zip"]          # no extraction folder left behind
    assert not list(tmp_path.rglob("escaped*"))


def test_symbolic_links_are_refused(tmp_path):
    url, digest = _zip(tmp_path, link="/etc/passwd")
    root = tmp_path / "data"
    with pytest.raises(UnsafeArchiveError, match="link"):
        download_montgomery(root, url=url, sha256=digest, progress=False)
    assert not (root / "MontgomerySet").exists()


def test_a_zip_without_the_montgomery_layout_is_refused(tmp_path):
    archive = tmp_path / "other.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("photos/cat.png", _png_bytes(tmp_path, 3))
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    with pytest.raises(DatasetError, match="not the Montgomery set"):
        download_montgomery(tmp_path / "data", url=archive.as_uri(), sha256=digest, progress=False)
    assert not (tmp_path / "data" / "MontgomerySet").exists()


def test_a_damaged_zip_with_the_right_checksum_is_reported(tmp_path):
    archive = tmp_path / "broken.zip"
    archive.write_bytes(b"PK\x03\x04 not really a zip")
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    with pytest.raises(DatasetError, match="not a valid zip"):
        download_montgomery(tmp_path / "data", url=archive.as_uri(), sha256=digest, progress=False)


def test_an_incomplete_folder_under_the_final_name_is_not_overwritten(tmp_path):
    url, digest = _zip(tmp_path)
    root = tmp_path / "data"
    (root / "MontgomerySet" / "CXR_png").mkdir(parents=True)
    (root / "MontgomerySet" / "notes.txt").write_text("mine")
    with pytest.raises(DatasetError, match="not a complete MontgomerySet"):
        download_montgomery(root, url=url, sha256=digest, progress=False)
    assert (root / "MontgomerySet" / "notes.txt").read_text() == "mine"


def test_members_that_collide_fail_clearly(tmp_path):
    url, digest = _zip(tmp_path, extra=[("MontgomerySet/x", b"a file"), ("MontgomerySet/x/y.txt", b"under it")])
    with pytest.raises(DatasetError, match="extracting"):
        download_montgomery(tmp_path / "data", url=url, sha256=digest, progress=False)
    assert [p.name for p in (tmp_path / "data").iterdir()] == ["set.zip"]
