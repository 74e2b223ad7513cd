"""Named training recipes, so that a notebook or the command line picks one by name instead of editing numbers.

Every recipe is a frozen dataclass; ``get_config("fast", epochs=5)`` returns a copy with fields changed.
The recipes and why each value was chosen:

* ``lab``: the original lab, unchanged: 256x256, batch 16, 40 epochs, Adam at 3.3e-5 with a constant rate,
  no batch norm, no augmentation, validation only once the training Dice passes 0.92 (to save time in 2018).
* ``fast``: ours for one GPU. Batch norm (as in the CFCM paper) lets the rate rise ~60x to 2e-3 with AdamW;
  a one-cycle schedule warms up then anneals, which reaches a high Dice in far fewer epochs than a constant
  rate; small affine warps on the device (rotation, scale, shift; no left-right flips, which are anatomically
  implausible) fight over-fitting on 96 training images. Mixed precision and channels-last make each step
  cheaper. Not yet measured on a GPU: benchmarks/montgomery_gpu.py compares it with and without augmentation
  (on the CPU recipe augmentation did not pay off in 30 epochs and once collapsed, RESULTS.md section 3a).
* ``cpu``: for a 2-core CPU, about nine CPU minutes with one thread. Over five seeds through the command line
  on the fixed split: test Dice 0.9674 +- 0.0045 (worst 0.9615), stable on every seed (benchmarks/RESULTS.md
  section 6). 128x128 (a quarter of 256x256's pixels); base 16 (base 8 stalled near 0.952); instance norm
  (batch norm's running statistics at batch 4 made validation alone dip, to 0.79); AdamW one-cycle to 2e-3 with
  the gradient's norm clipped to 1 (without clipping the gradients grew 1000-fold at the peak and the run
  diverged; at a peak of 3e-3, even clipped, two seeds of five fell 0.05 below their best); affine warps without
  flips; batch 4 rather than 8 (twice the updates for the same epoch time on one thread); 30 epochs. One CPU
  thread: where another process keeps one of two cores busy, two threads spin against each other (measured with
  benchmarks/full_mode_epochs.py: notebook 4's CFCM34 took 197 s per epoch with two threads, 52 s with one;
  RESULTS.md section 5b); on an idle two-core machine a second thread would be at most about twice as fast.
* ``reference``: the yardstick the benchmarks measure the course's recipes and networks against, issue 5's
  straightforward recipe: 128x128, base 16, no normalisation, batch 8, 30 epochs, Adam at 1e-3 with a constant rate,
  no augmentation. benchmarks/montgomery_cpu.py and montgomery_folds.py train CFCM34 with it, montgomery_folds.py
  and acquisition_shift.py MONAI's BasicUNet, the best peer (RESULTS.md sections 3, 4 and 7; MONAI itself stays out of
  course_lib).
* ``quick``: CI and grading. 32x32, base 4, 16 images, 2 epochs; every code path (schedule, augmentation,
  validation, checkpoints) still runs, in a few seconds. One CPU thread: on tensors this small a second thread
  saves nothing, and where another process keeps a core busy two threads spin against each other (measured
  with benchmarks/quick_notebooks.py: notebook 2 took 330 s instead of 10 s).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from course_lib.metrics import THRESHOLD
from course_lib.nn.blocks import NORMS
from course_lib.nn.registry import ModelSpec
from course_lib.train.device import PRECISIONS

SCHEDULES = ("constant", "onecycle", "cosine")
SIZE_MULTIPLE = 16  # the course's models halve the image four times
OPTIMIZERS = ("adam", "adamw")


@dataclass(frozen=True)
class TrainConfig:
    """One training recipe: data size, model width, optimiser, schedule and speed switches."""

    name: str = "custom"
    size: int = 256  # images are prepared at size x size (a multiple of 16)
    base: int = 64  # model width (channels of the first stage): the one home of the course networks' width ...
    norm: str | None = None  # ... and normalisation: None (the lab), "batch" (the paper) or "instance"
    batch_size: int = 16
    epochs: int = 40
    lr: float = 3.3e-5  # the peak rate when a schedule is used
    optimizer: str = "adam"
    weight_decay: float = 0.0
    schedule: str = "constant"
    warmup_fraction: float = 0.3  # one-cycle: share of the steps spent rising to ``lr``
    augment: bool = False  # per-batch small affine warps (rotation, scale, shift), on the device
    flip_probability: float = 0.0  # with augment: chance of a left-right flip; 0 since a mirrored chest is implausible
    precision: str = "auto"  # auto | fp32 | bf16: auto is bf16 autocast on CPUs with native bf16, amp's choice on GPUs
    amp: bool = True  # with precision auto: mixed precision on GPUs (bf16 where supported, else fp16 with a scaler)
    channels_last: bool = True  # channels-last memory format on GPUs
    validate_after_train_dice: float | None = None  # the lab's 0.92: skip validation until training passes it
    limit_images: int | None = None  # use only the first N images of each split (quick runs)
    eval_batch_size: int = 16
    threads: int | None = None  # torch's CPU threads while fitting (None: leave torch's setting alone)
    threshold: float = THRESHOLD  # probability above which a pixel counts as lung when scoring
    max_grad_norm: float | None = None  # clip the gradients' total norm to this before each update (None: never)
    seed: int = 777

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            if getattr(self, field.name) is None and field.name not in NULLABLE:
                raise ValueError(f"TrainConfig.{field.name} cannot be None (None means something only for "
                                 f"{', '.join(sorted(NULLABLE))}); leave it out to keep the recipe's value")
        if self.size <= 0 or self.size % SIZE_MULTIPLE:
            raise ValueError(f"TrainConfig.size must be a positive multiple of {SIZE_MULTIPLE} (the models halve 4 "
                             f"times); got {self.size}")
        for field in ("base", "batch_size", "epochs", "eval_batch_size"):
            if getattr(self, field) < 1:
                raise ValueError(f"TrainConfig.{field} must be at least 1; got {getattr(self, field)}")
        if self.norm is not None and self.norm not in NORMS:
            raise ValueError(f"TrainConfig.norm must be None or one of {NORMS}; got {self.norm!r}")
        if self.lr <= 0:
            raise ValueError(f"TrainConfig.lr must be positive; got {self.lr}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"TrainConfig.schedule must be one of {SCHEDULES}; got {self.schedule!r}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"TrainConfig.precision must be one of {PRECISIONS}; got {self.precision!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"TrainConfig.optimizer must be one of {OPTIMIZERS}; got {self.optimizer!r}")
        if not 0.0 <= self.warmup_fraction < 1.0:
            raise ValueError(f"TrainConfig.warmup_fraction must be in [0, 1); got {self.warmup_fraction}")
        if not 0.0 <= self.flip_probability <= 1.0:
            raise ValueError(f"TrainConfig.flip_probability must be in [0, 1]; got {self.flip_probability}")
        if self.max_grad_norm is not None and self.max_grad_norm <= 0:
            raise ValueError(f"TrainConfig.max_grad_norm must be None or positive; got {self.max_grad_norm}")
        if self.threads is not None and self.threads < 1:
            raise ValueError(f"TrainConfig.threads must be None or at least 1; got {self.threads}")
        if self.limit_images is not None and self.limit_images < 1:
            raise ValueError(f"TrainConfig.limit_images must be None or at least 1; got {self.limit_images}")

    def model_spec(self, model: str) -> ModelSpec:
        """The course network ``model`` (a name in ``course_lib.nn.MODELS``) as this recipe trains it: at the recipe's
        width and normalisation. ``train_run`` builds from it; ``fit`` refuses a course network built otherwise and
        checkpoints store only the name, so ``load_model`` derives the same spec from the stored recipe."""
        return ModelSpec(model, self.base, self.norm)

    def to_dict(self) -> dict[str, Any]:
        """Plain types only, so it can go into a safely loadable checkpoint or a JSON line."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "TrainConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown TrainConfig fields {unknown}; known fields are {sorted(known)}")
        return cls(**values)


# the fields for which None is a setting (no normalisation, no clipping, ...), read from their annotations
NULLABLE = frozenset(field.name for field in dataclasses.fields(TrainConfig) if "None" in str(field.type))

CONFIGS: dict[str, TrainConfig] = {
    "lab": TrainConfig(
        name="lab", size=256, base=64, norm=None, batch_size=16, epochs=40, lr=3.3e-5,
        optimizer="adam", schedule="constant", augment=False, validate_after_train_dice=0.92, eval_batch_size=1,
    ),
    "fast": TrainConfig(
        name="fast", size=256, base=64, norm="batch", batch_size=16, epochs=30, lr=2e-3,
        optimizer="adamw", weight_decay=1e-4, schedule="onecycle", augment=True,
    ),
    "cpu": TrainConfig(
        name="cpu",
        size=128,  # a quarter of the pixels of 256x256; the peers are measured at 128x128 too
        base=16,  # base 8 (a quarter of the arithmetic) plateaued at val 0.952; base 16 reaches 0.966-0.967
        norm="instance",  # batch norm's running statistics at batch 4 made validation dip by up to 0.2
        batch_size=4,  # 24 updates per epoch instead of 12, at the same CPU time per epoch with one thread
        epochs=30,  # ~18 CPU s per epoch with warps: about nine CPU minutes in all
        lr=2e-3,  # one-cycle peak; at 3e-3 validation fell 0.05 below its best in 2 of 5 seeds (RESULTS section 6)
        optimizer="adamw",
        weight_decay=1e-4,
        schedule="onecycle",
        augment=True,  # affine warps, no flips: the largest fall below the best shrank (RESULTS section 6)
        max_grad_norm=1.0,  # the one-cycle peak sent gradient norms from ~1 to 700 and the run diverged
        threads=1,  # two threads on a busy 2-core machine: about 4 times slower per epoch (RESULTS section 5b)
    ),
    "reference": TrainConfig(
        name="reference", size=128, base=16, norm=None, batch_size=8, epochs=30, lr=1e-3, optimizer="adam",
        schedule="constant", eval_batch_size=16,
    ),
    "quick": TrainConfig(
        name="quick", size=32, base=4, norm="instance", batch_size=4, epochs=2, lr=3e-3, max_grad_norm=1.0,
        optimizer="adamw", schedule="onecycle", augment=True, limit_images=16, eval_batch_size=8, threads=1,
    ),
}


def get_config(name: str | TrainConfig = "quick", **overrides: Any) -> TrainConfig:
    """The named recipe (``lab``, ``fast``, ``cpu``, ``reference``, ``quick``) with every one of ``overrides``
    applied as given.

    ``None`` is a value like any other (``norm=None``: no normalisation, ``max_grad_norm=None``: no clipping); a
    caller whose None means "not given" leaves the key out.
    """
    if isinstance(name, TrainConfig):
        base = name
    else:
        try:
            base = CONFIGS[name]
        except KeyError:
            raise ValueError(f"unknown training configuration {name!r}; choose one of {sorted(CONFIGS)}") from None
    try:
        return dataclasses.replace(base, **overrides)
    except TypeError as error:
        raise ValueError(f"bad override for configuration {base.name!r}: {error}") from None


def default_config(device: str | None = None) -> TrainConfig:
    """The recipe for where training runs: ``quick`` in quick mode, ``fast`` on a GPU, ``cpu`` everywhere else.

    ``device`` is what the user asked for (None: the best available); asking for "cpu" on a GPU machine gets ``cpu``.
    """
    import torch

    from course_lib.settings import quick_mode

    if quick_mode():
        return get_config("quick")
    wants_gpu = device is None or not str(device).startswith("cpu")
    return get_config("fast" if wants_gpu and torch.cuda.is_available() else "cpu")
