"""Checks for notebook 2's exercises: fusing decoder and skip features by concatenation and by summation.

The reference is ``course_lib.nn.ConcatFusion`` / ``SumFusion``. Each check draws random (N, C, H, W) pairs from
the seed for batches of one, two and three, compares the learner's function with the reference, and requires
mismatched shapes to be refused with ``ValueError`` as the reference refuses them (``grading.declare`` does the rest).
"""

from __future__ import annotations

import torch

from course_lib.grading.declare import Case, Declaration, Slip, declare, tensors
from course_lib.nn import ConcatFusion, SumFusion

__all__ = ["check_concat_fusion", "check_sum_fusion"]

NOTEBOOK = "02_skip_connections"
BATCHES = (2, 1, 3)
Shapes = list[tuple[tuple[int, ...], tuple[int, ...]]]


def _pairs(name: str, seed: int, shapes: Shapes) -> list[Case]:
    generator = torch.Generator().manual_seed(seed)
    return [Case(f"{name}(decoder {decoder}, skip {skip})",
                 (torch.randn(*decoder, generator=generator), torch.randn(*skip, generator=generator)))
            for decoder, skip in shapes]


def _concat_shapes(seed: int, fused: bool) -> Shapes:
    shapes: Shapes = []
    for offset, batch in enumerate(BATCHES):
        sizes = [int(v) for v in torch.randint(2, 12, (6,), generator=torch.Generator().manual_seed(seed + 1000 + offset))]
        shapes += ([((batch, 1, sizes[4], sizes[5]), (batch, 1, sizes[4], sizes[5])),
                    ((batch, sizes[0], sizes[1], sizes[2]), (batch, sizes[3], sizes[1], sizes[2])),
                    ((batch, sizes[3], 8, 8), (batch, 2 * sizes[3], 8, 8))] if fused else
                   [((batch, 3, 8, 8), (batch, 3, 8, 6)), ((batch, 3, 8, 8), (batch, 3, 4, 8)),
                    ((batch, 3, 8, 8), (batch + 1, 3, 8, 8))])
    return shapes


def _sum_shapes(seed: int, fused: bool) -> Shapes:
    shapes: Shapes = []
    for offset, batch in enumerate(BATCHES):
        c, h, w = (int(v) for v in torch.randint(1, 12, (3,), generator=torch.Generator().manual_seed(seed + 2000 + offset)))
        shapes += ([((batch, c, h, w), (batch, c, h, w)), ((batch, 4, 8, 8), (batch, 4, 8, 8))] if fused else
                   [((batch, 4, 8, 8), (batch, 1, 8, 8)), ((batch, 4, 8, 8), (batch, 4, 8, 1)),  # would broadcast
                    ((batch, 4, 8, 8), (batch, 3, 8, 8)), ((batch, 4, 8, 8), (batch, 4, 6, 8))])
    return shapes


CONCAT_RECIPE = "Concatenate along the channel axis (dim=1), decoder first."
check_concat_fusion = declare(Declaration(
    NOTEBOOK, 1, "fusion by concatenation (concat_fusion)", 2, "concat_fusion", reference=ConcatFusion(),
    cases=lambda seed: _pairs("concat_fusion", seed, _concat_shapes(seed, True)), output=tensors(1e-5, 1e-6),
    slips=(Slip("The skip features come first; put the decoder's features first: [decoder, skip].",
                lambda decoder, skip: torch.cat([skip, decoder], 1)),
           Slip("You stacked along the batch axis (dim 0); concatenate along the channels, dim=1.",
                lambda decoder, skip: torch.cat([decoder, skip], 0) if decoder.shape[1:] == skip.shape[1:] else None)),
    hints={"shape": CONCAT_RECIPE, "values": CONCAT_RECIPE},
    refuse=lambda seed: _pairs("concat_fusion", seed + 1, _concat_shapes(seed, False)),
    refuse_advice="these shapes cannot be fused: raise ValueError naming both shapes.",
    success="matches course_lib.nn.ConcatFusion in {n} random pairs and refuses {refused} mismatched ones, batches "
            "of 1, 2 and 3 (seed {seed})."))

SUM_RECIPE = "Add the two tensors element by element: decoder + skip."
check_sum_fusion = declare(Declaration(
    NOTEBOOK, 2, "fusion by summation (sum_fusion)", 2, "sum_fusion", reference=SumFusion(),
    cases=lambda seed: _pairs("sum_fusion", seed, _sum_shapes(seed, True)), output=tensors(1e-5, 1e-6),
    slips=(Slip("That is concatenation; summation adds the two tensors element by element.",
                lambda decoder, skip: torch.cat([decoder, skip], 1)),),
    hints={"shape": SUM_RECIPE, "values": SUM_RECIPE},
    refuse=lambda seed: _pairs("sum_fusion", seed + 1, _sum_shapes(seed, False)),
    refuse_advice="these shapes cannot be fused: raise ValueError naming both shapes.",
    answers={"sum_fusion": SumFusion()},
    success="matches course_lib.nn.SumFusion in {n} random pairs and refuses {refused} mismatched ones, broadcastable "
            "ones included, batches of 1, 2 and 3 (seed {seed})."))
