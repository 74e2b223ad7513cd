"""Checks for notebook 2's exercises 3 to 6: the ResNet block, output sizes, receptive fields, the boundary F-score.

References: PyTorch's own ``nn.Conv2d`` (on the ``meta`` device, so no pixel is computed) for output sizes,
``course_lib.nn.receptive_fields``, ``course_lib.nn.ResNetBlock`` (its weights are loaded into the learner's
block, so both compute with the same numbers) and ``course_lib.metrics.boundary_f_score``. Every check tries
every graded behaviour on cases drawn from a fixed seed; the hidden tests change the seed. A wrong answer is
compared with the usual slips (a forgotten ``+ 1``, dilation or tolerance; an activation after the sum) and the
message names the slip only when the answer's numbers are that slip's.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from numbers import Integral

import torch
from torch import nn

from course_lib.grading.core import call_learner, close, describe, refusal, require_defined_in_notebook
from course_lib.grading.feedback import exercise_check
from course_lib.grading.fusion import check_sum_fusion
from course_lib.metrics import boundary_f_score as reference_boundary_f_score
from course_lib.nn import ResNetBlock, receptive_fields as reference_receptive_fields

__all__ = ["check_conv_output_size", "check_receptive_fields", "check_resnet_block", "check_boundary_f_score"]

NOTEBOOK = "02_skip_connections"
# (size, kernel_size, stride, padding, dilation): the encoder's own layers first, then floors, dilations, paddings
NAMED_SIZES = ((256, 3, 1, 1, 1), (256, 2, 2, 0, 1), (7, 3, 2, 0, 2), (5, 3, 2, 1, 1), (9, 3, 1, 2, 3),
               (10, 4, 3, 0, 1), (1, 1, 1, 0, 1))
TOO_SMALL = ((2, 3, 1, 0, 1), (4, 3, 1, 0, 2), (1, 5, 1, 1, 1))


# ---------------------------------------------------------------------------------------------- output size
def _torch_size(size: int, kernel: int, stride: int, padding: int, dilation: int) -> int:
    with torch.device("meta"):
        conv = nn.Conv2d(1, 1, kernel, stride=stride, padding=padding, dilation=dilation)
        return int(conv(torch.empty(1, 1, size, size)).shape[-1])


def _size_slips(size: int, kernel: int, stride: int, padding: int, dilation: int) -> dict[str, int]:
    """What each usual slip's formula gives for one case, by the advice that names it."""
    inner = size + 2 * padding - dilation * (kernel - 1) - 1
    return {
        "forgot the `+ 1` (n pixels hold n - k + 1 positions of a k-pixel kernel)": inner // stride,
        "left out the dilation: a kernel of k taps with dilation d spans d(k - 1) + 1 pixels":
            (size + 2 * padding - (kernel - 1) - 1) // stride + 1,
        "padded one side only: padding p adds p pixels on each side, 2p in all":
            (size + padding - dilation * (kernel - 1) - 1) // stride + 1,
        "rounded up: a last position that only partly fits is dropped, so round down (//)":
            math.ceil(inner / stride) + 1,
        "left out the stride: divide by it (floor division)": inner + 1,
    }


def _size_slip(answer: Callable[..., int], cases: list[tuple[int, int, int, int, int]]) -> str:
    """The one slip whose formula gives the answer's result in every case, or ''."""
    results = []
    for case in cases:
        try:
            results.append(call_learner(answer, *case, exercise="conv_output_size"))
        except AssertionError:
            results.append(None)
    names = list(_size_slips(*cases[0]))
    matching = [name for name in names
                if all(result == _size_slips(*case)[name] for result, case in zip(results, cases))]
    return matching[0] if len(matching) == 1 else ""


@exercise_check(NOTEBOOK, 4, "a layer's output size (conv_output_size)", points=1)
def check_conv_output_size(conv_output_size: Callable[..., int], *, seed: int = 0) -> str:
    """``conv_output_size(size, kernel_size, stride, padding, dilation)`` must give what ``nn.Conv2d`` gives."""
    require_defined_in_notebook(conv_output_size, exercise="conv_output_size")
    rng = random.Random(seed)
    cases = list(NAMED_SIZES)
    while len(cases) < len(NAMED_SIZES) + 40:
        case = (rng.randint(1, 64), rng.choice((1, 2, 3, 4, 5, 7)), rng.randint(1, 4), rng.randint(0, 3),
                rng.randint(1, 3))
        if case[0] + 2 * case[3] >= case[4] * (case[1] - 1) + 1:
            cases.append(case)
    for case in cases:
        call = "conv_output_size(size={}, kernel_size={}, stride={}, padding={}, dilation={})".format(*case)
        result = call_learner(conv_output_size, *case, exercise="conv_output_size", call=call)
        expected = _torch_size(*case)
        if isinstance(result, float) and result == expected:
            raise AssertionError(f"{call} returned {result!r}, a float; sides are whole pixels: use floor division "
                                 "(//) so the answer is an int.")
        if not isinstance(result, Integral) or isinstance(result, bool):
            raise AssertionError(f"{call} returned {describe(result)}; expected an int ({expected}).")
        if result != expected:
            slip = _size_slip(conv_output_size, cases)
            raise AssertionError(f"{call} returned {result}; nn.Conv2d gives {expected}."
                                 + (f" It looks like you {slip}." if slip else " Check the formula term by term."))
    for case in TOO_SMALL:
        call = "conv_output_size(size={}, kernel_size={}, stride={}, padding={}, dilation={})".format(*case)
        instead = refusal(conv_output_size, *case, exercise="conv_output_size", call=call)
        if isinstance(instead, str):
            raise AssertionError(f"{call} {instead}; the kernel does not fit in the padded input, so there is no "
                                 "output: raise ValueError.")
    return (f"gives nn.Conv2d's output size in {len(cases)} cases (strides, paddings, dilations, sizes that do not "
            f"divide) and refuses {len(TOO_SMALL)} kernels that do not fit (seed {seed}).")


# ---------------------------------------------------------------------------------------------- receptive field
def _field_slips(layers: list[tuple[int, int, int]]) -> list[tuple[list[tuple[int, int]], str]]:
    def rule(widen: Callable[[int, int, int, int], int], stride_first: bool = False) -> list[tuple[int, int]]:
        field, step, out = 1, 1, []
        for kernel, stride, dilation in layers:
            if stride_first:
                step *= stride
            field += widen(kernel, stride, dilation, step)
            if not stride_first:
                step *= stride
            out.append((field, step))
        return out

    return [
        (rule(lambda k, s, d, j: (k - 1) * d * j, stride_first=True),
         "multiply the step by the layer's stride before widening the field: a layer reads the grid its input is "
         "on, so widen with the step from before it, then update the step"),
        (rule(lambda k, s, d, j: (k - 1) * j), "left out the dilation: a dilated kernel spans (k - 1) d steps"),
        (rule(lambda k, s, d, j: (k - 1) * d), "never multiplied by the step: after a stride-2 layer, one step of "
                                               "the grid is 2 input pixels"),
        ([(step, field) for field, step in reference_receptive_fields(layers)],
         "swapped the two: each pair is (receptive field, step)"),
    ]


@exercise_check(NOTEBOOK, 5, "receptive fields, layer by layer (receptive_fields)", points=2)
def check_receptive_fields(receptive_fields: Callable[[list[tuple[int, int, int]]], list[tuple[int, int]]], *,
                           seed: int = 0) -> str:
    """``receptive_fields(layers)`` must equal ``course_lib.nn.receptive_fields`` on random stacks of layers."""
    require_defined_in_notebook(receptive_fields, exercise="receptive_fields")
    rng = random.Random(seed)
    stacks = [[(3, 1, 1), (3, 1, 1), (2, 2, 1), (3, 1, 1)], [(7, 2, 1), (3, 2, 1), (3, 1, 2)], [(1, 1, 1)]]
    stacks += [[(rng.choice((1, 2, 3, 5, 7)), rng.choice((1, 1, 2)), rng.choice((1, 1, 2)))
                for _ in range(rng.randint(2, 9))] for _ in range(12)]
    for layers in stacks:
        call = f"receptive_fields({layers})"
        result = call_learner(receptive_fields, [tuple(layer) for layer in layers], exercise="receptive_fields",
                              call=call)
        expected = reference_receptive_fields(layers)
        try:
            got = [(int(field), int(step)) for field, step in result]
        except (TypeError, ValueError):
            raise AssertionError(f"{call} returned {describe(result)}; expected a list with one (field, step) pair "
                                 f"per layer: {expected}.") from None
        if len(got) != len(expected):
            raise AssertionError(f"{call} returned {len(got)} pairs for {len(layers)} layers; give one (field, step) "
                                 "pair after each layer, in order.")
        if got != expected:
            slip = next((advice for slipped, advice in _field_slips(layers) if slipped == got), "")
            first = next(i for i, (a, b) in enumerate(zip(got, expected)) if a != b)
            raise AssertionError(f"{call}: after layer {first + 1} {layers[first]} you give {got[first]}, expected "
                                 f"{expected[first]}." + (f" You {slip}." if slip else
                                                          " Apply r += (k - 1) d j, then j *= s, layer by layer."))
    return f"matches the reference on {len(stacks)} stacks of layers, strides and dilations included (seed {seed})."


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


@exercise_check(NOTEBOOK, 3, "the ResNet block with its projection shortcut (ResNetBlock)", points=3,
                builds_on=(check_sum_fusion,))
def check_resnet_block(block_class: type, *, seed: int = 0) -> str:
    """``block_class(in, out)`` loaded with a reference block's weights must compute what the reference computes."""
    require_defined_in_notebook(block_class, exercise="ResNetBlock")
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


def _f_score_cases(seed: int) -> list[tuple[str, torch.Tensor, torch.Tensor, int]]:
    generator = torch.Generator().manual_seed(seed)
    truth = _blobs(generator, 3, 32)
    shifted = torch.roll(truth, shifts=1, dims=2)
    other = _blobs(generator, 3, 32)
    empty = torch.zeros(2, 20, 20)
    one = _blobs(generator, 2, 20)
    return [("masks shifted by one pixel", shifted, truth, 1), ("the same shifted masks", shifted, truth, 0),
            ("unrelated masks", other, truth, 2), ("identical masks", truth, truth, 0),
            ("two empty masks", empty, empty.clone(), 1), ("an empty prediction", empty, one, 1),
            ("an empty truth", one, empty, 1)]


@exercise_check(NOTEBOOK, 6, "the boundary F-score (boundary_f_score)", points=2)
def check_boundary_f_score(boundary_f_score: Callable[..., torch.Tensor], *, seed: int = 0) -> str:
    """``boundary_f_score(prediction, truth, tolerance)`` must equal ``course_lib.metrics.boundary_f_score``."""
    require_defined_in_notebook(boundary_f_score, exercise="boundary_f_score")
    cases = _f_score_cases(seed)
    for what, prediction, truth, tolerance in cases:
        call = f"boundary_f_score({what}, {tuple(truth.shape)}, tolerance={tolerance})"
        result = call_learner(boundary_f_score, prediction.clone(), truth.clone(), tolerance,
                              exercise="boundary_f_score", call=call)
        expected = reference_boundary_f_score(prediction, truth, tolerance)
        if not isinstance(result, torch.Tensor):
            raise AssertionError(f"{call} returned {describe(result)}; expected a tensor of {len(truth)} scores.")
        if tuple(result.shape) != tuple(expected.shape):
            raise AssertionError(f"{call} has shape {tuple(result.shape)}; give one score per image, shape "
                                 f"{tuple(expected.shape)} (sum over the height and width only).")
        if bool(torch.isnan(result).any()):
            raise AssertionError(f"{call} contains NaN: an image without border pixels divides 0 by 0. Two empty "
                                 "masks agree perfectly (1); one empty mask scores 0.")
        if not close(result, expected, rtol=1e-4, atol=1e-5):
            slip = ""
            if tolerance > 0 and close(result, reference_boundary_f_score(prediction, truth, 0)):
                slip = " The tolerance makes no difference in your answer: a border pixel counts as found when a " \
                       "border pixel of the other mask lies within `tolerance` pixels (dilate by 2 * tolerance + 1)."
            raise AssertionError(f"{call} gives {[round(float(v), 4) for v in result]}, expected "
                                 f"{[round(float(v), 4) for v in expected]}.{slip}")
    return (f"matches course_lib.metrics.boundary_f_score on {len(cases)} cases: shifted, unrelated, identical and "
            f"empty masks, tolerances 0 to 2 (seed {seed}).")

