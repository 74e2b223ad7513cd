"""Checks for notebook 2's exercises 3 to 6: the ResNet block, output sizes, receptive fields, the boundary F-score.

References: PyTorch's own ``nn.Conv2d`` (on the ``meta`` device, so no pixel is computed) for output sizes,
``course_lib.nn.receptive_fields``, ``course_lib.nn.ResNetBlock`` (its weights are loaded into the learner's
block, so both compute with the same numbers) and ``course_lib.metrics.boundary_f_score``. The usual slips (a
forgotten ``+ 1``, dilation or tolerance; an activation after the sum) are named only when the answer's numbers are
that slip's. Three exercises are declarations (``grading.declare``); the block keeps a hook, as it is built and
loaded with the reference's weights first.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable

import torch
from torch import nn

from course_lib.grading.core import call_learner, close, describe
from course_lib.grading.declare import INT, Case, Declaration, Output, Slip, declare, tensors
from course_lib.grading.fusion import check_sum_fusion
from course_lib.metrics import boundary_f_score as reference_boundary_f_score
from course_lib.nn import ResNetBlock, receptive_fields as reference_receptive_fields

__all__ = ["check_conv_output_size", "check_receptive_fields", "check_resnet_block", "check_boundary_f_score"]

NOTEBOOK = "02_skip_connections"
# (size, kernel_size, stride, padding, dilation): the encoder's own layers first, then floors, dilations, paddings
NAMED_SIZES = ((256, 3, 1, 1, 1), (256, 2, 2, 0, 1), (7, 3, 2, 0, 2), (5, 3, 2, 1, 1), (9, 3, 1, 2, 3),
               (10, 4, 3, 0, 1), (1, 1, 1, 0, 1))
TOO_SMALL = ((2, 3, 1, 0, 1), (4, 3, 1, 0, 2), (1, 5, 1, 1, 1))
SIZE_CALL = "conv_output_size(size={}, kernel_size={}, stride={}, padding={}, dilation={})"


# ---------------------------------------------------------------------------------------------- output size
def _torch_size(size: int, kernel: int, stride: int, padding: int, dilation: int) -> int:
    with torch.device("meta"):
        conv = nn.Conv2d(1, 1, kernel, stride=stride, padding=padding, dilation=dilation)
        return int(conv(torch.empty(1, 1, size, size)).shape[-1])


def _size_cases(seed: int) -> list[Case]:
    rng = random.Random(seed)
    cases = list(NAMED_SIZES)
    while len(cases) < len(NAMED_SIZES) + 40:
        case = (rng.randint(1, 64), rng.choice((1, 2, 3, 4, 5, 7)), rng.randint(1, 4), rng.randint(0, 3),
                rng.randint(1, 3))
        if case[0] + 2 * case[3] >= case[4] * (case[1] - 1) + 1:
            cases.append(case)
    return [Case(SIZE_CALL.format(*case), case) for case in cases]


SIZE_SLIPS = {  # what each usual slip's formula gives, (size, kernel, stride, padding, dilation) -> size
    "forgot the `+ 1` (n pixels hold n - k + 1 positions of a k-pixel kernel)":
        lambda n, k, s, p, d: (n + 2 * p - d * (k - 1) - 1) // s,
    "left out the dilation: a kernel of k taps with dilation d spans d(k - 1) + 1 pixels":
        lambda n, k, s, p, d: (n + 2 * p - (k - 1) - 1) // s + 1,
    "padded one side only: padding p adds p pixels on each side, 2p in all":
        lambda n, k, s, p, d: (n + p - d * (k - 1) - 1) // s + 1,
    "rounded up: a last position that only partly fits is dropped, so round down (//)":
        lambda n, k, s, p, d: math.ceil((n + 2 * p - d * (k - 1) - 1) / s) + 1,
    "left out the stride: divide by it (floor division)": lambda n, k, s, p, d: n + 2 * p - d * (k - 1),
}
check_conv_output_size = declare(Declaration(
    NOTEBOOK, 4, "a layer's output size (conv_output_size)", 1, "conv_output_size", reference=_torch_size,
    cases=_size_cases, output=INT,
    slips=tuple(Slip(f"It looks like you {advice}.", formula) for advice, formula in SIZE_SLIPS.items()),
    hints={"kind": lambda got, want: "Sides are whole pixels: use floor division (//) so the answer is an int."
           if isinstance(got, float) else "", "values": "Check the formula term by term."},
    refuse=lambda seed: [Case(SIZE_CALL.format(*case), case) for case in TOO_SMALL],
    refuse_advice="the kernel does not fit in the padded input, so there is no output: raise ValueError.",
    success="gives nn.Conv2d's output size in {n} cases (strides, paddings, dilations, sizes that do not divide) and "
            "refuses {refused} kernels that do not fit (seed {seed})."))


# ---------------------------------------------------------------------------------------------- receptive field
def _rule(layers: list[tuple[int, int, int]], widen: Callable[[int, int, int], int],
          stride_first: bool = False) -> list[tuple[int, int]]:
    """(field, step) after each layer, the field widened by ``widen(kernel, dilation, step)``."""
    field, step, out = 1, 1, []
    for kernel, stride, dilation in layers:
        step *= stride if stride_first else 1
        field += widen(kernel, dilation, step)
        step *= 1 if stride_first else stride
        out.append((field, step))
    return out


def _field_cases(seed: int) -> list[Case]:
    rng = random.Random(seed)
    stacks = [[(3, 1, 1), (3, 1, 1), (2, 2, 1), (3, 1, 1)], [(7, 2, 1), (3, 2, 1), (3, 1, 2)], [(1, 1, 1)]]
    stacks += [[(rng.choice((1, 2, 3, 5, 7)), rng.choice((1, 1, 2)), rng.choice((1, 1, 2)))
                for _ in range(rng.randint(2, 9))] for _ in range(12)]
    return [Case(f"receptive_fields({layers})", (layers,)) for layers in stacks]


def _first_difference(got: list, want: list) -> str:
    first = next(i for i, (a, b) in enumerate(zip(got, want)) if a != b)
    return f"gives {got[first]} after layer {first + 1}, expected {want[first]}"


PAIRS = Output("a list with one (field, step) pair per layer", lambda value: [(int(f), int(s)) for f, s in value],
               lambda got, want: got == want, len, _first_difference)
check_receptive_fields = declare(Declaration(
    NOTEBOOK, 5, "receptive fields, layer by layer (receptive_fields)", 2, "receptive_fields",
    reference=reference_receptive_fields, cases=_field_cases, output=PAIRS,
    slips=(Slip("You multiply the step by the layer's stride before widening the field: a layer reads the grid its "
                "input is on, so widen with the step from before it, then update the step.",
                lambda layers: _rule(layers, lambda k, d, j: (k - 1) * d * j, stride_first=True)),
           Slip("You left out the dilation: a dilated kernel spans (k - 1) d steps.",
                lambda layers: _rule(layers, lambda k, d, j: (k - 1) * j)),
           Slip("You never multiplied by the step: after a stride-2 layer, one step of the grid is 2 input pixels.",
                lambda layers: _rule(layers, lambda k, d, j: (k - 1) * d)),
           Slip("You swapped the two: each pair is (receptive field, step).",
                lambda layers: [(step, field) for field, step in reference_receptive_fields(layers)])),
    hints={"shape": "Give one (field, step) pair after each layer, in order.",
           "values": "Apply r += (k - 1) d j, then j *= s, layer by layer."},
    success="matches the reference on {n} stacks of layers, strides and dilations included (seed {seed})."))


# ---------------------------------------------------------------------------------------------- ResNet block
def _block_outputs(reference: ResNetBlock, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """What the block gives, and what the usual slips give, for input ``x``."""
    activated = torch.relu(x)
    residual = reference.conv2(torch.relu(reference.conv1(activated)))
    shortcut = x if reference.projection is None else reference.projection(activated)
    raw_shortcut = x if reference.projection is None else reference.projection(x)
    return {"right": residual + shortcut,
            "an activation after the sum: this block is pre-activation, its output is the plain sum (the next "
            "block's first ReLU follows it)": torch.relu(residual + shortcut),
            "no shortcut: add the input (or its 1x1 projection) to the two convolutions' output": residual,
            "a projection of x itself: the 1x1 convolution reads ReLU(x), like conv1": residual + raw_shortcut,
            "no ReLU before conv1: the block starts with ReLU(x)": reference.conv2(torch.relu(reference.conv1(x)))
            + (x if reference.projection is None else reference.projection(x))}


def _block(block_class: type, seed: int) -> str:
    """The hook: ``block_class(in, out)`` loaded with a reference block's weights must compute what it computes."""
    generator = torch.Generator().manual_seed(seed)
    for in_channels, out_channels in ((4, 4), (3, 6), (6, 2)):
        call = f"ResNetBlock({in_channels}, {out_channels})"
        block = call_learner(block_class, in_channels, out_channels, exercise="ResNetBlock", call=call)
        if not isinstance(block, nn.Module):
            raise AssertionError(f"{call} made {describe(block)}; make the class an nn.Module (class ResNetBlock("
                                 "nn.Module) with super().__init__() first).")
        torch.manual_seed(seed + in_channels)
        reference = ResNetBlock(in_channels, out_channels)
        expected_keys, keys = sorted(reference.state_dict()), sorted(block.state_dict())
        if keys != expected_keys:
            needs = "and a projection" if reference.projection is not None else "and no projection"
            raise AssertionError(f"{call} has parameters {keys}; expected {expected_keys} (conv1, conv2 {needs}: a "
                                 f"1x1 convolution exactly when the channel counts differ, named as in the figure).")
        block.load_state_dict(reference.state_dict())
        x = torch.randn(2, in_channels, 7, 6, generator=generator)
        result = call_learner(block, x.clone(), exercise="ResNetBlock", call=f"{call}(a (2, {in_channels}, 7, 6) "
                                                                               "batch)")
        with torch.no_grad():
            outputs = _block_outputs(reference, x)
        if not isinstance(result, torch.Tensor) or tuple(result.shape) != tuple(outputs["right"].shape):
            raise AssertionError(f"{call} returned {describe(result)}; expected a tensor of shape "
                                 f"{tuple(outputs['right'].shape)}.")
        if not close(result, outputs["right"], rtol=1e-4, atol=1e-5):
            slip = next((name for name, value in outputs.items() if name != "right" and close(result, value)), "")
            raise AssertionError(f"{call} with the reference's weights computes something else."
                                 + (f" It looks like {slip}." if slip else
                                    " Follow the figure: ReLU, conv1, ReLU, conv2, plus the shortcut."))
    return "computes what course_lib.nn.ResNetBlock computes, with an identity and with a projection shortcut " \
           f"(seed {seed})."


check_resnet_block = declare(Declaration(
    NOTEBOOK, 3, "the ResNet block with its projection shortcut (ResNetBlock)", 3, "ResNetBlock", hook=_block,
    builds_on=(check_sum_fusion,)))


# ---------------------------------------------------------------------------------------------- boundary F-score
def _blobs(generator: torch.Generator, count: int, size: int) -> torch.Tensor:
    """``count`` random binary masks (N, size, size): a few overlapping discs each."""
    rows, cols = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    masks = torch.zeros(count, size, size)
    for index in range(count):
        for _ in range(int(torch.randint(1, 4, (1,), generator=generator))):
            centre = torch.randint(3, size - 3, (2,), generator=generator)
            radius = float(torch.randint(2, max(3, size // 3), (1,), generator=generator))
            masks[index] += (((rows - centre[0]) ** 2 + (cols - centre[1]) ** 2) <= radius**2).float()
    return (masks > 0).float()


def _f_score_cases(seed: int) -> list[Case]:
    generator = torch.Generator().manual_seed(seed)
    truth = _blobs(generator, 3, 32)
    shifted = torch.roll(truth, shifts=1, dims=2)
    other = _blobs(generator, 3, 32)
    empty = torch.zeros(2, 20, 20)
    one = _blobs(generator, 2, 20)
    cases = [("masks shifted by one pixel", shifted, truth, 1), ("the same shifted masks", shifted, truth, 0),
             ("unrelated masks", other, truth, 2), ("identical masks", truth, truth, 0),
             ("two empty masks", empty, empty.clone(), 1), ("an empty prediction", empty, one, 1),
             ("an empty truth", one, empty, 1)]
    return [Case(f"boundary_f_score({what}, {tuple(truth.shape)}, tolerance={tolerance})", (prediction, truth,
                                                                                            tolerance))
            for what, prediction, truth, tolerance in cases]


check_boundary_f_score = declare(Declaration(
    NOTEBOOK, 6, "the boundary F-score (boundary_f_score)", 2, "boundary_f_score",
    reference=reference_boundary_f_score, cases=_f_score_cases, output=tensors(),
    slips=(Slip("The tolerance makes no difference in your answer: a border pixel counts as found when a border pixel "
                "of the other mask lies within `tolerance` pixels (dilate by 2 * tolerance + 1).",
                lambda prediction, truth, tolerance: reference_boundary_f_score(prediction, truth, 0) if tolerance
                else None),),
    hints={"shape": lambda got, want: f"Give one score per image, shape {tuple(want.shape)} (sum over the height and "
                                      "width only).",
           "values": lambda got, want: "It contains NaN: an image without border pixels divides 0 by 0. Two empty "
                                       "masks agree perfectly (1); one empty mask scores 0." if got.isnan().any()
           else ""},
    success="matches course_lib.metrics.boundary_f_score on {n} cases: shifted, unrelated, identical and empty masks, "
            "tolerances 0 to 2 (seed {seed})."))
