"""Learning-rate schedules as pure functions of the step, so resuming needs no scheduler object to restore."""

from __future__ import annotations

import math

from course_lib.train.configs import TrainConfig

ONECYCLE_START_DIVISOR = 25.0  # the one-cycle rate starts at lr / 25 ...
ONECYCLE_END_DIVISOR = 1e4  # ... and ends at lr / 1e4 (torch.optim.lr_scheduler.OneCycleLR's defaults)


def learning_rate(config: TrainConfig, step: int, total_steps: int) -> float:
    """Rate for optimiser step ``step`` (0-based) out of ``total_steps``."""
    peak = config.lr
    progress = min(max(step / max(total_steps - 1, 1), 0.0), 1.0)
    if config.schedule == "constant":
        return peak
    if config.schedule == "cosine":
        return peak * 0.5 * (1.0 + math.cos(math.pi * progress))
    # one-cycle: cosine rise from peak/25 to peak over the warm-up share, cosine fall to peak/1e4 after it
    start, end = peak / ONECYCLE_START_DIVISOR, peak / ONECYCLE_END_DIVISOR
    warm = config.warmup_fraction
    if warm > 0 and progress < warm:
        return _cosine_between(start, peak, progress / warm)
    return _cosine_between(peak, end, (progress - warm) / (1.0 - warm))


def _cosine_between(begin: float, finish: float, fraction: float) -> float:
    return finish + (begin - finish) * 0.5 * (1.0 + math.cos(math.pi * fraction))
