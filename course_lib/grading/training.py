"""Checks for notebook 4's training exercises: the training step, the validation loop, the one-cycle schedule.

The references are the ones ``fit`` runs: ``course_lib.train.steps.train_step`` and ``validate``, and
``course_lib.train.schedule.learning_rate``. A step is graded by what it does to a model: a tiny seeded network
and its AdamW optimiser are copied, one copy trained k steps by the learner's function and one by the
reference, and the losses and every weight must agree. The usual slips (no ``zero_grad``, the loss on logits,
no ``step``) are simulated the same way, so a message names a slip only when the
answer's weights are that slip's. Validation runs a network with batch norm whose running statistics differ from
the batch's, so forgetting ``model.eval()`` changes the numbers. Both are hooks of their declarations (what they
check is what the answer does to a model); the schedule is declared (``grading.declare``): cases, slips, advice.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from course_lib.grading.cfcm import check_dice, check_dice_score_and_loss
from course_lib.grading.core import call_learner, close, describe, worst_difference
from course_lib.grading.declare import Case, Declaration, Output, Slip, declare
from course_lib.losses import dice, dice_loss
from course_lib.train.configs import get_config
from course_lib.train.schedule import learning_rate
from course_lib.train.steps import train_step as reference_train_step
from course_lib.train.steps import validate as reference_validate

__all__ = ["check_train_step", "check_validate", "check_one_cycle"]

NOTEBOOK = "04_cfcm_training"
STEPS = 3


def _tiny_model(seed: int, norm: bool = False) -> nn.Module:
    torch.manual_seed(seed)
    layers: list[nn.Module] = [nn.Conv2d(1, 4, 3, padding=1)]
    if norm:
        layers.append(nn.BatchNorm2d(4))
    layers += [nn.ReLU(), nn.Conv2d(4, 1, 1)]
    return nn.Sequential(*layers)


def _batches(seed: int, count: int, size: int = 8) -> list[tuple[torch.Tensor, torch.Tensor]]:
    generator = torch.Generator().manual_seed(seed)
    return [(torch.randn(3, 1, size, size, generator=generator),
             (torch.rand(3, 1, size, size, generator=generator) > 0.6).float()) for _ in range(count)]


def _slip_steps(model: nn.Module, optimizer: torch.optim.Optimizer, images: torch.Tensor, labels: torch.Tensor,
                slip: str) -> None:
    """One step as a usual slip makes it."""
    if slip != "no zero_grad":
        optimizer.zero_grad()
    output = model(images)
    probabilities = output if slip == "loss on logits" else torch.sigmoid(output)
    loss = dice_loss(probabilities, labels)
    loss.backward()
    if slip != "no step":
        optimizer.step()


SLIP_ADVICE = {
    "no zero_grad": "the gradients are never cleared, so each step adds the previous steps' gradients: start with "
                    "optimizer.zero_grad()",
    "loss on logits": "the loss is taken on the network's raw output: pass torch.sigmoid(model(images)) to the loss",
    "no step": "the weights never change: call optimizer.step() after loss.backward() (a step before backward "
               "finds no gradients yet)",
}


def _trained(step: Callable[..., Any], seed: int, learner: bool) -> tuple[nn.Module, list[float]]:
    model = _tiny_model(seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.05, weight_decay=1e-4)
    losses = []
    for index, (images, labels) in enumerate(_batches(seed, STEPS)):
        if learner:
            call = f"train_step(model, optimizer, images {tuple(images.shape)}, labels), step {index + 1}"
            result = call_learner(step, model, optimizer, images, labels, exercise="train_step", call=call)
        else:
            result = step(model, optimizer, images, labels)
        losses.append(result)
    return model, losses


def _loss_value(result: Any, index: int) -> float:
    value = result[0] if isinstance(result, (tuple, list)) and result else result
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return float(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise AssertionError(f"train_step, step {index + 1}, returned {describe(result)}; return the batch's loss (a 0-d "
                         "tensor, e.g. loss.detach(), or loss.item()).")


def _steps(train_step: Callable[..., Any], *, seed: int) -> str:
    """The hook: ``STEPS`` steps of ``train_step(model, optimizer, images, labels)`` must leave the weights the
    reference leaves."""
    for offset in range(2):
        model, results = _trained(train_step, seed + offset, learner=True)
        reference, expected = _trained(reference_train_step, seed + offset, learner=False)
        losses = [_loss_value(result, index) for index, result in enumerate(results)]
        wanted = [float(loss) for loss, _ in expected]
        for index, (got, want) in enumerate(zip(losses, wanted)):
            if not math.isclose(got, want, rel_tol=1e-4, abs_tol=1e-5):
                if index == 0 and math.isclose(got, 1.0 - want, rel_tol=1e-4, abs_tol=1e-5):
                    raise AssertionError(f"train_step returned {got:.5f} at step 1, the Dice score; return the loss "
                                         f"({want:.5f}, 1 - Dice), the number training makes smaller.")
                break
        weights = dict(model.named_parameters())
        for name, parameter in reference.named_parameters():
            if not close(weights[name], parameter, rtol=1e-4, atol=1e-6):
                raise AssertionError(f"train_step: after {STEPS} steps the weight {name} differs from the reference's: "
                                     f"{worst_difference(weights[name], parameter)}. {_step_diagnosis(model, seed + offset)}")
        if not all(math.isclose(g, w, rel_tol=1e-4, abs_tol=1e-5) for g, w in zip(losses, wanted)):
            raise AssertionError(f"train_step: the weights are right but the losses returned are "
                                 f"{[round(v, 5) for v in losses]}, expected {[round(v, 5) for v in wanted]}: return "
                                 "this batch's loss, computed before the update.")
    return (f"{STEPS} steps on two seeded tiny networks leave every weight where fit's own train_step leaves it, and "
            f"the losses match (seed {seed}).")


check_train_step = declare(Declaration(NOTEBOOK, 4, "one training step (train_step)", 3, "train_step",
                                       hook=_steps, builds_on=(check_dice_score_and_loss,)))


def _step_diagnosis(model: nn.Module, seed: int) -> str:
    for slip, advice in SLIP_ADVICE.items():
        twin = _tiny_model(seed)
        optimizer = torch.optim.AdamW(twin.parameters(), lr=0.05, weight_decay=1e-4)
        for images, labels in _batches(seed, STEPS):
            _slip_steps(twin, optimizer, images, labels, slip)
        if all(close(a, b, rtol=1e-4, atol=1e-6) for a, b in zip(model.parameters(), twin.parameters())):
            return f"It looks like {advice}."
    return "The step is: zero_grad, forward, sigmoid, dice_loss, backward, step."


# ---------------------------------------------------------------------------------------------- validation
def _normed_model(seed: int) -> nn.Module:
    """A tiny network with batch norm whose running statistics are far from any batch's own."""
    model = _tiny_model(seed, norm=True)
    norm = model[1]
    with torch.no_grad():
        norm.running_mean.uniform_(-1.0, 1.0)
        norm.running_var.uniform_(2.0, 4.0)
    return model.train()


def _soft_dice(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    model.eval()
    with torch.no_grad():
        soft = dice(torch.sigmoid(model(images)), labels)
    model.train()
    return soft


def _validation(validate: Callable[..., Any], *, seed: int) -> str:
    """The hook: ``validate(model, images, labels, batch_size, threshold)`` must give the reference's per-image Dice,
    without tracking gradients, in evaluation mode, and leave the model training."""
    generator = torch.Generator().manual_seed(seed)
    for count, batch_size, threshold in ((7, 3, 0.5), (4, 4, 0.5), (5, 16, 0.3)):
        model = _normed_model(seed + count)
        images = torch.randn(count, 1, 8, 8, generator=generator) * 2
        labels = (torch.rand(count, 1, 8, 8, generator=generator) > 0.5).float()
        call = f"validate(model, {count} images, labels, batch_size={batch_size}, threshold={threshold})"
        state = copy.deepcopy(model.state_dict())
        expected = reference_validate(copy.deepcopy(model), images, labels, batch_size=batch_size,
                                      threshold=threshold).dice
        modes: list[tuple[bool, bool]] = []  # (gradients on, training mode) at each forward pass of the learner's
        hook = model.register_forward_pre_hook(lambda module, _: modes.append((torch.is_grad_enabled(),
                                                                               module.training)))
        try:
            result = call_learner(validate, model, images, labels, batch_size, threshold, exercise="validate",
                                  call=call)
        finally:
            hook.remove()
        if any(grad for grad, _ in modes):
            raise AssertionError(f"{call}: the model ran with gradients on. Validation only measures: run it under "
                                 "torch.no_grad() (the decorator @torch.no_grad() on the function does it), which "
                                 "saves the memory and time of the graph.")
        if any(training for _, training in modes):
            raise AssertionError(f"{call}: the model ran in training mode, so batch norm normalised each batch with "
                                 "its own statistics instead of the running ones it learned. Call model.eval() first.")
        if not isinstance(result, torch.Tensor):
            raise AssertionError(f"{call} returned {describe(result)}; return a tensor with one Dice per image.")
        if result.requires_grad:
            raise AssertionError(f"{call}: the scores carry a gradient graph; compute them under torch.no_grad().")
        if not model.training:
            raise AssertionError(f"{call} left the model in evaluation mode; put it back with model.train() at the "
                                 "end, or the next training step runs without batch statistics.")
        if tuple(result.shape) != tuple(expected.shape):
            raise AssertionError(f"{call} returned shape {tuple(result.shape)}, expected {tuple(expected.shape)}: one "
                                 "Dice per image, every batch (the last, smaller one too) joined with torch.cat.")
        if not close(result, expected, rtol=1e-4, atol=1e-5):
            raise AssertionError(f"{call} gives {[round(float(v), 4) for v in result]}, expected "
                                 f"{[round(float(v), 4) for v in expected]}."
                                 f" {_validate_diagnosis(result, model, state, (images, labels), batch_size, threshold)}")
    return ("gives the reference's per-image Dice with batch norm's running statistics, batches that do not divide "
            f"the set, and two thresholds, without tracking gradients, and leaves the model training (seed {seed}).")


check_validate = declare(Declaration(NOTEBOOK, 5, "the validation loop (validate)", 2, "validate",
                                     hook=_validation, builds_on=(check_dice,)))


def _validate_diagnosis(result: torch.Tensor, model: nn.Module, state: dict, data: tuple[torch.Tensor, torch.Tensor],
                        batch_size: int, threshold: float) -> str:
    images, labels = data
    model.load_state_dict(state)
    if close(result, _soft_dice(model, images, labels), rtol=1e-4, atol=1e-5):
        return "That is the soft Dice of the probabilities: threshold first, (probabilities > threshold).float()."
    twin = copy.deepcopy(model).train()
    with torch.no_grad():
        in_training_mode = torch.cat([dice((torch.sigmoid(twin(images[start:start + batch_size])) > threshold).float(),
                                           labels[start:start + batch_size])
                                      for start in range(0, len(images), batch_size)])
    if close(result, in_training_mode, rtol=1e-4, atol=1e-5):
        return ("Those are the numbers of the network in training mode: batch norm then normalises with each batch's "
                "own statistics instead of the running ones it learned. Call model.eval() first.")
    if close(result, dice((torch.sigmoid(copy.deepcopy(model).eval()(images)) > 0.5).float(), labels)):
        return f"You thresholded at 0.5; use the threshold passed in ({threshold})."
    return "Per batch: eval mode, sigmoid of the logits, threshold, dice per image; then torch.cat."


# ---------------------------------------------------------------------------------------------- one-cycle
def _reference_rate(step: int, total: int, peak: float, warmup: float) -> float:
    config = dataclasses.replace(get_config("quick"), lr=peak, schedule="onecycle", warmup_fraction=warmup)
    return learning_rate(config, step, total)


def _rate_case(step: int, total: int, peak: float, warmup: float) -> Case:
    return Case(f"one_cycle_lr(step={step}, total_steps={total}, peak={peak:.4g}, warmup_fraction={warmup:.3g})",
                (step, total, peak, warmup))


def _rate_cases(seed: int) -> list[Case]:
    generator = torch.Generator().manual_seed(seed)
    settings = [(100, 3e-3, 0.3), (48, 1e-3, 0.25)]
    settings += [(int(torch.randint(10, 400, (1,), generator=generator)), float(torch.rand(1, generator=generator))
                  * 1e-2 + 1e-4, float(torch.rand(1, generator=generator)) * 0.5 + 0.1)]
    return [_rate_case(step, total, peak, warmup) for total, peak, warmup in settings
            for step in dict.fromkeys([0, total - 1, int(total * warmup), 1, total // 7, total // 2, total - 2])]


def _rate(value: Any) -> float:
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return float(value)
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise TypeError(type(value).__name__)
    return float(value)


def _cosine(start: float, end: float, share: float) -> float:
    return end + (start - end) * 0.5 * (1 + math.cos(math.pi * share))


def _warm_up(step: int, total: int, peak: float, warmup: float, rise: Callable[[float], float]) -> float:
    """The schedule with the warm-up replaced by ``rise(share of the warm-up done)``."""
    progress = step / max(total - 1, 1)
    return rise(progress / warmup) if progress < warmup else _reference_rate(step, total, peak, warmup)


def _cool_down_to_zero(step: int, total: int, peak: float, warmup: float) -> float:
    progress = step / max(total - 1, 1)
    return _reference_rate(step, total, peak, warmup) if progress < warmup else _cosine(
        peak, 0.0, (progress - warmup) / (1 - warmup))


check_one_cycle = declare(Declaration(
    NOTEBOOK, 6, "the one-cycle learning rate (one_cycle_lr)", 2, "one_cycle_lr", reference=_reference_rate,
    cases=_rate_cases, output=Output("a float", _rate, lambda got, want: math.isclose(got, want, rel_tol=1e-6,
                                                                                      abs_tol=1e-12),
                                     differs=lambda got, want: f"returned {got:.6g}, expected {want:.6g}"),
    slips=(Slip("It looks like the warm-up rises in a straight line; one-cycle rises along a half cosine too.",
                lambda s, t, p, w: _warm_up(s, t, p, w, lambda share: p / 25 + (p - p / 25) * share)),
           Slip("It looks like the rate starts at 0; it starts at peak / 25.",
                lambda s, t, p, w: _warm_up(s, t, p, w, lambda share: _cosine(0.0, p, share))),
           Slip("It looks like the rate falls to 0; it ends at peak / 10000.", _cool_down_to_zero),
           Slip("It looks like progress is step / total_steps; the last step is total_steps - 1, so divide by "
                "total_steps - 1.", lambda s, t, p, w: _reference_rate(s, t + 1, p, w))),
    hints={"kind": "A learning rate is a float.",
           "values": "Rise from peak/25 to peak along a half cosine over the warm-up share of the steps, then fall to "
                     "peak/10000 the same way."},
    success="equals the recipes' one-cycle schedule at the start, the peak, the middle and the end of 3 runs "
            "(seed {seed})."))
