"""CFCM: a ResNet encoder whose ladder of block outputs is read, coarse to fine, by ConvLSTM memories.

Built as the lab builds CFCM34 (stride 1 inside stages, 2x2 max-pooling after the 7x7 stem and between
stages, no normalisation unless ``norm`` names one, TF-style Glorot init).

Decoder, deepest stage first: the stage's ConvLSTM (hidden = stage channels C) starts from zeros at the
deepest stage and runs over the stage's ladder in REVERSE order (last block first). Its full state
``cat([cell, hidden])`` (2C channels) goes through a 2x2 stride-2 transposed convolution + ReLU to
``2 * C_next`` channels (= the lab's ``output_channels=base*8`` before the 4b level, etc.), and is split in
half along the channels: the FIRST C_next channels become the next ConvLSTM's cell, the LAST C_next its
hidden state (the lab's cell splits its state tensor as ``cell, hidden = split(state, 2)``). After the
shallowest level the last hidden output goes through a transposed conv to ``base`` channels + ReLU, a 3x3
conv + ReLU and a 3x3 conv to the logits. For base b, CFCM34 has 11996 b^2 + 268 b + 1 parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from course_lib.nn.blocks import LadderStage, ResNetBlock, check_features, conv_same, init_like_tensorflow
from course_lib.nn.convlstm import ConvLSTMCell, State, unroll
from course_lib.nn.fusion import make_fusion

__all__ = ["ResNetEncoder", "Stages", "Decoder", "decode_coarse_to_fine", "decode_hidden", "CFCM", "CFCM34", "CFCM18",
           "Ladder34", "ResidualLadder34", "RESNET34_LAYERS", "RESNET18_LAYERS"]

Stages = list[tuple[torch.Tensor, list[torch.Tensor]]]  # per stage, shallow first: (output, ladder of block outputs)
# What CFCM's decoder is: (stages, memories, handoffs) -> the head's input, the shallowest memory's last hidden output
Decoder = Callable[[Stages, Sequence[ConvLSTMCell], Sequence[nn.Module]], torch.Tensor]
RESNET34_LAYERS = (3, 4, 6, 3)
RESNET18_LAYERS = (2, 2, 2, 2)


def _up(in_channels: int, out_channels: int) -> nn.Sequential:
    """2x2 stride-2 transposed conv + ReLU (TF-slim's ``conv2d_transpose`` default activation)."""
    return nn.Sequential(nn.ConvTranspose2d(in_channels, out_channels, 2, stride=2), nn.ReLU())


class ResNetEncoder(nn.Module):
    """7x7 stem conv, 2x2 max-pool, then one ``LadderStage`` per entry of ``layers`` at ``base * 2**k``
    channels with a 2x2 max-pool between stages.

    forward: (N, in_channels, H, W) -> list over stages (shallow first) of ``(output, ladder)``; stage k
    works at H / 2**(k+1). H and W must be divisible by ``2**len(layers)``.
    """

    def __init__(self, layers: Sequence[int], in_channels: int = 1, base: int = 64, norm: str | None = None) -> None:
        super().__init__()
        if len(layers) < 1 or base < 1:
            raise ValueError(f"ResNetEncoder: need at least one stage and base >= 1, got layers={layers}, base={base}")
        self.layers, self.in_channels, self.base = tuple(layers), in_channels, base
        self.norm: str | None = norm  # kept, like base, so that nn.registry.spec_of can say how to rebuild it
        self.channels = [base * 2**k for k in range(len(layers))]
        self.multiple = 2 ** len(layers)
        self.stem = conv_same(in_channels, base, 7)
        self.pool = nn.MaxPool2d(2, stride=2)
        inputs = [base] + self.channels[:-1]
        self.stages = nn.ModuleList(LadderStage(i, o, blocks, norm)
                                    for i, o, blocks in zip(inputs, self.channels, self.layers))

    def forward(self, x: torch.Tensor) -> Stages:
        x = self.pool(self.stem(x))
        results = []
        for index, stage in enumerate(self.stages):
            if index:
                x = self.pool(x)
            x, ladder = stage(x)
            results.append((x, ladder))
        return results


def decode_coarse_to_fine(stages: Stages, memories: Sequence[ConvLSTMCell], handoffs: Sequence[nn.Module]) -> State:
    """CFCM's decoder: the final (cell, hidden) of the shallowest level's memory (the head reads the hidden).

    Deepest level first, from a zero state: each level's ConvLSTM reads that stage's ladder last block first;
    ``handoffs[level]`` turns the coarser level's ``cat([cell, hidden])`` into the next level's starting state,
    split in half along the channels (cell first).
    """
    deepest = len(stages) - 1
    state = memories[deepest].zero_state(stages[deepest][1][0])
    for level in range(deepest, -1, -1):
        if level != deepest:
            cell, hidden = torch.chunk(handoffs[level](torch.cat(state, dim=1)), 2, dim=1)
            state = (cell, hidden)
        _, state = unroll(memories[level], stages[level][1][::-1], state)
    return state


def decode_hidden(stages: Stages, memories: Sequence[ConvLSTMCell], handoffs: Sequence[nn.Module]) -> torch.Tensor:
    """What the head reads: the shallowest memory's last hidden output (notebook 4's exercise 3 returns the same)."""
    return decode_coarse_to_fine(stages, memories, handoffs)[1]


def _head(base: int, num_classes: int) -> nn.Sequential:
    """Last upsampling to the input size and the lab's 3x3 conv + ReLU + 3x3 conv to logits."""
    return nn.Sequential(_up(base, base), conv_same(base, base, 3), nn.ReLU(), conv_same(base, num_classes, 3))


class _SegmentationNet(nn.Module):
    """Shared input checks: (N, in_channels, H, W) with H, W divisible by ``2**len(layers)``."""

    encoder: ResNetEncoder

    def _check(self, x: torch.Tensor) -> None:
        check_features(x, self.encoder.in_channels, f"{type(self).__name__} input", self.encoder.multiple)


class CFCM(_SegmentationNet):
    """Coarse-to-Fine Context Memory on a ResNet encoder with stages ``layers``; see the module docstring.

    Input (N, in_channels, H, W) float, H and W divisible by ``2**len(layers)`` (16 for four stages);
    output LOGITS (N, num_classes, H, W). ``norm`` ("batch" as in the paper, "instance") adds a normalisation
    before every ReLU of the ResNet blocks (the lab leaves it out). ``decoder`` is the function that decodes
    (:func:`decode_hidden`); notebook 4 sets it to a student's own and trains with it.
    """

    def __init__(self, layers: Sequence[int], num_classes: int = 1, in_channels: int = 1, base: int = 64,
                 norm: str | None = None) -> None:
        super().__init__()
        self.encoder = ResNetEncoder(layers, in_channels, base, norm)
        channels = self.encoder.channels
        self.memories = nn.ModuleList(ConvLSTMCell(c, c, kernel_size=3, activation=torch.relu) for c in channels)
        # handoffs[k] carries the state of level k+1 (2 C_{k+1}) up to level k (2 C_k)
        self.handoffs = nn.ModuleList(_up(2 * channels[k + 1], 2 * channels[k]) for k in range(len(channels) - 1))
        self.head = _head(base, num_classes)
        init_like_tensorflow(self)
        self.decoder: Decoder = decode_hidden

    def decode(self, stages: Stages) -> State:
        """The final (cell, hidden) of the shallowest memory for the encoder's ``stages``."""
        return decode_coarse_to_fine(stages, self.memories, self.handoffs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check(x)
        return self.head(self.decoder(self.encoder(x), self.memories, self.handoffs))


class CFCM34(CFCM):
    """CFCM on ResNet34 stages [3, 4, 6, 3], the lab's network (base 64: 49,152,769 parameters)."""

    def __init__(self, num_classes: int = 1, in_channels: int = 1, base: int = 64, norm: str | None = None) -> None:
        super().__init__(RESNET34_LAYERS, num_classes, in_channels, base, norm)


class CFCM18(CFCM):
    """CFCM on ResNet18 stages [2, 2, 2, 2]: the same code, fewer blocks (and ConvLSTM steps) per level."""

    def __init__(self, num_classes: int = 1, in_channels: int = 1, base: int = 64, norm: str | None = None) -> None:
        super().__init__(RESNET18_LAYERS, num_classes, in_channels, base, norm)


class Ladder34(_SegmentationNet):
    """The no-memory baseline: CFCM34's encoder with a plain ladder decoder.

    Decoder, deepest first: x = ReLU(deepest stage output); for each shallower stage k (C_k channels):
    x = ReLU(ConvT2x2(x -> C_k)), x = fusion(x, ReLU(stage k output)) ("concat" or "sum"), then a 3x3
    conv (back to C_k) + ReLU. The head is CFCM's (ConvT to base + ReLU, 3x3 + ReLU, 3x3 to logits).
    Only the stage outputs are fused, where CFCM reads every block; that is the difference being compared.
    """

    def __init__(self, num_classes: int = 1, in_channels: int = 1, base: int = 64, norm: str | None = None,
                 fusion: str = "concat", layers: Sequence[int] = RESNET34_LAYERS) -> None:
        super().__init__()
        if fusion not in ("concat", "sum"):
            raise ValueError(f"Ladder34: fusion must be 'concat' or 'sum', got {fusion!r}")
        self.fusion_name = fusion
        self.encoder = ResNetEncoder(layers, in_channels, base, norm)
        channels = self.encoder.channels
        self.ups = nn.ModuleList()
        self.fusions = nn.ModuleList()
        self.merges = nn.ModuleList()
        for k in range(len(channels) - 2, -1, -1):
            fuse = make_fusion(fusion)
            self.ups.append(_up(channels[k + 1], channels[k]))
            self.fusions.append(fuse)
            self.merges.append(nn.Sequential(conv_same(fuse.out_channels(channels[k], channels[k]), channels[k], 3),
                                             nn.ReLU()))
        self.head = _head(base, num_classes)
        init_like_tensorflow(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check(x)
        stages = self.encoder(x)
        x = torch.relu(stages[-1][0])
        skips = [torch.relu(output) for output, _ in stages[-2::-1]]
        for up, fuse, merge, skip in zip(self.ups, self.fusions, self.merges, skips):
            x = merge(fuse(up(x), skip))
        return self.head(x)


class ResidualLadder34(_SegmentationNet):
    """The original CFCM repository's no-memory baseline: CFCM34 with each ConvLSTM replaced by residual blocks.

    It reads the same ladder as CFCM (every block output of every stage, last block first), so comparing the
    two isolates what the memory adds. Per level, deepest first, with C_k the stage's channels: the input
    (the deepest stage's last block output, or the upsampled coarser level concatenated with the first ladder
    map) goes through a ResNet block to C_k; each further ladder map is concatenated to the running features
    and followed by another block (2 C_k -> C_k, projection shortcut). A 2x2 transposed conv + ReLU hands the
    result to the next finer level, and the head is CFCM's. At base 16 it has 3.5 M parameters, CFCM34 3.1 M.
    """

    def __init__(self, num_classes: int = 1, in_channels: int = 1, base: int = 64, norm: str | None = None,
                 layers: Sequence[int] = RESNET34_LAYERS) -> None:
        super().__init__()
        self.encoder = ResNetEncoder(layers, in_channels, base, norm)
        channels, deepest = self.encoder.channels, len(layers) - 1
        self.levels = nn.ModuleList(
            nn.ModuleList(ResNetBlock(c if (k == deepest and i == 0) else 2 * c, c, norm, projection=True)
                          for i in range(blocks))
            for k, (c, blocks) in enumerate(zip(channels, layers)))
        self.ups = nn.ModuleList(_up(channels[k + 1], channels[k]) for k in range(deepest))
        self.head = _head(base, num_classes)
        init_like_tensorflow(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check(x)
        stages = self.encoder(x)
        features: torch.Tensor | None = None
        for level in range(len(stages) - 1, -1, -1):
            ladder = stages[level][1][::-1]
            if features is None:
                features = ladder[0]  # the deepest level starts from its last block alone
            else:
                features = torch.cat([self.ups[level](features), ladder[0]], dim=1)
            for index, block in enumerate(self.levels[level]):
                if index:
                    features = torch.cat([features, ladder[index]], dim=1)
                features = block(features)
        return self.head(features)
