"""How a layer changes a feature map's size, and how much of the input one output pixel sees.

Notebook 2 asks both questions of its encoder, and a student writes both answers. A convolution or pooling
layer with kernel k, stride s, padding p and dilation d maps a side of n pixels to floor((n + 2p - d(k-1) - 1)/s)
+ 1 (PyTorch's formula for ``nn.Conv2d`` and ``nn.MaxPool2d``). Stacked layers see a growing square of the input,
the receptive field: each layer widens it by (k - 1) d steps of the grid it reads, and that grid's step is the
product of the strides before it.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["conv_output_size", "receptive_fields"]


def conv_output_size(size: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """The output side of a convolution or pooling layer on an input side of ``size`` pixels."""
    if min(kernel_size, stride, dilation) < 1 or padding < 0 or size < 1:
        raise ValueError(f"conv_output_size: size, kernel_size, stride and dilation must be >= 1 and padding >= 0, "
                         f"got size={size}, kernel_size={kernel_size}, stride={stride}, padding={padding}, "
                         f"dilation={dilation}")
    span = dilation * (kernel_size - 1) + 1  # the input pixels one output pixel reads, side to side
    if size + 2 * padding < span:
        raise ValueError(f"conv_output_size: a kernel spanning {span} pixels does not fit in {size} pixels padded "
                         f"by {padding} on each side")
    return (size + 2 * padding - span) // stride + 1


def receptive_fields(layers: Sequence[tuple[int, int, int]]) -> list[tuple[int, int]]:
    """For layers given in order as (kernel_size, stride, dilation): after each, (receptive field, step), both in
    input pixels. The step is the distance in the input between two neighbouring outputs."""
    field, step, fields = 1, 1, []
    for kernel_size, stride, dilation in layers:
        field += (kernel_size - 1) * dilation * step
        step *= stride
        fields.append((field, step))
    return fields
