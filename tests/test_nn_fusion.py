"""Skip fusions and notebook 2's encoder-decoder whose fusion changes by one word."""

import pytest
import torch

from course_lib.nn import ConcatFusion, EncoderDecoder, FunctionFusion, NoFusion, SumFusion


def test_fusions_on_known_values():
    decoder = torch.tensor([1.0, 2.0, 3.0]).reshape(1, 3, 1, 1)
    skip = torch.tensor([4.0, 5.0, 6.0]).reshape(1, 3, 1, 1)
    assert ConcatFusion()(decoder, skip).flatten().tolist() == [1, 2, 3, 4, 5, 6]
    assert SumFusion()(decoder, skip).flatten().tolist() == [5, 7, 9]
    assert torch.equal(NoFusion()(decoder, skip), decoder)
    assert ConcatFusion().out_channels(3, 5) == 8 and SumFusion().out_channels(3, 3) == 3


def test_fusions_refuse_mismatched_shapes():
    with pytest.raises(ValueError, match="height and width"):
        ConcatFusion()(torch.zeros(1, 2, 4, 4), torch.zeros(1, 3, 4, 5))
    with pytest.raises(ValueError, match="equal channel"):
        SumFusion()(torch.zeros(1, 2, 4, 4), torch.zeros(1, 3, 4, 4))


def _count(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def test_encoder_decoder_variants():
    counts = {}
    x = torch.randn(1, 1, 32, 32)
    for fusion in ("none", "concat", "sum"):
        torch.manual_seed(0)
        model = EncoderDecoder(fusion=fusion, base=8, depth=3)
        assert model(x).shape == (1, 1, 32, 32)
        counts[fusion] = _count(model)
    base, depth = 8, 3
    # concatenation doubles the input channels of each level's first merge conv: + 9 * C_l * C_l per level
    extra = sum(9 * (base * 2**level) ** 2 for level in range(depth))
    assert counts["concat"] == counts["none"] + extra
    assert counts["sum"] == counts["none"]  # summation fuses for free


def test_encoder_decoder_checks_input():
    model = EncoderDecoder(fusion="sum", base=4, depth=3)
    with pytest.raises(ValueError, match="divisible by 8"):
        model(torch.randn(1, 1, 60, 64))
    with pytest.raises(ValueError, match="fusion must be one of"):
        EncoderDecoder(fusion="add")


def test_a_fusion_given_as_a_function_builds_the_same_network_as_its_word():
    def concat_fusion(decoder, skip):
        return torch.cat([decoder, skip], dim=1)

    def sum_fusion(decoder, skip):
        return decoder + skip

    x = torch.randn(2, 1, 32, 32)
    for word, function in (("concat", concat_fusion), ("sum", sum_fusion)):
        torch.manual_seed(0)
        named = EncoderDecoder(fusion=word, base=4, depth=3)
        torch.manual_seed(0)
        given = EncoderDecoder(fusion=function, base=4, depth=3)
        assert isinstance(given.fusions[0], FunctionFusion) and given.fusion_name == function.__name__
        assert _count(given) == _count(named)
        assert torch.equal(given(x), named(x)), f"{word}: the function's network computes something else"
    with torch.device("meta"):  # its channel count is found on the meta device too (notebook 2 counts costs there)
        assert EncoderDecoder(fusion=concat_fusion, base=4, depth=3)(torch.empty(1, 1, 32, 32)).shape == (1, 1, 32, 32)


def test_a_fusion_module_is_copied_per_level_and_anything_else_is_refused():
    model = EncoderDecoder(fusion=ConcatFusion(), base=4, depth=2)
    assert isinstance(model.fusions[0], ConcatFusion) and model.fusions[0] is not model.fusions[1]
    with pytest.raises(TypeError, match="function"):
        EncoderDecoder(fusion=3)
