"""fit() and evaluate(): the training loop the course uses for every model.

The prepared arrays (as ``course_lib.data.prepare_arrays`` returns them) are turned into tensors once, and moved
to the GPU once when they fit, so no data loader stands between the batches. Each epoch writes a checkpoint, so
a run killed at any moment loses at most the epoch in progress and ``resume=True`` continues it exactly.
"""

from __future__ import annotations

import contextlib
import copy
import math
import time
import warnings
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import torch
from torch import nn

from course_lib.losses import dice, dice_loss
from course_lib.train.augment import augment_batch
from course_lib.train.checkpoint import BEST, load_checkpoint, load_latest, rotate_and_save, save_checkpoint
from course_lib.train.configs import TrainConfig, get_config
from course_lib.train.device import Precision, choose_device, precision_for
from course_lib.train.results import Evaluation, History
from course_lib.train.schedule import learning_rate

CHECKPOINT_FORMAT = 1
DEVICE_MEMORY_SHARE = 0.4  # keep the dataset on the GPU when it takes at most this share of the free memory

EpochCallback = Callable[[int, History], "bool | None"]


@contextlib.contextmanager
def _cpu_threads(threads: int | None):
    """torch's intra-op CPU threads set to ``threads`` for the duration (None: unchanged)."""
    previous = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def fit(
    model: nn.Module,
    train: Mapping[str, Any],
    val: Mapping[str, Any],
    *,
    config: str | TrainConfig = "quick",
    out_dir: str | Path | None = None,
    resume: bool = False,
    device: str | torch.device | None = None,
    progress: bool = True,
    live_plot: bool | None = None,
    restore_best: bool = True,
    model_spec: Mapping[str, Any] | None = None,
    callbacks: Sequence[EpochCallback] = (),
) -> History:
    """Train ``model`` on ``train`` and validate on ``val`` each epoch; return the per-epoch History.

    ``train`` and ``val``: dicts with 'images' and 'labels', float32 arrays (N, H, W) (H, W multiples of 16),
    labels in {0, 1}, and optionally 'names'. ``model`` maps (N, 1, H, W) to logits (N, 1, H, W).
    ``out_dir``: where ``last.pt``/``previous.pt``/``best.pt`` go (None: no checkpoints); ``resume=True`` continues
    from the newest good checkpoint there. ``live_plot``: None draws curves in a notebook and prints one line per
    epoch elsewhere; False draws nothing. ``restore_best`` loads the best-validation weights into ``model`` at the
    end. ``model_spec`` (e.g. ``{"name": "cfcm34", "base": 16, "batch_norm": True}``) is stored in checkpoints so
    ``python -m course_lib evaluate`` can rebuild the model. Each callback gets (epoch, history) after the epoch's
    checkpoint is written; training stops early when one returns True. ``config.threads`` sets torch's CPU
    threads for the run.
    """
    config = get_config(config)
    with _cpu_threads(config.threads):
        return _fit(model, train, val, config, out_dir, resume, device, progress, live_plot, restore_best, model_spec,
                    callbacks)


def _fit(model: nn.Module, train: Mapping[str, Any], val: Mapping[str, Any], config: TrainConfig,
         out_dir: str | Path | None, resume: bool, device: str | torch.device | None, progress: bool,
         live_plot: bool | None, restore_best: bool, model_spec: Mapping[str, Any] | None,
         callbacks: Sequence[EpochCallback]) -> History:
    """fit's body (see there); split off so that the thread setting wraps the whole run."""
    if resume and out_dir is None:
        raise ValueError("fit(resume=True) needs out_dir: the folder holding the checkpoints to resume from")
    device = choose_device(device, verbose=progress)
    precision = precision_for(device, amp=config.amp, channels_last=config.channels_last)
    train_x, train_y, _ = _as_tensors(train, "train", config.limit_images)
    val_x, val_y, _ = _as_tensors(val, "val", config.limit_images)
    train_x, train_y = _place(train_x, train_y, device)
    val_x, val_y = _place(val_x, val_y, device)

    torch.manual_seed(config.seed)
    model.to(device)
    if precision.channels_last:
        model.to(memory_format=torch.channels_last)
    optimizer = _make_optimizer(model, config)
    scaler = torch.amp.GradScaler(device.type, enabled=precision.needs_scaler) if device.type == "cuda" else None
    history = History()
    start_epoch = 1
    run_dir = Path(out_dir) if out_dir is not None else None
    if resume:
        start_epoch, history = _resume(run_dir, config, model, optimizer, scaler, device, progress)

    steps_per_epoch = math.ceil(train_x.shape[0] / config.batch_size)
    total_steps = steps_per_epoch * config.epochs
    best_dice = history.best_val_dice
    best_weights: dict[str, torch.Tensor] | None = None
    curves = _make_curves(progress, live_plot, config)
    constant_epochs = 0  # consecutive validations in which the network predicted one class everywhere
    if progress:
        print(f"{config.name}: {train_x.shape[0]} training / {val_x.shape[0]} validation images of "
              f"{tuple(train_x.shape[-2:])}, {config.epochs} epochs, {precision.describe()}")

    for epoch in range(start_epoch, config.epochs + 1):
        started = time.perf_counter()
        train_loss, train_dice, last_lr = _train_one_epoch(
            model, optimizer, scaler, precision, config, train_x, train_y, epoch, steps_per_epoch, total_steps, progress,
        )
        val_loss = val_dice = float("nan")
        gate = config.validate_after_train_dice
        if gate is None or train_dice > gate:
            scores, val_loss, _, constant = _score(model, val_x, val_y, precision, config.eval_batch_size,
                                                   config.threshold)
            val_dice = float(scores.mean())
            constant_epochs = constant_epochs + 1 if constant else 0
            if constant_epochs == COLLAPSE_EPOCHS:
                warnings.warn(_collapse_message(constant, epoch, config), TrainingCollapsedWarning, stacklevel=3)
        history.append(epoch=epoch, train_loss=train_loss, train_dice=train_dice, val_loss=val_loss,
                       val_dice=val_dice, lr=last_lr, seconds=time.perf_counter() - started)
        improved = not math.isnan(val_dice) and (math.isnan(best_dice) or val_dice > best_dice)
        if improved:
            best_dice = val_dice
            best_weights = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
        if run_dir is not None:
            if improved:
                save_checkpoint(_best_state(best_weights, epoch, val_dice, config, model_spec), run_dir / BEST)
            rotate_and_save(_training_state(model, optimizer, scaler, epoch, history, config, model_spec), run_dir)
        if curves is not None:
            curves.update(history)
        if [callback(epoch, history) for callback in callbacks].count(True):
            break  # a callback asked to stop early (e.g. a target Dice was reached)

    if curves is not None:
        curves.close()
    if restore_best:
        _restore_best(model, best_weights, run_dir, device)
    return history


def evaluate(
    model: nn.Module,
    data: Mapping[str, Any],
    *,
    batch_size: int = 16,
    threshold: float = 0.5,
    device: str | torch.device | None = None,
    return_predictions: bool = False,
    verbose: bool = False,
) -> Evaluation:
    """Dice of every image in ``data`` ('images'/'labels' float32 (N, H, W), optional 'names') under ``model``.

    The model's own device is used unless ``device`` is given. ``return_predictions`` keeps the probabilities
    (N, H, W) for overlays and worst-case views.
    """
    images, labels, names = _as_tensors(data, "data", None)
    if device is None:
        parameter = next(model.parameters(), None)
        device = parameter.device if parameter is not None else torch.device("cpu")
    else:
        device = choose_device(device, verbose=verbose)
    model.to(device)
    precision = precision_for(torch.device(device))
    scores, _, predictions, _ = _score(model, images, labels, precision, batch_size, threshold,
                                       keep_predictions=return_predictions)
    return Evaluation(names=names, dice=scores.numpy().astype(np.float64),
                      predictions=predictions.numpy() if predictions is not None else None)


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
    if images.shape[1] % 16 or images.shape[2] % 16:
        raise ValueError(f"{what}: image size {images.shape[1:]} must be a multiple of 16 (the models halve 4 times)")
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


def _make_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    kind = torch.optim.AdamW if config.optimizer == "adamw" else torch.optim.Adam
    return kind(model.parameters(), lr=learning_rate(config, 0, 1), weight_decay=config.weight_decay)


def _train_one_epoch(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scaler: torch.amp.GradScaler | None,
    precision: Precision,
    config: TrainConfig,
    images: torch.Tensor,
    labels: torch.Tensor,
    epoch: int,
    steps_per_epoch: int,
    total_steps: int,
    progress: bool,
) -> tuple[float, float, float]:
    """One pass over the shuffled training set; returns (mean loss, mean thresholded Dice, last learning rate)."""
    device = precision.device
    generator = torch.Generator().manual_seed(config.seed * 100_003 + epoch)  # order and augmentation of this epoch
    order = torch.randperm(images.shape[0], generator=generator)
    model.train()
    loss_sum = torch.zeros((), device=device)
    dice_sum = torch.zeros((), device=device)
    bar = _progress_bar(steps_per_epoch, f"epoch {epoch}/{config.epochs}", progress)
    lr = config.lr
    for step in range(steps_per_epoch):
        index = order[step * config.batch_size:(step + 1) * config.batch_size]
        x = images[index.to(images.device)].to(device, non_blocking=True)
        y = labels[index.to(labels.device)].to(device, non_blocking=True)
        if config.augment:
            x, y = augment_batch(x, y, generator, flip_probability=config.flip_probability)
        if precision.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        lr = learning_rate(config, (epoch - 1) * steps_per_epoch + step, total_steps)
        for group in optimizer.param_groups:
            group["lr"] = lr
        with precision.autocast():
            logits = model(x)
        probabilities = torch.sigmoid(logits.float())
        loss = dice_loss(probabilities, y)
        optimizer.zero_grad(set_to_none=True)
        if scaler is not None and scaler.is_enabled():
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
        else:
            loss.backward()
            optimizer.step()
        with torch.no_grad():
            loss_sum += loss.detach() * x.shape[0]
            dice_sum += dice((probabilities > config.threshold).float(), y).sum()
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    count = images.shape[0]
    return float(loss_sum) / count, float(dice_sum) / count, lr


class TrainingCollapsedWarning(RuntimeWarning):
    """The network predicts one class for every pixel of every validation image, epoch after epoch."""


COLLAPSE_EPOCHS = 3  # a healthy run leaves the all-one-class start within an epoch or two


def _collapse_message(constant: str, epoch: int, config: TrainConfig) -> str:
    return (f"fit: for {COLLAPSE_EPOCHS} validations up to epoch {epoch}, the network has predicted every pixel of "
            f"every validation image as {constant}. Training has most likely collapsed: the logits saturated the "
            "sigmoid, whose gradient then vanishes, so it rarely recovers. Interrupt it and restart with a lower "
            f"learning rate (lr is {config.lr:g}), a larger batch (batch_size is {config.batch_size}) or "
            f"augment=False (augment is {config.augment}); the best weights so far are kept.")


@torch.no_grad()
def _score(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    precision: Precision,
    batch_size: int,
    threshold: float,
    keep_predictions: bool = False,
) -> tuple[torch.Tensor, float, torch.Tensor | None, str | None]:
    """Per-image thresholded Dice (CPU tensor (N,)), mean dice loss, the probability maps if asked for, and
    "lung" or "background" when every image was predicted as that alone (a collapsed network), else None."""
    was_training = model.training
    model.eval()
    device = precision.device
    scores, losses, maps, fractions = [], [], [], []
    for start in range(0, images.shape[0], batch_size):
        x = images[start:start + batch_size].to(device, non_blocking=True)
        y = labels[start:start + batch_size].to(device, non_blocking=True)
        if precision.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with precision.autocast():
            logits = model(x)
        probabilities = torch.sigmoid(logits.float())
        losses.append(1.0 - dice(probabilities, y))
        predicted = (probabilities > threshold).float()
        scores.append(dice(predicted, y))
        fractions.append(predicted.mean(dim=(1, 2, 3)))
        if keep_predictions:
            maps.append(probabilities[:, 0].cpu())
    model.train(was_training)
    per_image = torch.cat(scores).float().cpu()
    mean_loss = float(torch.cat(losses).mean())
    fraction = torch.cat(fractions)
    constant = "lung" if bool((fraction >= 0.999).all()) else "background" if bool((fraction <= 0.001).all()) else None
    return per_image, mean_loss, torch.cat(maps) if keep_predictions else None, constant


def _progress_bar(total: int, description: str, enabled: bool):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=description, leave=False, unit="batch")


def _make_curves(progress: bool, live_plot: bool | None, config: TrainConfig):
    if live_plot is False or (live_plot is None and not progress):
        return None
    from course_lib.viz.curves import LiveCurves

    return LiveCurves(title=f"training ({config.name})", total_epochs=config.epochs)


def _training_state(model, optimizer, scaler, epoch, history, config, model_spec) -> dict[str, Any]:
    """Everything needed to continue exactly: tensors and plain types only (safe to load with weights_only)."""
    rng = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        rng["cuda"] = torch.cuda.get_rng_state_all()
    return {
        "format": CHECKPOINT_FORMAT,
        "epoch": epoch,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scaler": scaler.state_dict() if scaler is not None and scaler.is_enabled() else {},
        "history": history.to_dict(),
        "config": config.to_dict(),
        "model_spec": dict(model_spec or {}),
        "rng": rng,
    }


def _best_state(weights, epoch, val_dice, config, model_spec) -> dict[str, Any]:
    return {"format": CHECKPOINT_FORMAT, "epoch": epoch, "val_dice": val_dice, "model": weights,
            "config": config.to_dict(), "model_spec": dict(model_spec or {})}


def _resume(run_dir, config, model, optimizer, scaler, device, progress) -> tuple[int, History]:
    found = load_latest(run_dir, map_location=device)
    if found is None:
        if progress:
            print(f"No checkpoint in {run_dir}: starting from scratch.")
        return 1, History()
    state, path = found
    saved = state.get("config", {})
    differences = sorted(k for k, v in config.to_dict().items() if saved.get(k) != v and k != "name")
    if differences:
        detail = ", ".join(f"{k}: saved {saved.get(k)!r} vs now {getattr(config, k)!r}" for k in differences)
        raise ValueError(f"cannot resume from {path}: the configuration changed ({detail}); "
                         "use the same settings, or a new --out folder to start afresh")
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    if scaler is not None and state.get("scaler"):
        scaler.load_state_dict(state["scaler"])
    torch.set_rng_state(state["rng"]["torch"].cpu())
    if "cuda" in state["rng"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state["rng"]["cuda"]])
    history = History.from_dict(state["history"])
    if progress:
        print(f"Resuming from {path} after epoch {state['epoch']} of {config.epochs}.")
    return int(state["epoch"]) + 1, history


def _restore_best(model: nn.Module, best_weights, run_dir: Path | None, device: torch.device) -> None:
    if best_weights is None and run_dir is not None and (run_dir / BEST).exists():
        best_weights = load_checkpoint(run_dir / BEST, map_location=device)["model"]
    if best_weights is not None:
        model.load_state_dict(best_weights)


def load_model(checkpoint: str | Path, device: str | torch.device | None = "cpu") -> tuple[nn.Module, dict[str, Any]]:
    """Rebuild the model a checkpoint was trained as (needs its ``model_spec``) and load its weights."""
    from course_lib.nn import build_model

    state = load_checkpoint(checkpoint, map_location="cpu")
    spec = dict(state.get("model_spec") or {})
    if "name" not in spec:
        raise ValueError(f"checkpoint {checkpoint} does not record which model it holds (no model_spec); "
                         "it was written by fit() without model_spec, so rebuild the model yourself and load "
                         "state['model'] into it")
    name = spec.pop("name")
    model = build_model(name, **spec)
    model.load_state_dict(state["model"])
    model.to(device if device is not None else "cpu")
    return model, state
