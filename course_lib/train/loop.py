"""fit() and evaluate(): the loop the course trains every model with, readable in one go.

``fit`` gathers what one training run carries from epoch to epoch into a ``Run`` (``state``), then repeats: train
over the shuffled batches (``steps.train_step``), validate (``steps.validate``), append the epoch to the History,
save the checkpoints, let the callbacks see the history. Everything else has its own module: what a checkpoint
holds and how a run resumes (``checkpoint``), the collapse and divergence warnings (``health``), several
processes (``distributed``, a no-op for one). The prepared arrays become tensors once, moved to the GPU once
when they fit, so no data loader stands between the batches; each epoch writes a checkpoint, so a run killed at
any moment loses at most the epoch in progress and ``resume=True`` continues it exactly.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from course_lib.losses import dice_loss
from course_lib.metrics import THRESHOLD, boundary_f_score, thresholded_dice
from course_lib.nn.registry import spec_of
from course_lib.train import checkpoint
from course_lib.train.augment import augment_batch
from course_lib.train.configs import SIZE_MULTIPLE, TrainConfig, get_config
from course_lib.train.device import choose_device, precision_for
from course_lib.train.distributed import world
from course_lib.train.health import HealthWatch
from course_lib.train.results import Evaluation, History
from course_lib.train.schedule import learning_rate
from course_lib.train.state import Run
from course_lib.train.steps import Loss, train_step, validate

__all__ = ["fit", "evaluate", "EpochCallback"]

DEVICE_MEMORY_SHARE = 0.4  # keep the dataset on the GPU when it takes at most this share of the free memory

# Called after each epoch's checkpoint with (epoch, history); returning True stops the run early. A callback with a
# ``close()`` method (e.g. course_lib.viz.curves.LiveCurves) is closed when the run ends.
EpochCallback = Callable[[int, History], "bool | None"]


def fit(model: nn.Module, train: Mapping[str, Any], val: Mapping[str, Any], *, config: str | TrainConfig = "quick",
        out_dir: str | Path | None = None, resume: bool = False, device: str | torch.device | None = None,
        progress: bool = True, callbacks: Sequence[EpochCallback] = (), loss: Loss = dice_loss) -> History:
    """Train ``model`` on ``train``, validate on ``val`` each epoch, end with the best validation weights in it.

    ``train`` and ``val``: dicts with 'images' and 'labels', float32 arrays (N, H, W), labels in {0, 1} (as
    ``course_lib.data.prepare_split`` gives them). ``model`` maps (N, 1, H, W) to logits (N, 1, H, W); a course
    network (one of ``course_lib.nn.MODELS``) must have the recipe's width and normalisation (``config.model_spec``).
    ``config``: a recipe name or TrainConfig. ``out_dir``: where ``last.pt``/``previous.pt``/``best.pt`` go (None:
    no checkpoints); ``resume=True`` continues from the newest good one there. ``progress`` shows a bar per
    epoch; ``callbacks`` (see ``EpochCallback``) draw curves, print lines or stop early. ``loss`` is what training
    minimises, ``(probabilities, labels) -> 0-d tensor`` (the course's Dice loss; notebook 4 passes a student's own;
    validation always scores with the course's Dice). Ten parameters: the three things a run trains on and the seven
    a learner changes; grouping them would only hide them.
    """
    config = get_config(config)
    if resume and out_dir is None:
        raise ValueError("fit(resume=True) needs out_dir: the folder holding the checkpoints to resume from")
    with _cpu_threads(config.threads):
        run = _start(model, train, val, config, out_dir, device, progress, loss)
        first = checkpoint.resume(run, progress and run.world.is_main) if resume else 1
        run.history.precision = _precision_record(run.history.precision, run.precision.name)
        health = HealthWatch(config)
        if progress and run.world.is_main:
            x = run.train[0]
            print(f"{config.name}: {x.shape[0]} training / {run.val[0].shape[0]} validation images of "
                  f"{tuple(x.shape[-2:])}, {config.epochs} epochs, {run.precision.describe()}")
        for epoch in range(first, config.epochs + 1):
            if _one_epoch(run, epoch, health, callbacks, progress):
                break
        for callback in callbacks:
            getattr(callback, "close", lambda: None)()
        checkpoint.restore_best(run)
    return run.history


def _precision_record(earlier: str | None, now: str) -> str:
    """What a run's record says ran: ``now``, or e.g. "fp32, then bf16" when a resumed run changed machine."""
    return now if earlier in (None, now) or earlier.endswith(f", then {now}") else f"{earlier}, then {now}"


def _start(model: nn.Module, train: Mapping[str, Any], val: Mapping[str, Any], config: TrainConfig,
           out_dir: str | Path | None, device: str | torch.device | None, progress: bool, loss: Loss) -> Run:
    """The Run before its first epoch: device, precision, tensors, optimiser (seeded by the recipe)."""
    here = world()
    device = here.device(choose_device(device, verbose=progress and here.is_main))
    precision = precision_for(device, amp=config.amp, channels_last=config.channels_last, precision=config.precision)
    train_x, train_y, _ = _as_tensors(train, "train", config.limit_images)
    val_x, val_y, _ = _as_tensors(val, "val", config.limit_images)
    torch.manual_seed(config.seed)
    model.to(device)
    if precision.channels_last:
        model.to(memory_format=torch.channels_last)
    kind = torch.optim.AdamW if config.optimizer == "adamw" else torch.optim.Adam
    optimizer = kind(model.parameters(), lr=learning_rate(config, 0, 1), weight_decay=config.weight_decay)
    scaler = torch.amp.GradScaler(device.type, enabled=precision.needs_scaler) if device.type == "cuda" else None
    return Run(model=model, network=here.wrap(model, device), optimizer=optimizer, scaler=scaler,
               precision=precision, config=config, train=_place(train_x, train_y, device),
               val=_place(val_x, val_y, device), run_dir=Path(out_dir) if out_dir is not None else None, world=here,
               history=History(), loss=loss, model_name=_course_model_name(model, config))


def _course_model_name(model: nn.Module, config: TrainConfig) -> str | None:
    """The name of ``model`` in MODELS when it is a course network, None for any other; a course network whose width
    or normalisation is not the recipe's is refused, since its checkpoints record only the name beside the recipe."""
    spec = spec_of(model)
    if spec is not None and spec != config.model_spec(spec.name):
        raise ValueError(f"fit: this {spec.name} was built with base {spec.base} and norm {spec.norm!r}, but the recipe "
                         f"{config.name!r} says base {config.base} and norm {config.norm!r}; build it from the recipe "
                         f"(config.model_spec({spec.name!r}).build()) or give the recipe its width and normalisation "
                         f"(get_config({config.name!r}, base={spec.base}, norm={spec.norm!r}))")
    return spec.name if spec is not None else None


def _one_epoch(run: Run, epoch: int, health: HealthWatch, callbacks: Sequence[EpochCallback], progress: bool) -> bool:
    """Train, validate, record, checkpoint and call back for ``epoch``; True when a callback asks to stop."""
    started = time.perf_counter()
    train_loss, train_dice, lr = _train_one_epoch(run, epoch, progress)
    config, validation = run.config, None
    if config.validate_after_train_dice is None or train_dice > config.validate_after_train_dice:
        validation = validate(run.model, *run.val, batch_size=config.eval_batch_size, threshold=config.threshold,
                              precision=run.precision)
    run.history.append(epoch=epoch, train_loss=train_loss, train_dice=train_dice,
                       val_loss=validation.loss if validation else float("nan"),
                       val_dice=validation.mean_dice if validation else float("nan"), lr=lr,
                       seconds=time.perf_counter() - started)
    if validation is not None:
        health.update(run.history, validation.constant)
    improved = run.keep_if_best(run.history.val_dice[-1])
    stop = False
    if run.world.is_main:
        if run.run_dir is not None:
            checkpoint.save_epoch(run, epoch, improved)
        stop = [callback(epoch, run.history) for callback in callbacks].count(True) > 0
    return run.world.any(stop)


def _train_one_epoch(run: Run, epoch: int, progress: bool) -> tuple[float, float, float]:
    """One pass over the shuffled training set; returns (mean loss, mean thresholded Dice, last learning rate)."""
    config, images = run.config, run.train[0]
    generator = torch.Generator().manual_seed(config.seed * 100_003 + epoch)  # order and augmentation of this epoch
    order = torch.randperm(images.shape[0], generator=generator)
    run.network.train()
    totals = torch.zeros(3, device=run.precision.device)  # loss sum, Dice sum, images
    bar = _progress_bar(run.steps_per_epoch, f"epoch {epoch}/{config.epochs}", progress and run.world.is_main)
    lr = config.lr
    for step in range(run.steps_per_epoch):
        x, y = _batch(run, order[step * config.batch_size:(step + 1) * config.batch_size], generator)
        lr = learning_rate(config, (epoch - 1) * run.steps_per_epoch + step, run.steps_per_epoch * config.epochs)
        for group in run.optimizer.param_groups:
            group["lr"] = lr
        loss, probabilities = train_step(run.network, run.optimizer, x, y, precision=run.precision,
                                         scaler=run.scaler, max_grad_norm=config.max_grad_norm, loss=run.loss)
        with torch.no_grad():
            totals += torch.stack([loss * x.shape[0], thresholded_dice(probabilities, y, config.threshold).sum(),
                                   torch.tensor(float(x.shape[0]), device=totals.device)])
        if bar is not None:
            bar.update(1)
    _finish(bar)
    loss_sum, dice_sum, count = run.world.sum(totals).tolist()
    return loss_sum / count, dice_sum / count, lr


def _batch(run: Run, index: torch.Tensor, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """This process's share of the global batch ``index``, augmented as the whole batch would be."""
    images, labels = run.train
    device = run.precision.device
    x = images[index.to(images.device)].to(device, non_blocking=True)
    y = labels[index.to(labels.device)].to(device, non_blocking=True)
    if run.config.augment:
        x, y = augment_batch(x, y, generator, flip_probability=run.config.flip_probability)
    x, y = run.world.share(x), run.world.share(y)
    if run.precision.channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    return x, y


def evaluate(model: nn.Module, data: Mapping[str, Any], *, batch_size: int = 16, threshold: float = THRESHOLD,
             device: str | torch.device | None = None, return_predictions: bool = False, verbose: bool = False,
             precision: str = "auto", progress: bool = False) -> Evaluation:
    """Dice and boundary F-score of every image in ``data`` ('images'/'labels' float32 (N, H, W), optional 'names').

    The model's own device is used unless ``device`` is given (``verbose`` then names it). ``return_predictions``
    keeps the probabilities (N, H, W) for overlays and worst-case views; ``precision`` is TrainConfig's setting;
    ``progress`` shows a bar over the images on stderr. Nine parameters: the model, its data and the seven things a
    user sets when scoring, each with a default that reads as plain evaluation.
    """
    images, labels, names = _as_tensors(data, "data", None)
    if batch_size < 1:
        raise ValueError(f"evaluate: batch_size must be at least 1; got {batch_size}")
    if device is None:
        parameter = next(model.parameters(), None)
        device = parameter.device if parameter is not None else torch.device("cpu")
    else:
        device = choose_device(device, verbose=verbose)
    model.to(device)
    arithmetic = precision_for(torch.device(device), precision=precision)
    bar = _progress_bar(images.shape[0], "evaluating", progress, unit="image")
    dice_parts, border_parts, maps = [], [], []
    for start in range(0, images.shape[0], batch_size):
        x, y = images[start:start + batch_size], labels[start:start + batch_size]
        part = validate(model, x, y, batch_size=batch_size, threshold=threshold, precision=arithmetic,
                        keep_predictions=True)
        dice_parts.append(part.dice)
        border_parts.append(boundary_f_score(part.predictions > threshold, y[:, 0] > 0.5))
        if return_predictions:
            maps.append(part.predictions)
        if bar is not None:
            bar.update(x.shape[0])
    _finish(bar)
    return Evaluation(names=names, dice=torch.cat(dice_parts).numpy().astype(np.float64),
                      boundary_f=torch.cat(border_parts).numpy().astype(np.float64),
                      predictions=torch.cat(maps).numpy() if return_predictions else None, precision=arithmetic.name)


@contextlib.contextmanager
def _cpu_threads(threads: int | None) -> Iterator[None]:
    """torch's intra-op CPU threads set to ``threads`` for the duration (None: unchanged)."""
    previous = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _as_tensors(data: Mapping[str, Any], what: str, limit: int | None) -> tuple[torch.Tensor, torch.Tensor, list[str]]:
    """(N, 1, H, W) float32 images and labels, and names, from a prepared-arrays dict."""
    if not isinstance(data, Mapping) or "images" not in data or "labels" not in data:
        raise ValueError(f"{what} must be a dict with 'images' and 'labels' arrays (N, H, W), as prepare_arrays returns")
    images = np.asarray(data["images"], dtype=np.float32)
    labels = np.asarray(data["labels"], dtype=np.float32)
    if images.ndim != 3 or labels.shape != images.shape:
        raise ValueError(f"{what}: expected 'images' and 'labels' of the same shape (N, H, W); "
                         f"got {images.shape} and {labels.shape}")
    if images.shape[0] == 0:
        raise ValueError(f"{what}: no images")
    if images.shape[1] % SIZE_MULTIPLE or images.shape[2] % SIZE_MULTIPLE:
        raise ValueError(f"{what}: image size {images.shape[1:]} must be a multiple of {SIZE_MULTIPLE} (the models "
                         "halve 4 times)")
    names = [str(name) for name in data.get("names", [f"{what}_{i:04d}" for i in range(images.shape[0])])]
    if limit is not None:
        images, labels, names = images[:limit], labels[:limit], names[:limit]
    return torch.from_numpy(images).unsqueeze(1), torch.from_numpy(labels).unsqueeze(1), names


def _place(images: torch.Tensor, labels: torch.Tensor, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Move the whole split to the GPU when it fits comfortably; otherwise keep it (pinned) on the host."""
    if device.type == "cpu":
        return images, labels
    size = images.numel() * images.element_size() * 2
    free = torch.cuda.mem_get_info(device)[0] if device.type == "cuda" else 2**34
    if size <= DEVICE_MEMORY_SHARE * free:
        return images.to(device), labels.to(device)
    if device.type == "cuda":
        return images.pin_memory(), labels.pin_memory()
    return images, labels


def _finish(bar) -> None:
    """Draw the bar's final count (a loop faster than tqdm's refresh interval has not drawn it), then clear it."""
    if bar is not None:
        bar.refresh()
        bar.close()


def _progress_bar(total: int, description: str, enabled: bool, unit: str = "batch"):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=description, leave=False, unit=unit)
