"""course_lib.nn.geometry: output sizes and receptive fields, checked against PyTorch's own layers."""

from __future__ import annotations

import random

import pytest
import torch
from torch import nn

from course_lib.nn import conv_output_size, receptive_fields


def test_output_sizes_match_pytorch_conv_and_pooling_layers():
    rng = random.Random(0)
    for _ in range(200):
        kernel, stride, dilation = rng.randint(1, 7), rng.randint(1, 3), rng.randint(1, 3)
        padding, size = rng.randint(0, 3), rng.randint(1, 40)
        if size + 2 * padding < dilation * (kernel - 1) + 1:
            with pytest.raises(ValueError, match="does not fit"):
                conv_output_size(size, kernel, stride, padding, dilation)
            continue
        layer = nn.Conv2d(1, 1, kernel, stride=stride, padding=padding, dilation=dilation)
        expected = layer(torch.zeros(1, 1, size, size)).shape[-1]
        assert conv_output_size(size, kernel, stride, padding, dilation) == expected, (size, kernel, stride, padding,
                                                                                     dilation)
    assert conv_output_size(128, 3, 2, 1) == nn.MaxPool2d(3, 2, 1)(torch.zeros(1, 1, 128, 128)).shape[-1] == 64


def test_receptive_fields_match_the_pixels_a_gradient_reaches():
    layers = [(7, 2, 1), (3, 2, 1), (3, 1, 1), (3, 1, 2), (3, 2, 1)]
    network = nn.Sequential(*[nn.Conv2d(1, 1, k, stride=s, dilation=d, bias=False) for k, s, d in layers])
    for layer in network:
        nn.init.constant_(layer.weight, 1.0)
    image = torch.zeros(1, 1, 129, 129, requires_grad=True)
    output = network(image)
    output[0, 0, output.shape[-2] // 2, output.shape[-1] // 2].backward()
    reached = (image.grad[0, 0].abs() > 0).any(dim=0).nonzero()
    field = int(reached.max() - reached.min() + 1)
    assert receptive_fields(layers)[-1] == (field, 2 * 2 * 2)


def test_bad_layer_arguments_are_named():
    with pytest.raises(ValueError, match="must be >= 1"):
        conv_output_size(10, 0)
    with pytest.raises(ValueError, match="padding >= 0"):
        conv_output_size(10, 3, padding=-1)
