"""CFCM34 / CFCM18 / Ladder34: the lab's parameter count, the decoder's wiring, precision and input checks."""

import pytest
import torch
from torch import nn

from course_lib.nn import CFCM, CFCM18, CFCM34, ConvLSTMCell, Ladder34, ResidualLadder34, build_model, decode_hidden


def _count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def test_cfcm34_has_the_labs_parameter_count():
    with torch.device("meta"):  # shapes only: no memory, no initialisation cost
        model = CFCM34(base=64)
    assert _count(model) == 49_152_769


@pytest.mark.parametrize("base", [1, 4, 8, 16, 24, 64])
def test_parameter_formula(base):
    with torch.device("meta"):
        model = CFCM34(base=base)
    assert _count(model) == 11996 * base**2 + 268 * base + 1


def test_shapes_and_models():
    x = torch.randn(1, 1, 16, 48)  # the smallest sizes the four stages allow, not square
    for name in ("cfcm34", "cfcm18", "ladder34", "resladder34"):
        model = build_model(name, base=4)
        assert model(x).shape == (1, 1, 16, 48), name
    assert Ladder34(base=4, fusion="sum", num_classes=3, in_channels=2)(torch.randn(1, 2, 16, 16)).shape == (1, 3, 16, 16)
    assert isinstance(build_model("CFCM18", base=4), CFCM18)
    with pytest.raises(ValueError, match="unknown model"):
        build_model("unet")


def test_decoder_runs_each_memory_over_its_ladder_in_reverse():
    torch.manual_seed(0)
    model = CFCM34(base=4).eval()
    seen: dict[int, list[torch.Tensor]] = {}
    states: dict[int, list[tuple[torch.Tensor, torch.Tensor]]] = {}
    for index, cell in enumerate(model.memories):
        def record(module, args, index=index):
            seen.setdefault(index, []).append(args[0])
            states.setdefault(index, []).append(args[1])
        cell.register_forward_pre_hook(record)
    x = torch.randn(1, 1, 32, 32)
    with torch.no_grad():
        model(x)
        stages = model.encoder(x)
    assert [len(seen[k]) for k in range(4)] == [3, 4, 6, 3]
    for level, (_, ladder) in enumerate(stages):
        for got, want in zip(seen[level], ladder[::-1]):
            torch.testing.assert_close(got, want)
    assert not any(t.any() for t in states[3][0])  # zeros at the deepest level
    # hand-off: the first half of the upsampled [cell, hidden] is the next cell, the second half its hidden
    with torch.no_grad():
        last = model.memories[3](seen[3][-1], states[3][-1])[1]
        up = model.handoffs[2](torch.cat(last, dim=1))
    assert up.shape[1] == 2 * 16
    torch.testing.assert_close(states[2][0][0], up[:, :16])
    torch.testing.assert_close(states[2][0][1], up[:, 16:])


def test_generic_cfcm_and_batch_norm():
    model = CFCM([1, 1, 1], base=4, norm="batch")
    assert sum(isinstance(m, ConvLSTMCell) for m in model.modules()) == 3
    assert any(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    assert model(torch.randn(2, 1, 16, 16)).shape == (2, 1, 16, 16)


def test_channels_last_and_bf16_autocast_with_backward():
    torch.manual_seed(0)
    model = CFCM34(base=4).to(memory_format=torch.channels_last)
    x = torch.randn(1, 1, 32, 32).contiguous(memory_format=torch.channels_last)
    reference = model(x)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        logits = model(x)
    assert logits.shape == (1, 1, 32, 32) and torch.isfinite(logits).all()
    torch.testing.assert_close(logits.float(), reference, atol=0.05 * reference.abs().max().item() + 1e-3, rtol=0.1)
    logits.float().sum().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())


@pytest.mark.parametrize("shape,message", [((1, 32, 32), "4-D"), ((1, 3, 32, 32), "1 channels"),
                                           ((1, 1, 40, 32), "divisible by 16")])
def test_bad_inputs_are_refused(shape, message):
    with pytest.raises(ValueError, match=message):
        CFCM34(base=4)(torch.randn(*shape))


def test_ladder_fusions_differ_by_the_merge_convolutions():
    with torch.device("meta"):
        concat, summed = Ladder34(base=8, fusion="concat"), Ladder34(base=8, fusion="sum")
        cfcm = CFCM34(base=8)
    # concatenation doubles the input of each level's 3x3 merge conv (C_k = 8, 16, 32)
    assert _count(concat) - _count(summed) == sum(9 * c * c for c in (8, 16, 32))
    encoder = sum(p.numel() for p in cfcm.encoder.parameters())
    assert encoder == sum(p.numel() for p in concat.encoder.parameters())  # same encoder as CFCM34
    with pytest.raises(ValueError, match="'concat' or 'sum'"):
        Ladder34(base=4, fusion="none")


def test_residual_ladder_mirrors_the_encoder_block_for_block():
    with torch.device("meta"):
        model, cfcm = ResidualLadder34(base=16), CFCM34(base=16)
    # one decoder block per encoder block; all but the deepest level's first block also read a ladder map
    assert [len(level) for level in model.levels] == [3, 4, 6, 3]
    for k, (level, c) in enumerate(zip(model.levels, (16, 32, 64, 128))):
        assert [block.in_channels for block in level] == [c if (k == 3 and i == 0) else 2 * c for i in range(len(level))]
        assert all(block.out_channels == c and block.projection is not None for block in level)
    assert _count(model) == 3_496_609, "the original repository's ladder has 3.5 M parameters at base 16"
    assert _count(model.encoder) == _count(cfcm.encoder)


def test_a_cfcm_decodes_with_the_decoder_it_is_given():
    torch.manual_seed(0)
    model = CFCM34(base=4).eval()
    x = torch.randn(2, 1, 32, 32)
    with torch.no_grad():
        expected = model(x)
        torch.testing.assert_close(decode_hidden(model.encoder(x), model.memories, model.handoffs),
                                   model.decode(model.encoder(x))[1])
    calls = []

    def decode(stages, memories, handoffs):  # notebook 4's exercise 3, counted
        calls.append(len(stages))
        return decode_hidden(stages, memories, handoffs)

    model.decoder = decode
    with torch.no_grad():
        torch.testing.assert_close(model(x), expected)
    assert calls == [4]


def test_a_network_says_how_to_rebuild_it_without_anything_attached():
    from course_lib.nn import MODELS, ModelSpec, spec_of

    for name in MODELS:  # a new model keeps its width and normalisation where spec_of reads them
        for norm in (None, "batch", "instance"):
            model = build_model(name, base=4, norm=norm)
            assert spec_of(model) == ModelSpec(name, 4, norm) and not hasattr(model, "spec"), (name, norm)
    assert spec_of(CFCM34(base=4, norm="batch")) == ModelSpec("CFCM34", 4, "batch")  # built directly, named alike
    assert spec_of(Ladder34(base=4, fusion="sum")) is None  # the registry builds concatenating ladders only
    assert spec_of(CFCM34(base=4, num_classes=2)) is None
    assert spec_of(nn.Conv2d(1, 1, 3)) is None
    with_module = build_model("cfcm34", base=4)
    with_module.extra = nn.Conv2d(1, 1, 1)  # a module added after building: no longer what the spec builds
    assert spec_of(with_module) is None
