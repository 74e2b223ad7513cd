"""Choosing where to train, and the numeric settings (mixed precision, memory format) that go with it.

Precision is a setting (``auto``, ``fp32``, ``bf16``) resolved per machine: bf16 autocast helps only where the
hardware computes bf16 (AMX or AVX512-BF16 on a CPU, most CUDA GPUs) and costs time where it is emulated, so
``auto`` asks the CPU rather than assuming, and says what it found in the run's first lines.
"""

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


PRECISIONS = ("auto", "fp32", "bf16")  # what TrainConfig.precision and --precision accept
BF16_FEATURES = ("amx_bf16", "avx512_bf16")  # x86 instructions that compute in bf16 natively
CPUINFO = "/proc/cpuinfo"  # the Linux kernel's CPU flags: the last resort when torch cannot tell


@dataclass(frozen=True)
class Precision:
    """How the arithmetic runs on one device: autocast dtype (None = fp32), grad scaling, channels-last, and why."""

    device: torch.device
    autocast_dtype: torch.dtype | None
    channels_last: bool
    reason: str = ""  # how it was chosen, for the run's log line

    @property
    def name(self) -> str:
        """``fp32``, ``bf16`` or ``fp16``: what a run's record says ran."""
        return "fp32" if self.autocast_dtype is None else {torch.bfloat16: "bf16"}.get(self.autocast_dtype, "fp16")

    @property
    def needs_scaler(self) -> bool:
        return self.autocast_dtype == torch.float16

    def autocast(self) -> contextlib.AbstractContextManager:
        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.autocast_dtype)

    def describe(self) -> str:
        why = f" ({self.reason})" if self.reason else ""
        return f"precision {self.name}{why}, channels_last {'on' if self.channels_last else 'off'}"


def cpu_capability() -> str:
    """The instruction set torch's own CPU kernels were dispatched to: "AVX512", "AVX2", "DEFAULT", "SVE256", ..."""
    probe = getattr(torch.backends.cpu, "get_cpu_capability", None)
    return str(probe()) if probe is not None else "unknown"


def cpu_bf16_features() -> list[str]:
    """The CPU's native bf16 instructions among ``BF16_FEATURES``; empty when it has none or it cannot be told.

    torch asks cpuinfo, which answers on Linux, macOS and Windows alike: ``torch.cpu.get_capabilities`` in recent
    torch, two private probes in older ones (AMX tiles stand for amx_bf16, which every AMX CPU has). Failing those,
    the Linux kernel's /proc/cpuinfo flags; anywhere else nothing is known, so nothing is claimed.
    """
    cpu = getattr(torch, "cpu", None)
    if hasattr(cpu, "get_capabilities"):
        found = cpu.get_capabilities()
        return [feature for feature in BF16_FEATURES if found.get(feature)]
    probes = {"amx_bf16": "_is_amx_tile_supported", "avx512_bf16": "_is_avx512_bf16_supported"}
    if all(hasattr(cpu, probe) for probe in probes.values()):
        return [feature for feature, probe in probes.items() if getattr(cpu, probe)()]
    try:
        with open(CPUINFO, encoding="utf-8") as handle:
            flags = next((line.split(":", 1)[1].split() for line in handle if line.startswith("flags")), [])
    except OSError:
        return []
    return [feature for feature in BF16_FEATURES if feature in flags]


def cpu_has_native_bf16() -> tuple[bool, str]:
    """Whether bf16 autocast pays on this CPU, and the one-line reason (its capability and bf16 instructions).

    Native means AMX or AVX512-BF16 instructions *and* torch's kernels running at AVX512 (ATEN_CPU_CAPABILITY not
    lowered): without them bf16 is emulated and slower than fp32. When unsure, the answer is no.
    """
    capability, features = cpu_capability(), cpu_bf16_features()
    if features and capability.upper().startswith("AVX512"):
        return True, f"CPU {capability} with native bf16 ({', '.join(features)})"
    if features:
        return False, f"CPU {capability}: torch's kernels do not run at AVX512, so its {', '.join(features)} go unused"
    return False, f"CPU {capability}, no native bf16"


def precision_for(device: torch.device, amp: bool = True, channels_last: bool = True,
                  precision: str = "auto") -> Precision:
    """The arithmetic for ``device`` under the setting ``precision`` (``PRECISIONS``).

    ``auto``: on CUDA, mixed precision when ``amp`` (bf16 where the GPU supports it, else fp16 with a grad scaler)
    and channels-last; on a CPU, bf16 autocast where it computes bf16 natively (:func:`cpu_has_native_bf16`), else
    fp32; fp32 on Apple MPS. ``fp32`` and ``bf16`` force one (bf16 runs on any x86 CPU, slowly without native
    support). Runs under one setting on one machine are reproducible; bf16 and fp32 weights differ slightly.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}; got {precision!r}")
    if device.type == "cuda":
        if precision == "bf16" and not torch.cuda.is_bf16_supported():
            raise ValueError(f"precision 'bf16' was asked for but {torch.cuda.get_device_name(device)} does not "
                             "support bf16; use auto (fp16 with a grad scaler) or fp32")
        mixed = precision == "bf16" or (precision == "auto" and amp)
        dtype = (torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16) if mixed else None
        return Precision(device, dtype, channels_last, f"{precision} on a CUDA GPU")
    if device.type == "cpu":
        native, about = cpu_has_native_bf16()
        if precision == "auto":
            return Precision(device, torch.bfloat16 if native else None, False, f"auto: {about}")
        slow = "; bf16 is emulated here, slower than fp32" if precision == "bf16" and not native else ""
        return Precision(device, torch.bfloat16 if precision == "bf16" else None, False, f"as asked; {about}{slow}")
    if precision == "bf16":
        raise ValueError(f"precision 'bf16' is for CPUs and CUDA GPUs; on {device.type} use fp32 or auto")
    return Precision(device, None, False, f"{precision} on {device.type}")
