"""Checks for notebook 2's exercises: fusing decoder and skip features by concatenation and by summation.

The reference is ``course_lib.nn.ConcatFusion`` / ``SumFusion``. Each check draws random (N, C, H, W) pairs
from a fixed seed (so a grade is reproducible), compares the learner's function with the reference, and makes
sure mismatched shapes are refused with ``ValueError`` as the reference refuses them, for batches of one,
two and three (every graded behaviour: the hidden tests only change the seed). A failure says which case
differs and the likely fix; ``course_lib.grading.feedback`` shows it; nothing goes to stderr.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from course_lib.grading.core import call_learner, close, refusal, require_defined_in_notebook
from course_lib.grading.feedback import exercise_check
from course_lib.nn import ConcatFusion, SumFusion

__all__ = ["check_concat_fusion", "check_sum_fusion"]

Fusion = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
ShapePair = tuple[tuple[int, ...], tuple[int, ...]]


BATCHES = (2, 1, 3)


def _compare(function: Fusion, reference: nn.Module, name: str, good: list[ShapePair], bad: list[ShapePair],
             seed: int, advice: Callable[[torch.Tensor, torch.Tensor, torch.Tensor], str]) -> None:
    generator = torch.Generator().manual_seed(seed)
    for decoder_shape, skip_shape in good:
        decoder = torch.randn(*decoder_shape, generator=generator)
        skip = torch.randn(*skip_shape, generator=generator)
        what = f"{name}(decoder {decoder_shape}, skip {skip_shape})"
        expected = reference(decoder, skip)
        result = call_learner(function, decoder.clone(), skip.clone(), exercise=name, call=what)
        if not isinstance(result, torch.Tensor):
            raise AssertionError(f"{what} returned {type(result).__name__}; expected a torch.Tensor.")
        if tuple(result.shape) != tuple(expected.shape):
            raise AssertionError(f"{what} has shape {tuple(result.shape)}, expected {tuple(expected.shape)}."
                                 f"{advice(result, decoder, skip)}")
        if not close(result, expected, rtol=1e-5, atol=1e-6):
            raise AssertionError(f"{what} has the right shape but different values.{advice(result, decoder, skip)}")
    for decoder_shape, skip_shape in bad:
        decoder = torch.randn(*decoder_shape, generator=generator)
        skip = torch.randn(*skip_shape, generator=generator)
        call = f"{name}(decoder {decoder_shape}, skip {skip_shape})"
        assert isinstance(refusal(reference, decoder, skip, exercise=name, call=call), ValueError), \
            f"internal: the reference accepts {decoder_shape} + {skip_shape}"
        instead = refusal(function, decoder, skip, exercise=name, call=call)
        if isinstance(instead, str):
            raise AssertionError(f"{call} {instead}; these shapes cannot be fused: raise ValueError naming both "
                                 "shapes.")


@exercise_check("02_skip_connections", 1, "fusion by concatenation (concat_fusion)", points=2)
def check_concat_fusion(concat_fusion: Fusion, *, seed: int = 0) -> str:
    """``concat_fusion(decoder, skip)`` must equal ``ConcatFusion()(decoder, skip)`` and refuse bad shapes."""
    require_defined_in_notebook(concat_fusion, exercise="concat_fusion")
    pairs = 0
    for offset, batch in enumerate(BATCHES):
        rng = torch.Generator().manual_seed(seed + 1000 + offset)
        sizes = [int(v) for v in torch.randint(2, 12, (6,), generator=rng)]
        good = [((batch, 1, sizes[4], sizes[5]), (batch, 1, sizes[4], sizes[5])),
                ((batch, sizes[0], sizes[1], sizes[2]), (batch, sizes[3], sizes[1], sizes[2])),
                ((batch, sizes[3], 8, 8), (batch, 2 * sizes[3], 8, 8))]
        bad = [((batch, 3, 8, 8), (batch, 3, 8, 6)),
               ((batch, 3, 8, 8), (batch, 3, 4, 8)),
               ((batch, 3, 8, 8), (batch + 1, 3, 8, 8))]

        def advice(result: torch.Tensor, decoder: torch.Tensor, skip: torch.Tensor) -> str:
            if result.shape == torch.cat([skip, decoder], dim=1).shape and torch.equal(result, torch.cat([skip, decoder], 1)):
                return " The skip features come first; put the decoder's features first: [decoder, skip]."
            if result.dim() == 4 and result.shape[0] == decoder.shape[0] + skip.shape[0]:
                return " You stacked along the batch axis (dim 0); concatenate along the channels, dim=1."
            return " Concatenate along the channel axis (dim=1), decoder first."

        _compare(concat_fusion, ConcatFusion(), "concat_fusion", good, bad, seed + offset, advice)
        pairs += len(good) + len(bad)
    return (f"matches course_lib.nn.ConcatFusion and refuses mismatched shapes: {pairs} random pairs, batches of "
            f"{', '.join(map(str, sorted(BATCHES)))} (seed {seed}).")


@exercise_check("02_skip_connections", 2, "fusion by summation (sum_fusion)", points=2,
                answers={"sum_fusion": SumFusion()})
def check_sum_fusion(sum_fusion: Fusion, *, seed: int = 0) -> str:
    """``sum_fusion(decoder, skip)`` must equal ``SumFusion()(decoder, skip)`` and refuse any shape mismatch."""
    require_defined_in_notebook(sum_fusion, exercise="sum_fusion")
    pairs = 0
    for offset, batch in enumerate(BATCHES):
        rng = torch.Generator().manual_seed(seed + 2000 + offset)
        channels, height, width = (int(v) for v in torch.randint(1, 12, (3,), generator=rng))
        good = [((batch, channels, height, width), (batch, channels, height, width)),
                ((batch, 4, 8, 8), (batch, 4, 8, 8))]
        bad = [((batch, 4, 8, 8), (batch, 1, 8, 8)),  # would broadcast silently
               ((batch, 4, 8, 8), (batch, 4, 8, 1)),  # would broadcast silently
               ((batch, 4, 8, 8), (batch, 3, 8, 8)),
               ((batch, 4, 8, 8), (batch, 4, 6, 8))]

        def advice(result: torch.Tensor, decoder: torch.Tensor, skip: torch.Tensor) -> str:
            if result.shape[1] == decoder.shape[1] + skip.shape[1]:
                return " That is concatenation; summation adds the two tensors element by element."
            return " Add the two tensors element by element: decoder + skip."

        _compare(sum_fusion, SumFusion(), "sum_fusion", good, bad, seed + offset, advice)
        pairs += len(good) + len(bad)
    return (f"matches course_lib.nn.SumFusion and refuses every shape mismatch, broadcastable ones included: {pairs} "
            f"random pairs, batches of {', '.join(map(str, sorted(BATCHES)))} (seed {seed}).")
