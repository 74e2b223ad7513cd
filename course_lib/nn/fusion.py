"""How a decoder takes in the encoder's skip features, as a module swapped by one word.

Every fusion is ``forward(decoder, skip) -> fused`` on (N, C, H, W) tensors at the same resolution, and
``out_channels(decoder_channels, skip_channels)`` says how many channels the result has, so the layer after
it can be built for any fusion. A fusion is named by a word ("none", "concat", "sum") or given as a function
``fuse(decoder, skip)``, e.g. one written in notebook 2, which :class:`FunctionFusion` makes into such a module.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch
from torch import nn

from course_lib.nn.blocks import check_features, conv_same, make_norm

__all__ = ["NoFusion", "ConcatFusion", "SumFusion", "FunctionFusion", "Fusion", "make_fusion", "EncoderDecoder",
           "FUSIONS"]

# What a network's ``fusion`` argument takes: a name in FUSIONS, a fusion module, or a function (decoder, skip) -> fused.
Fusion = str | nn.Module | Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _check_pair(decoder: torch.Tensor, skip: torch.Tensor, where: str, same_channels: bool) -> None:
    if decoder.dim() != 4 or skip.dim() != 4:
        raise ValueError(f"{where}: expected two (N, C, H, W) tensors, got decoder {tuple(decoder.shape)} and "
                         f"skip {tuple(skip.shape)}")
    if decoder.shape[0] != skip.shape[0] or decoder.shape[2:] != skip.shape[2:]:
        raise ValueError(f"{where}: decoder {tuple(decoder.shape)} and skip {tuple(skip.shape)} must share batch "
                         "size, height and width")
    if same_channels and decoder.shape[1] != skip.shape[1]:
        raise ValueError(f"{where}: summation needs equal channel counts, got decoder {tuple(decoder.shape)} and "
                         f"skip {tuple(skip.shape)}")


class NoFusion(nn.Module):
    """No skip connection: the decoder's features pass on alone (the skip is ignored)."""

    def out_channels(self, decoder_channels: int, skip_channels: int) -> int:
        return decoder_channels

    def forward(self, decoder: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return decoder


class ConcatFusion(nn.Module):
    """``cat([decoder, skip], dim=1)``: (N, Cd, H, W) + (N, Cs, H, W) -> (N, Cd + Cs, H, W); keeps both, costs channels."""

    def out_channels(self, decoder_channels: int, skip_channels: int) -> int:
        return decoder_channels + skip_channels

    def forward(self, decoder: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        _check_pair(decoder, skip, "ConcatFusion", same_channels=False)
        return torch.cat([decoder, skip], dim=1)


class SumFusion(nn.Module):
    """``decoder + skip`` on equal shapes (N, C, H, W): no extra channels, the two are mixed at once."""

    def out_channels(self, decoder_channels: int, skip_channels: int) -> int:
        if decoder_channels != skip_channels:
            raise ValueError(f"SumFusion: needs equal channel counts, got {decoder_channels} and {skip_channels}")
        return decoder_channels

    def forward(self, decoder: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        _check_pair(decoder, skip, "SumFusion", same_channels=True)
        return decoder + skip


class FunctionFusion(nn.Module):
    """A fusion given as a function ``fuse(decoder, skip) -> fused``, such as notebook 2's ``concat_fusion``.

    Its channel count is found by calling the function once on two 1 x 1 maps of zeros, so the layer after it is
    built for whatever the function does.
    """

    def __init__(self, function: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> None:
        super().__init__()
        self.function = function

    def out_channels(self, decoder_channels: int, skip_channels: int) -> int:
        return int(self.function(torch.zeros(1, decoder_channels, 1, 1), torch.zeros(1, skip_channels, 1, 1)).shape[1])

    def forward(self, decoder: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return self.function(decoder, skip)

    def extra_repr(self) -> str:
        return getattr(self.function, "__name__", repr(self.function))


FUSIONS: dict[str, type[nn.Module]] = {"none": NoFusion, "concat": ConcatFusion, "sum": SumFusion}


def fusion_name(fusion: Fusion) -> str:
    """What error messages call ``fusion``: its word, or the name of its function or module."""
    if isinstance(fusion, str):
        return fusion
    return getattr(fusion, "__name__", type(fusion).__name__)


def make_fusion(fusion: Fusion) -> nn.Module:
    """A fusion module: the one named ``fusion`` ("none", "concat" or "sum"), a copy of a fusion module (one per
    level, so none shares weights), or a :class:`FunctionFusion` around a function ``fuse(decoder, skip)``."""
    if isinstance(fusion, str):
        if fusion not in FUSIONS:
            raise ValueError(f"fusion must be one of {sorted(FUSIONS)}, got {fusion!r}")
        return FUSIONS[fusion]()
    if isinstance(fusion, nn.Module) and hasattr(fusion, "out_channels"):
        return copy.deepcopy(fusion)
    if callable(fusion):
        return FunctionFusion(fusion)
    raise TypeError(f"fusion must be one of {sorted(FUSIONS)}, a fusion module or a function (decoder, skip) -> "
                    f"fused; got {type(fusion).__name__}")


def _double_conv(in_channels: int, out_channels: int, norm: str | None) -> nn.Sequential:
    """Two 3x3 convolutions, each followed by ReLU (and by the normalisation ``norm`` before it)."""
    layers: list[nn.Module] = []
    for channels_in in (in_channels, out_channels):
        layers += [conv_same(channels_in, out_channels, 3), *make_norm(norm, out_channels), nn.ReLU()]
    return nn.Sequential(*layers)


class EncoderDecoder(nn.Module):
    """A small U-shaped network for notebook 2 whose skip fusion is chosen by one word (or given as a function).

    Encoder: ``depth`` levels of two 3x3 conv + ReLU at ``base * 2**level`` channels, 2x2 max-pool between
    them, then a bottleneck at ``base * 2**depth``. Decoder: per level a 2x2 stride-2 transposed conv + ReLU
    back to that level's channels, the fusion with the encoder's features at that level (``fusion``: a word, a
    fusion module or a function ``fuse(decoder, skip)``; see :func:`make_fusion`), two 3x3 conv + ReLU; a final
    1x1 conv gives logits. ``norm`` ("batch" or "instance") puts a normalisation before every ReLU of the
    double convolutions (without one, the no-skip network often stalls on one class in short runs). Input (N, in_channels, H, W)
    with H, W divisible by ``2**depth``; output logits (N, num_classes, H, W).
    """

    def __init__(self, fusion: Fusion = "none", in_channels: int = 1, num_classes: int = 1, base: int = 16,
                 depth: int = 3, norm: str | None = None) -> None:
        super().__init__()
        if depth < 1:
            raise ValueError(f"EncoderDecoder: depth must be at least 1, got {depth}")
        self.fusion_name, self.in_channels, self.depth = fusion_name(fusion), in_channels, depth
        widths = [base * 2**level for level in range(depth + 1)]
        self.down = nn.ModuleList()
        previous = in_channels
        for width in widths[:-1]:
            self.down.append(_double_conv(previous, width, norm))
            previous = width
        self.pool = nn.MaxPool2d(2)
        self.bottleneck = _double_conv(widths[-2], widths[-1], norm)
        self.up = nn.ModuleList()
        self.fusions = nn.ModuleList()
        self.merge = nn.ModuleList()
        for level in reversed(range(depth)):
            width = widths[level]
            self.up.append(nn.Sequential(nn.ConvTranspose2d(widths[level + 1], width, 2, stride=2), nn.ReLU()))
            fuse = make_fusion(fusion)
            self.fusions.append(fuse)
            self.merge.append(_double_conv(fuse.out_channels(width, width), width, norm))
        self.head = nn.Conv2d(widths[0], num_classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_features(x, self.in_channels, f"EncoderDecoder(fusion={self.fusion_name!r}) input", 2**self.depth)
        skips = []
        for level in self.down:
            x = level(x)
            skips.append(x)
            x = self.pool(x)
        x = self.bottleneck(x)
        for up, fuse, merge, skip in zip(self.up, self.fusions, self.merge, reversed(skips)):
            x = merge(fuse(up(x), skip))
        return self.head(x)
