"""The encoder's building blocks, built the way the lab builds them.

Every convolution has a bias and 'same' padding (odd kernels only). The ResNet block is
pre-activation: (optional normalisation ->) ReLU before each convolution. The lab keeps normalisation
off (its ``batch_norm_relu`` is only a ReLU); ``norm="batch"`` restores the paper's batch norm, and
``norm="instance"`` normalises each image's feature maps on their own (no running statistics, so training and
evaluation behave alike whatever the batch size, and a hospital's different exposure is normalised away).
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["conv_same", "ResNetBlock", "LadderStage", "init_like_tensorflow", "check_features", "NORMS", "make_norm"]

NORMS = ("batch", "instance")  # or None: no normalisation (the lab)


def make_norm(norm: str | None, channels: int) -> list[nn.Module]:
    """The normalisation layer ``norm`` names for ``channels`` feature maps, as a list (empty for None)."""
    if norm is None:
        return []
    if norm == "batch":
        return [nn.BatchNorm2d(channels, momentum=0.1)]
    if norm == "instance":  # GroupNorm with one group per channel: instance norm with a learned scale and shift
        return [nn.GroupNorm(channels, channels)]
    raise ValueError(f"norm must be None or one of {NORMS}, got {norm!r}")


def conv_same(in_ch: int, out_ch: int, kernel_size: int, stride: int = 1) -> nn.Conv2d:
    """A biased ``kernel_size`` x ``kernel_size`` convolution whose output keeps the input's size (stride 1)."""
    if kernel_size % 2 != 1:
        raise ValueError(f"conv_same: kernel_size must be odd for symmetric 'same' padding, got {kernel_size}")
    return nn.Conv2d(in_ch, out_ch, kernel_size, stride=stride, padding=kernel_size // 2, bias=True)


def init_like_tensorflow(module: nn.Module) -> None:
    """Glorot-uniform weights and zero biases for every (transposed) convolution, as TF-slim initialises them."""
    for layer in module.modules():
        if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.xavier_uniform_(layer.weight)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)


def check_features(x: torch.Tensor, channels: int, where: str, multiple: int = 1) -> None:
    """Raise ValueError unless ``x`` is (N, channels, H, W) with H and W divisible by ``multiple``."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{where}: expected a torch.Tensor of shape (N, {channels}, H, W), got {type(x).__name__}")
    if x.dim() != 4:
        raise ValueError(f"{where}: expected a 4-D tensor (N, {channels}, H, W), got shape {tuple(x.shape)}; "
                         "add a batch axis with x.unsqueeze(0) or a channel axis with x.unsqueeze(1)")
    if x.shape[1] != channels:
        raise ValueError(f"{where}: expected {channels} channels (N, {channels}, H, W), got shape {tuple(x.shape)}")
    if multiple > 1 and (x.shape[2] % multiple or x.shape[3] % multiple):
        raise ValueError(f"{where}: height and width must be divisible by {multiple}, got "
                         f"{x.shape[2]}x{x.shape[3]}; resize or crop the input (e.g. to 128x128 or 256x256)")


class _PreActivation(nn.Sequential):
    """(normalisation ->) ReLU: the lab's ``batch_norm_relu`` with the normalisation switchable."""

    def __init__(self, channels: int, norm: str | None) -> None:
        super().__init__(*make_norm(norm, channels), nn.ReLU())


class ResNetBlock(nn.Module):
    """Pre-activation ResNet building block: ``conv(act(conv(act(x)))) + shortcut``.

    Input (N, in_channels, H, W) -> output (N, out_channels, H, W), without a final activation.
    The shortcut is a 1x1 convolution of the *pre-activated* input when ``projection`` is True
    (default: only when the channel count changes; the lab's stages force it in their first block).
    """

    def __init__(self, in_channels: int, out_channels: int, norm: str | None = None,
                 projection: bool | None = None) -> None:
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        if projection is None:
            projection = in_channels != out_channels
        if not projection and in_channels != out_channels:
            raise ValueError(f"ResNetBlock({in_channels}, {out_channels}): an identity shortcut needs equal channel "
                             "counts; pass projection=True")
        self.act1 = _PreActivation(in_channels, norm)
        self.projection = conv_same(in_channels, out_channels, 1) if projection else None
        self.conv1 = conv_same(in_channels, out_channels, 3)
        self.act2 = _PreActivation(out_channels, norm)
        self.conv2 = conv_same(out_channels, out_channels, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        activated = self.act1(x)
        shortcut = x if self.projection is None else self.projection(activated)
        return self.conv2(self.act2(self.conv1(activated))) + shortcut


class LadderStage(nn.Module):
    """A ResNet stage of ``blocks`` blocks at one resolution (stride 1, as the lab) that also hands
    every block's output to the decoder.

    forward: (N, in_channels, H, W) -> ``(output, ladder)``; ``output`` (N, out_channels, H, W) is the
    last block's raw output; ``ladder`` lists one (N, out_channels, H, W) map per block, the first
    block's without a ReLU and the others' after a ReLU (the lab's ``block_layer_compressing``).
    The first block always has a projection shortcut, as in the lab.
    """

    def __init__(self, in_channels: int, out_channels: int, blocks: int, norm: str | None = None) -> None:
        super().__init__()
        if blocks < 1:
            raise ValueError(f"LadderStage: blocks must be at least 1, got {blocks}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.blocks = nn.ModuleList(
            [ResNetBlock(in_channels, out_channels, norm, projection=True)]
            + [ResNetBlock(out_channels, out_channels, norm) for _ in range(blocks - 1)])

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        x = self.blocks[0](x)
        ladder = [x]
        for block in self.blocks[1:]:
            x = block(x)
            ladder.append(torch.relu(x))
        return x, ladder
