"""Getting the real Montgomery set safely (``course_lib.data.sources`` says where it lives and when it is used).

The download streams into a temporary file while hashing it, and only a verified archive is renamed
into place; extraction checks every member (no absolute paths, no '..', no links) and happens in a
temporary folder that is renamed to ``MontgomerySet`` at the end, so a partial dataset is never
visible under the final name. Interrupted downloads leave only a ``.part`` file, removed by the next try.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path, PurePosixPath

from tqdm.auto import tqdm

from course_lib.data.errors import ChecksumError, DatasetError, UnsafeArchiveError
from course_lib.data.files import has_montgomery_layout

__all__ = ["MONTGOMERY_URL", "MONTGOMERY_SHA256", "download_montgomery", "safe_extract"]

MONTGOMERY_URL = "http://openi.nlm.nih.gov/imgs/collections/NLM-MontgomeryCXRSet.zip"
MONTGOMERY_SHA256 = "54601e952315d8f67383e9202a6e145997ade429f54f7e0af44b4e158714f424"
_CHUNK = 1 << 20


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _fetch(url: str, target: Path, sha256: str, progress: bool) -> None:
    """Streams ``url`` into ``target.part`` while hashing, then renames it to ``target`` when the hash matches."""
    part = target.with_name(target.name + ".part")
    part.unlink(missing_ok=True)                    # a previous interrupted try: start clean
    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=60) as response, open(part, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=target.name, disable=not progress) as bar:
                for block in iter(lambda: response.read(_CHUNK), b""):
                    out.write(block)
                    digest.update(block)
                    bar.update(len(block))
            out.flush()
            os.fsync(out.fileno())
    except (urllib.error.URLError, OSError) as error:
        part.unlink(missing_ok=True)
        raise DatasetError(f"downloading {url} failed ({error}); check the network or pass a mirror with "
                           "url=... (file:// works), then try again: the next attempt starts clean.") from None
    got = digest.hexdigest()
    if got != sha256.lower():
        part.unlink(missing_ok=True)
        raise ChecksumError(f"{url} downloaded with sha256 {got}, expected {sha256}: the download was interrupted "
                            "or the file changed. Nothing was kept; try again, or pass the right sha256=... for "
                            "a mirror you trust.")
    os.replace(part, target)


def _check_member(info: zipfile.ZipInfo, archive: Path) -> PurePosixPath | None:
    """The member's safe relative path (None for folders); UnsafeArchiveError for escapes and links."""
    name = info.filename.replace("\\", "/")
    path = PurePosixPath(name)
    fix = "the archive is damaged or hostile; download it again from the NLM (nothing was extracted)."
    if path.is_absolute() or (len(path.parts) and ":" in path.parts[0]):
        raise UnsafeArchiveError(f"{archive}: member '{info.filename}' has an absolute path; {fix}")
    if ".." in path.parts:
        raise UnsafeArchiveError(f"{archive}: member '{info.filename}' climbs out with '..'; {fix}")
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise UnsafeArchiveError(f"{archive}: member '{info.filename}' is a symbolic link; {fix}")
    if info.is_dir() or not path.parts:
        return None
    return path


def safe_extract(archive: Path, destination: Path) -> None:
    """Extracts ``archive`` into ``destination`` after checking EVERY member first; nothing lands outside it."""
    destination = Path(destination).resolve()
    try:
        with zipfile.ZipFile(archive) as zipped:
            members = [(info, _check_member(info, archive)) for info in zipped.infolist()]
            for info, relative in members:
                if relative is None:
                    continue
                target = (destination / relative).resolve()
                if not target.is_relative_to(destination):
                    raise UnsafeArchiveError(f"{archive}: member '{info.filename}' would be written outside "
                                             f"{destination}; the archive is hostile, nothing was kept.")
                target.parent.mkdir(parents=True, exist_ok=True)
                with zipped.open(info) as source, open(target, "wb") as out:
                    shutil.copyfileobj(source, out, _CHUNK)
    except (zipfile.BadZipFile, EOFError) as error:
        raise DatasetError(f"{archive} is not a valid zip ({error}); delete it and download again.") from None
    except OSError as error:
        raise DatasetError(f"extracting {archive} into {destination} failed ({error}); check the free disk space, "
                           "or the archive is damaged: delete it and download again.") from None


def _find_set(folder: Path) -> Path | None:
    """The folder inside an extracted archive that has the Montgomery layout."""
    candidates = [folder] + sorted(p for p in folder.rglob("*") if p.is_dir() and "__MACOSX" not in p.parts)
    return next((c for c in candidates if has_montgomery_layout(c)), None)


def download_montgomery(root: str | Path, url: str = MONTGOMERY_URL, sha256: str = MONTGOMERY_SHA256,
                        progress: bool = True) -> Path:
    """Downloads, verifies and extracts the Montgomery set; returns ``root/MontgomerySet``.

    Idempotent: an existing complete ``MontgomerySet`` is returned at once, and a verified archive in
    ``root`` is not downloaded again. Raises ChecksumError (nothing kept) on a hash mismatch,
    UnsafeArchiveError for hostile archives, DatasetError when the archive lacks the layout.
    """
    root = Path(root)
    final = root / "MontgomerySet"
    if has_montgomery_layout(final):
        return final
    if final.exists():
        raise DatasetError(f"{final} exists but is not a complete MontgomerySet (CXR_png/ with PNGs, ManualMask/"
                           "leftMask/, ManualMask/rightMask/); move it away or delete it, then download again.")
    root.mkdir(parents=True, exist_ok=True)
    archive = root / (PurePosixPath(urllib.parse.urlparse(url).path).name or "montgomery.zip")
    if archive.is_file() and _sha256(archive) != sha256.lower():
        archive.unlink()                            # corrupted or interrupted earlier copy: fetch again
    if not archive.is_file():
        _fetch(url, archive, sha256, progress)
    workdir = Path(tempfile.mkdtemp(prefix=".extract-", dir=root))
    try:
        safe_extract(archive, workdir)
        found = _find_set(workdir)
        if found is None:
            raise DatasetError(f"{archive} (from {url}) holds no CXR_png/ with ManualMask/leftMask and rightMask; "
                               "it is not the Montgomery set: check the url.")
        found.rename(final)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return final
