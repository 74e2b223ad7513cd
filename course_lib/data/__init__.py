"""Data for the course: one road for every source (real Montgomery download, offline phantom, a folder).

Every source lands in the Montgomery layout; the lab's dict transforms and batch iterator load it;
``prepare_arrays``/``prepare_split`` give the trainer cached float32 arrays. Bad data raises
:class:`DatasetError` (a ValueError) whose message names the file and the fix.
"""

from course_lib.data.errors import ChecksumError, CorruptImageError, DatasetError, MaskMismatchError, UnsafeArchiveError
from course_lib.data.iterators import BatchIterator
from course_lib.data.montgomery import MONTGOMERY_SHA256, MONTGOMERY_URL, download_montgomery
from course_lib.data.phantom import make_phantom_dataset
from course_lib.data.prepare import prepare_arrays, prepare_split
from course_lib.data.sources import SOURCES, Source, default_dataset, register, resolve_dataset, split_for
from course_lib.data.splits import cross_validation_folds, load_split
from course_lib.data.transforms import (CropActualImage, LungXRayDataset, RandomAffine, RandomFlip, RandomIntensity,
                                        RandomShift, ResizeImage, ShuffleData)

__all__ = ["DatasetError", "CorruptImageError", "MaskMismatchError", "ChecksumError", "UnsafeArchiveError",
           "BatchIterator", "MONTGOMERY_URL", "MONTGOMERY_SHA256", "download_montgomery", "default_dataset",
           "SOURCES", "Source", "register", "resolve_dataset", "split_for",
           "make_phantom_dataset", "prepare_arrays", "prepare_split", "load_split", "cross_validation_folds", "LungXRayDataset",
           "CropActualImage", "ResizeImage", "ShuffleData", "RandomFlip", "RandomShift", "RandomAffine",
           "RandomIntensity"]
