"""The one exception family for bad data, so callers catch a single documented type.

Every message names the file (or argument) at fault and says how to fix it. ``DatasetError``
derives from ``ValueError`` so code that already catches ``ValueError`` keeps working.
"""

from __future__ import annotations

__all__ = ["DatasetError", "CorruptImageError", "MaskMismatchError", "ChecksumError", "UnsafeArchiveError"]


class DatasetError(ValueError):
    """A dataset file or folder cannot be used as it is (missing, empty, wrong layout, black image...)."""


class CorruptImageError(DatasetError):
    """A PNG cannot be decoded (truncated, random bytes, zero-sized) or has an unsupported mode/bit depth."""


class MaskMismatchError(DatasetError):
    """An image has no mask, or a mask whose size differs from its image."""


class ChecksumError(DatasetError):
    """A downloaded archive does not have the expected sha256 (interrupted or tampered download)."""


class UnsafeArchiveError(DatasetError):
    """An archive holds absolute paths, '..' components or links that would escape the target folder."""
