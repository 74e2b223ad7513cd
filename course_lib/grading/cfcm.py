"""Checks for notebook 4's exercises: the Dice coefficient, its score and loss, and CFCM's coarse-to-fine decoder.

The references are ``course_lib.losses`` (``dice``, ``dice_score``, ``dice_loss``) and ``course_lib.nn.CFCM``:
the decoder is graded by running a small library CFCM on a random image, handing the learner copies of the
encoder's stages and of the model's own ConvLSTM cells and hand-off layers (so both use the same weights), and
comparing the learner's result with what the library's decoder feeds the head. All three are declarations
(``grading.declare``: shapes, edge cases, networks of two, three and four levels, the usual slips); the score and the
loss are two answers of one exercise; ``dice`` and the loss have a hook for their gradient.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from course_lib.grading.core import call_learner, close, quiet
from course_lib.grading.declare import Case, Declaration, Output, Slip, declare, tensors
from course_lib.losses import EPS
from course_lib.losses import dice as reference_dice
from course_lib.losses import dice_loss as reference_dice_loss
from course_lib.losses import dice_score as reference_dice_score
from course_lib.nn.cfcm import CFCM, Stages, decode_coarse_to_fine

__all__ = ["check_dice", "check_dice_score_and_loss", "check_cfcm_decoder"]

NOTEBOOK = "04_cfcm_training"
# (layers, base, size, batch) of the networks the decoder is tried on: CFCM34's four stages, then three and two
DECODER_NETWORKS = (((3, 4, 6, 3), 2, 32, 2), ((2, 3, 2), 3, 24, 1), ((2, 2), 2, 16, 3))


ATOL = 1e-6  # Dice values near 0 (disjoint masks) must still be told apart


# ----------------------------------------------------------------------------------------------
# random inputs for the Dice exercises
# ----------------------------------------------------------------------------------------------
def _dice_cases(seed: int) -> list[tuple[str, torch.Tensor, torch.Tensor]]:
    """(description, probabilities, binary truth) pairs of several shapes, plus the edge cases."""
    generator = torch.Generator().manual_seed(seed)
    cases = []
    for shape in ((3, 1, 8, 8), (2, 5, 7), (4, 2, 6, 5), (1, 1, 5, 5)):
        prediction = torch.rand(*shape, generator=generator)
        truth = (torch.rand(*shape, generator=generator) > 0.6).float()
        cases.append((f"random probabilities and labels of shape {shape}", prediction, truth))
    faint = torch.rand(2, 1, 2, 2, generator=generator) * 0.05
    one_pixel = torch.zeros(2, 1, 2, 2)
    one_pixel[:, 0, 0, 1] = 1.0
    cases.append(("a faint prediction on a one-pixel mask (where EPS matters)", faint, one_pixel))
    mask = (torch.rand(2, 1, 6, 6, generator=generator) > 0.5).float()
    empty = torch.zeros(2, 1, 6, 6)
    cases.append(("a perfect binary prediction (prediction == truth)", mask.clone(), mask))
    cases.append(("an empty prediction and an empty mask (both all zeros)", empty.clone(), empty.clone()))
    cases.append(("a prediction disjoint from the mask", 1.0 - mask, mask.clone()))
    return cases


def _dice_variant(prediction: torch.Tensor, truth: torch.Tensor, *, eps: float = EPS, squares: bool = True,
                  factor: float = 2.0) -> torch.Tensor:
    """The lab's formula with one thing changed (to name a learner's slip); per sample."""
    axes = tuple(range(1, prediction.dim()))
    overlap = (prediction * truth).sum(dim=axes)
    total = (prediction**2 + truth**2).sum(dim=axes) if squares else (prediction + truth).sum(dim=axes)
    return factor * overlap / (total + eps)


def _dice_shape(got: torch.Tensor, want: torch.Tensor) -> str:
    if got.dim() == 0:
        return (f"One number for the whole batch; dice returns one value per sample, shape {tuple(want.shape)}: sum "
                "over every axis except axis 0 and do not average (dice_score does that).")
    if got.shape[0] == want.shape[0] and got.dim() > 1:
        return (f"It still has the axes {tuple(got.shape[1:])}: sum over every axis except the batch axis, e.g. "
                "dim=tuple(range(1, prediction.dim())).")
    return f"You got shape {tuple(got.shape)}: sum over every axis except the batch axis (axis 0), and keep that axis."


def _eps_twice(prediction: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
    axes = tuple(range(1, prediction.dim()))
    return 2.0 * (prediction * truth).sum(dim=axes) / ((prediction**2).sum(dim=axes) + (truth**2).sum(dim=axes)
                                                       + 2 * EPS)


def _dice_gradient(dice: Callable[..., torch.Tensor], *, seed: int) -> None:
    """The hook: the loss is built on dice, so its gradient must be the reference's."""
    _, prediction, truth = _dice_cases(seed)[0]
    mine = prediction.clone().requires_grad_(True)
    theirs = prediction.clone().requires_grad_(True)
    with quiet():
        reference_dice(theirs, truth).sum().backward()
    result = call_learner(dice, mine, truth.clone(), exercise="dice", call="dice(prediction with requires_grad)")
    if not isinstance(result, torch.Tensor) or not result.requires_grad:
        raise AssertionError("dice(prediction with requires_grad=True) returned a result without a gradient: keep to "
                             "torch operations (no .item(), .numpy(), .detach(), no thresholding like p > 0.5), "
                             "so the dice loss can train a network.")
    call_learner(lambda: result.sum().backward(), exercise="dice", call="dice(...).sum().backward()")
    if mine.grad is None or not close(mine.grad, theirs.grad, rtol=1e-3, atol=1e-6):
        raise AssertionError("dice: the values are right but the gradient with respect to the prediction differs "
                             "from the reference's; use only differentiable torch operations on the prediction.")


check_dice = declare(Declaration(
    NOTEBOOK, 1, "the Dice coefficient, one value per image (dice)", 2, "dice", reference=reference_dice,
    cases=lambda seed: [Case(f"dice on {what}", (prediction, truth)) for what, prediction, truth in _dice_cases(seed)],
    output=tensors(atol=ATOL),
    slips=(Slip("It matches the formula without EPS: add EPS = 0.001 to the denominator (outside the sum).",
                lambda p, t: _dice_variant(p, t, eps=0.0)),
           Slip("It matches sum(p + t) in the denominator: the lab's formula squares both, sum(p ** 2 + t ** 2) (the "
                "same for binary masks, different for probabilities).", lambda p, t: _dice_variant(p, t, squares=False)),
           Slip("It is half the expected value: the numerator is 2 * sum(p * t).",
                lambda p, t: _dice_variant(p, t, factor=1.0)),
           Slip("EPS is added twice: add it once, to the whole denominator.", _eps_twice)),
    hints={"kind": "Use torch operations (torch.sum, *, **) so the result stays a tensor and gradients can flow.",
           "shape": _dice_shape,
           "values": lambda got, want: "It is NaN where both prediction and mask are empty: add EPS = 0.001 to the "
           "denominator, so 0 / (0 + EPS) = 0." if got.isnan().any() else "Expected 2 * sum(p * t) / (sum(p ** 2 + "
           "t ** 2) + EPS), sums over every axis but the batch axis."},
    hook=_dice_gradient, answers={"dice": reference_dice},
    success="matches course_lib.losses.dice on {n} cases (4 shapes, a batch of one among them; a faint prediction "
            "where EPS matters; perfect, empty and disjoint masks) and passes the same gradient back (seed {seed})."))


# ----------------------------------------------------------------------------------------------
# exercise 2: dice_score and dice_loss
# ----------------------------------------------------------------------------------------------
def _score_loss_cases(seed: int) -> list[Case]:
    """Each Dice case for the score, then for the loss; each with its own advice where no slip matches."""
    return [Case(f"{name} on {what}", (prediction, truth), answer=answer,
                 hints={"values": f"Build it on dice(): {recipe}."})
            for what, prediction, truth in _dice_cases(seed + 1)
            for answer, (name, recipe) in enumerate((("dice_score", "mean of dice"), ("dice_loss", "mean of 1 - dice")))]


def _loss_gradient(dice_score: Callable[..., torch.Tensor], dice_loss: Callable[..., torch.Tensor], *,
                   seed: int) -> None:
    """The hook: the loss must pass the reference's gradient back to the prediction."""
    _, prediction, truth = _dice_cases(seed + 1)[0]
    mine = prediction.clone().requires_grad_(True)
    theirs = prediction.clone().requires_grad_(True)
    with quiet():
        reference_dice_loss(theirs, truth).backward()
    loss = call_learner(dice_loss, mine, truth.clone(), exercise="dice_loss", call="dice_loss(prediction with grad)")
    if not isinstance(loss, torch.Tensor) or not loss.requires_grad:
        raise AssertionError("dice_loss returned a value without a gradient: keep to torch operations so that "
                             "loss.backward() can train the network.")
    call_learner(loss.backward, exercise="dice_loss", call="dice_loss(...).backward()")
    if mine.grad is None or not close(mine.grad, theirs.grad, rtol=1e-3, atol=1e-7):
        raise AssertionError("dice_loss: the value is right but its gradient with respect to the prediction differs "
                             "from the reference's.")


check_dice_score_and_loss = declare(Declaration(
    NOTEBOOK, 2, "the score and the loss (dice_score, dice_loss)", 1, "dice_score, dice_loss",
    reference=(reference_dice_score, reference_dice_loss), cases=_score_loss_cases,
    output=Output("a 0-d torch.Tensor", tensors().read, tensors(atol=ATOL).same, lambda value: tuple(value.shape),
                  lambda got, want: f"gives {float(got):.6g}, expected {float(want):.6g}"),
    slips=(Slip("It equals the loss: the score is the mean Dice itself (higher is better).",
                lambda p, t: 1.0 - reference_dice(p, t).mean()),
           Slip("It is the sum over the batch: take the mean, so the score does not grow with the batch.",
                lambda p, t: reference_dice(p, t).sum()),
           Slip("It equals -Dice: the loss is the mean of 1 - Dice (0 for a perfect prediction).",
                lambda p, t: -reference_dice(p, t).mean(), answer=1),
           Slip("It equals the score: a loss must fall as the prediction improves; return the mean of 1 - Dice.",
                lambda p, t: reference_dice(p, t).mean(), answer=1)),
    hints={"kind": "Use torch operations (torch.sum, *, **) so the result stays a tensor and gradients can flow.",
           "shape": lambda got, want: "Average over the batch with .mean()." if got.dim() == 1 else
           "Reduce it to one number: the mean over the batch of the per-sample Dice."},
    hook=_loss_gradient, answers={"dice_score": reference_dice_score, "dice_loss": reference_dice_loss},
    builds_on=(check_dice,),
    success="dice_score and dice_loss match course_lib.losses on {n} cases as 0-d tensors, and the loss's gradient is "
            "the reference's (seed {seed})."))


# ----------------------------------------------------------------------------------------------
# exercise 3: the coarse-to-fine decoder
# ----------------------------------------------------------------------------------------------
class _SwappedHalves(nn.Module):
    """A hand-off whose two halves come out swapped (hidden first): one of the slips the decoder check names."""

    def __init__(self, handoff: nn.Module) -> None:
        super().__init__()
        self.handoff = handoff

    def forward(self, state: torch.Tensor) -> torch.Tensor:
        first, second = torch.chunk(self.handoff(state), 2, dim=1)
        return torch.cat([second, first], dim=1)


class _ZeroState(nn.Module):
    """A hand-off that hands nothing up (every level restarts from zeros): another slip the check names."""

    def __init__(self, handoff: nn.Module) -> None:
        super().__init__()
        self.handoff = handoff

    def forward(self, state: torch.Tensor) -> torch.Tensor:
        return torch.zeros_like(self.handoff(state))


def _variant_decode(stages: Stages, memories: nn.ModuleList, handoffs: nn.ModuleList, *, reverse: bool = True,
                    handoff: type[nn.Module] | None = None, keep: str = "hidden") -> torch.Tensor:
    """The library's decoder run with one thing done differently (to name a learner's slip): the ladders read
    forwards, the hand-offs altered, or the final cell returned instead of the hidden output."""
    ladders = stages if reverse else [(output, ladder[::-1]) for output, ladder in stages]
    handoffs = handoffs if handoff is None else [handoff(h) for h in handoffs]
    cell, hidden = decode_coarse_to_fine(ladders, memories, handoffs)
    return hidden if keep == "hidden" else cell


def _decoder_shape(stages: Stages) -> Callable[[torch.Tensor, torch.Tensor], str]:
    deepest = stages[-1][1][0].shape

    def hint(got: torch.Tensor, want: torch.Tensor) -> str:
        if got.shape == deepest:
            return (f"{tuple(deepest)} is the deepest level's size: go on through every level down to level 0 (the "
                    "shallowest) and return its last hidden output.")
        if got.dim() == 4 and got.shape[1] == 2 * want.shape[1]:
            return "That is cat([cell, hidden]): return the hidden output alone."
        return "Return the last hidden output of level 0 (the shallowest stage)."
    return hint


def _decoder_cases(seed: int) -> list[Case]:
    """Per network of ``DECODER_NETWORKS``, a random ``CFCM(layers, base=base)`` with non-zero biases (so that every
    path leaves a trace) on a random image: the answer gets the encoder's stages, the memories and the hand-offs."""
    cases = []
    for offset, (layers, base, size, batch) in enumerate(DECODER_NETWORKS):
        torch.manual_seed(seed + offset)
        model = CFCM(tuple(layers), base=base).eval().requires_grad_(False)
        for parameter in model.parameters():
            if parameter.dim() == 1:
                parameter.uniform_(-0.1, 0.1)
        x = torch.randn(batch, 1, size, size, generator=torch.Generator().manual_seed(seed + offset))
        with quiet():
            stages = model.encoder(x)
        cases.append(Case(f"decode(stages, memories, handoffs) for CFCM(layers={list(layers)}, base={base}) on a "
                          f"{batch}x1x{size}x{size} image", (stages, model.memories, model.handoffs),
                          hints={"shape": _decoder_shape(stages)}))
    return cases


check_cfcm_decoder = declare(Declaration(
    NOTEBOOK, 3, "decode from coarse to fine (decode_coarse_to_fine)", 3, "decode",
    reference=lambda stages, memories, handoffs: decode_coarse_to_fine(stages, memories, handoffs)[1],
    cases=_decoder_cases, output=tensors(atol=ATOL),
    slips=(Slip("It matches a decoder that reads each ladder first block first: CFCM reads every stage's block outputs "
                "in REVERSE order (ladder[::-1]), the last block first.",
                lambda *case: _variant_decode(*case, reverse=False)),
           Slip("It matches a hand-off that swaps cell and hidden: after the transposed convolution the FIRST half of "
                "the channels is the cell, the second half the hidden state (torch.chunk(..., 2, dim=1) gives (cell, "
                "hidden)).", lambda *case: _variant_decode(*case, handoff=_SwappedHalves)),
           Slip("It matches a decoder that restarts every level from zeros: only the deepest level starts from "
                "zero_state; each shallower level starts from the state handed up by handoffs[level](torch.cat([cell, "
                "hidden], dim=1)).", lambda *case: _variant_decode(*case, handoff=_ZeroState)),
           Slip("It matches the last CELL state: return the last step's HIDDEN output (what the head reads).",
                lambda *case: _variant_decode(*case, keep="cell"))),
    hints={"values": "Start from memories[deepest].zero_state(...), run each level's cell over its ladder reversed, "
                     "hand the state (cell, hidden) up with handoffs[level] and split it in two, and return the last "
                     "hidden output of level 0."},
    success="gives what course_lib's CFCM feeds its head for layers [3, 4, 6, 3], base 2, 32x32; layers [2, 3, 2], "
            "base 3, 24x24; layers [2, 2], base 2, 16x16 (seed {seed})."))
