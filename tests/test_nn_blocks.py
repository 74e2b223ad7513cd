"""The lab's building blocks: 'same' convolutions, the pre-activation ResNet block and the ladder stage."""

import torch
from torch import nn

from course_lib.nn import LadderStage, ResNetBlock, conv_same


def test_conv_same_keeps_size_and_has_bias():
    conv = conv_same(2, 5, 7)
    assert conv.bias is not None
    assert conv(torch.randn(1, 2, 9, 12)).shape == (1, 5, 9, 12)


def test_block_is_preactivated_with_projection_of_activated_input():
    torch.manual_seed(0)
    block = ResNetBlock(3, 6)
    x = torch.randn(2, 3, 8, 8)
    activated = torch.relu(x)
    expected = block.conv2(torch.relu(block.conv1(activated))) + block.projection(activated)
    torch.testing.assert_close(block(x), expected)
    same = ResNetBlock(4, 4)
    assert same.projection is None
    y = torch.randn(1, 4, 8, 8)
    torch.testing.assert_close(same(y), same.conv2(torch.relu(same.conv1(torch.relu(y)))) + y)


def test_batch_norm_option_adds_norms_before_relu():
    assert not any(isinstance(m, nn.BatchNorm2d) for m in ResNetBlock(4, 4).modules())
    block = ResNetBlock(4, 8, norm="batch")
    assert [m.num_features for m in block.modules() if isinstance(m, nn.BatchNorm2d)] == [4, 8]


def test_ladder_stage_outputs_first_raw_then_relu():
    torch.manual_seed(0)
    stage = LadderStage(4, 4, blocks=3)
    assert stage.blocks[0].projection is not None  # the lab projects in every stage's first block
    assert all(block.projection is None for block in stage.blocks[1:])
    x = torch.randn(2, 4, 8, 8)
    output, ladder = stage(x)
    first = stage.blocks[0](x)
    second = stage.blocks[1](first)
    third = stage.blocks[2](second)
    assert len(ladder) == 3
    torch.testing.assert_close(ladder[0], first)  # no ReLU: it can be negative
    assert (ladder[0] < 0).any()
    torch.testing.assert_close(ladder[1], torch.relu(second))
    torch.testing.assert_close(ladder[2], torch.relu(third))
    torch.testing.assert_close(output, third)
