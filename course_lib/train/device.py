"""Choosing where to train, and the numeric settings (mixed precision, memory format) that go with it."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch

COLAB_GPU_HINT = (
    "no GPU found: training runs on the CPU and will be slow. On Colab choose "
    "Runtime > Change runtime type > a GPU (e.g. T4), then run the notebook again."
)


def choose_device(preferred: str | torch.device | None = None, verbose: bool = True) -> torch.device:
    """``preferred`` if given (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``), else CUDA, then Apple MPS, then CPU."""
    if preferred is not None:
        device = torch.device(preferred)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"device {str(preferred)!r} was asked for but CUDA is not available here; use --device cpu")
        if device.type == "mps" and not _mps_available():
            raise ValueError(f"device {str(preferred)!r} was asked for but Apple MPS is not available here; use --device cpu")
    elif torch.cuda.is_available():
        device = torch.device("cuda")
    elif _mps_available():
        device = torch.device("mps")
    else:
        device = torch.device("cpu")
    if verbose:
        print(describe_device(device, chosen=preferred is None))
    return device


def describe_device(device: torch.device, chosen: bool = True) -> str:
    how = "chosen automatically" if chosen else "as requested"
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        name = torch.cuda.get_device_name(index)
        memory = torch.cuda.get_device_properties(index).total_memory / 2**30
        return f"Training on GPU {name} ({memory:.0f} GiB), {how}."
    if device.type == "mps":
        return f"Training on the Apple GPU (MPS), {how}."
    threads = torch.get_num_threads()
    message = f"Training on the CPU ({threads} thread{'' if threads == 1 else 's'}), {how}."
    return message + " " + COLAB_GPU_HINT if chosen else message


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


@dataclass(frozen=True)
class Precision:
    """How the arithmetic runs on one device: autocast dtype (None = fp32), grad scaling, channels-last."""

    device: torch.device
    autocast_dtype: torch.dtype | None
    channels_last: bool

    @property
    def needs_scaler(self) -> bool:
        return self.autocast_dtype == torch.float16

    def autocast(self) -> contextlib.AbstractContextManager:
        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.autocast_dtype)

    def describe(self) -> str:
        dtype = "fp32" if self.autocast_dtype is None else str(self.autocast_dtype).replace("torch.", "")
        return f"precision {dtype}, channels_last {'on' if self.channels_last else 'off'}"


def precision_for(device: torch.device, amp: bool = True, channels_last: bool = True) -> Precision:
    """Mixed precision and channels-last on CUDA (bf16 where the GPU supports it, else fp16); plain fp32 elsewhere.

    On CPUs and MPS the fp32 path is kept: it is what the reproducibility guarantee and the CPU benchmark rest on.
    """
    if device.type != "cuda":
        return Precision(device, None, False)
    dtype = None
    if amp:
        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return Precision(device, dtype, channels_last)
