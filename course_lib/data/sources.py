"""Where each dataset lives, which one the course uses by default, and how a dataset folder is split.

A *source* is a dataset in the Montgomery folder layout that the course knows by name: the real Montgomery set
(``make data`` downloads it), the offline phantom set (generated on first use), or any source a module
registers, such as a second hospital's X-rays. Adding one is a module that calls :func:`register` with a
:class:`Source`; ``python -m course_lib train --data NAME`` then trains on it.

``default_dataset()`` picks, in this order: the folder in ``$CFCM_DATA``; the real set if it is there; the
phantom set, made if needed. ``split_for(folder)`` gives the course's fixed 96/20/22 split of the Montgomery
case names when the folder holds them all (the real set and the phantom do), else a seeded, stratified
70/15/15 split of whatever cases the folder holds, so that any folder in the layout can be trained on.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from course_lib import settings
from course_lib.data.errors import DatasetError
from course_lib.data.files import IMAGE_FOLDER, has_montgomery_layout
from course_lib.data.splits import load_split

__all__ = ["Source", "SOURCES", "register", "source_folder", "default_dataset", "split_for", "resolve_dataset"]

SPLIT_SEED = 0
SHARES = {"val": 0.15, "test": 0.15}  # the rest trains


@dataclass(frozen=True)
class Source:
    """A named dataset: where it lives, how to make it when it can be made offline, and whether it may be the
    course's default (``default_rank``: lower first; None: only when asked for by name)."""

    name: str
    folder: Callable[[], Path]
    description: str
    make: Callable[[Path], Path] | None = None
    default_rank: int | None = None


SOURCES: dict[str, Source] = {}


def register(source: Source) -> Source:
    """Add ``source`` to the course's datasets (a name can be registered once)."""
    if source.name in SOURCES:
        raise ValueError(f"a data source called {source.name!r} is registered already")
    SOURCES[source.name] = source
    return source


def _make_phantom(folder: Path) -> Path:
    from course_lib.data.phantom import make_phantom_dataset  # scipy's filters: only when the set is generated

    return make_phantom_dataset(folder.parent, progress=not settings.quick_mode())


register(Source("montgomery", lambda: settings.data_root() / "montgomery" / "MontgomerySet",
                "the real Montgomery County chest X-ray set, downloaded by `make data`", default_rank=0))
register(Source("phantom", lambda: settings.data_root() / "phantom" / "MontgomerySet",
                "the offline phantom radiographs, generated on first use", make=_make_phantom, default_rank=1))


def source_folder(name: str) -> Path:
    """The folder of the source called ``name``, made first when it can be made and is not there yet."""
    if name not in SOURCES:
        raise DatasetError(f"no data source called {name!r}; the course knows {sorted(SOURCES)} (or pass a folder)")
    source = SOURCES[name]
    folder = source.folder()
    if has_montgomery_layout(folder):
        return folder
    if source.make is not None:
        return source.make(folder)
    raise DatasetError(f"the data source {name!r} ({source.description}) is not at {folder}; get it first")


def default_dataset() -> Path:
    """The MontgomerySet folder the course uses: ``$CFCM_DATA``, else the real set, else the phantom (made once)."""
    configured = os.environ.get("CFCM_DATA")
    if configured:
        folder = Path(configured).expanduser()
        if not has_montgomery_layout(folder):
            raise DatasetError(f"CFCM_DATA={configured} is not a MontgomerySet folder (CXR_png/ with PNGs, "
                               "ManualMask/leftMask/, ManualMask/rightMask/); fix the path or unset CFCM_DATA.")
        return folder
    ranked = sorted((s for s in SOURCES.values() if s.default_rank is not None), key=lambda s: s.default_rank)
    for source in ranked:
        if has_montgomery_layout(source.folder()):
            return source.folder()
    makeable = [source for source in ranked if source.make is not None]
    if not makeable:
        raise DatasetError("no dataset is present and none can be made offline; run `make data` or set CFCM_DATA")
    return source_folder(makeable[0].name)


def resolve_dataset(name_or_folder: str | Path | None) -> Path:
    """A dataset folder from what a user typed: None (the default), a registered source's name, or a folder."""
    if name_or_folder is None:
        return default_dataset()
    if str(name_or_folder) in SOURCES:
        return source_folder(str(name_or_folder))
    folder = Path(name_or_folder).expanduser()
    if not has_montgomery_layout(folder):
        raise DatasetError(f"{folder} is neither a data source the course knows ({sorted(SOURCES)}) nor a folder in "
                           "the Montgomery layout (CXR_png/ with PNGs, ManualMask/leftMask/, ManualMask/rightMask/)")
    return folder


def split_for(folder: str | Path) -> dict[str, list[str]]:
    """Case names per part ('train', 'val', 'test') for the dataset in ``folder``.

    The course's fixed split when the folder holds all of its cases; otherwise a split of the cases present,
    15 % validation and 15 % test (at least one each), stratified by the ``_1`` (tuberculosis) suffix when
    names carry it and drawn from a fixed seed, so the same folder always splits the same way.
    """
    present = sorted(path.stem for path in (Path(folder) / IMAGE_FOLDER).glob("*.png"))
    fixed = load_split()
    if set(name for names in fixed.values() for name in names) <= set(present):
        return fixed
    if len(present) < 3:
        raise DatasetError(f"{folder} holds {len(present)} images in {IMAGE_FOLDER}/; at least 3 are needed (one "
                           "each to train, validate and test)")
    rng = np.random.default_rng(SPLIT_SEED)
    parts: dict[str, list[str]] = {"train": [], "val": [], "test": []}
    groups = [[name for name in present if not name.endswith("_1")], [name for name in present if name.endswith("_1")]]
    for group in (group for group in groups if group):
        shuffled = [group[i] for i in rng.permutation(len(group))]
        counts = {part: int(round(share * len(shuffled))) for part, share in SHARES.items()}
        start = 0
        for part, count in counts.items():
            parts[part] += shuffled[start:start + count]
            start += count
        parts["train"] += shuffled[start:]
    for part in ("val", "test"):  # tiny folders: make sure each part has a case, taken from training
        if not parts[part]:
            parts[part].append(parts["train"].pop())
    return {part: sorted(names) for part, names in parts.items()}
