"""Numbers the figures print, read from the models in ``course_lib.nn`` (never typed in)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class CellFacts:
    """What a ConvLSTM figure states about one cell."""

    in_channels: int
    hidden_channels: int
    kernel_size: int
    forget_bias: float
    activation: str
    example: str  # where this cell sits, e.g. "deepest CFCM34 level"

    @property
    def conv_in_channels(self) -> int:
        return self.in_channels + self.hidden_channels

    @property
    def conv_out_channels(self) -> int:
        return 4 * self.hidden_channels


@dataclass(frozen=True)
class StageFacts:
    """One encoder stage and the ConvLSTM that reads its blocks."""

    blocks: int
    channels: int
    size: int  # side of its feature maps for the display input size
    lstm_input_channels: int
    lstm_hidden_channels: int


@dataclass(frozen=True)
class ArchitectureFacts:
    """What the CFCM figures state about a network, for a square input of ``input_size`` pixels."""

    name: str
    input_channels: int
    input_size: int
    stem_kernel: int
    stem_channels: int
    stages: tuple[StageFacts, ...]
    handoff_channels: tuple[tuple[int, int], ...]  # (in, out) of the upsampling between memory levels
    head_channels: tuple[int, ...]  # channels after the final upsampling and after each head conv
    num_classes: int
    parameters: int


@dataclass(frozen=True)
class BlockFacts:
    """One ResNet building block, with and without a projection shortcut."""

    channels: int
    kernel_size: int
    parameters: int
    projection_in: int
    projection_out: int
    projection_parameters: int


@dataclass(frozen=True)
class FusionFacts:
    """Shapes and a worked example for one skip-fusion module."""

    mode: str
    decoder_shape: tuple[int, ...]
    skip_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    example_decoder: tuple[float, ...]
    example_skip: tuple[float, ...]
    example_output: tuple[float, ...]


@dataclass(frozen=True)
class LevelFacts:
    """One resolution level of an encoder-decoder."""

    channels: int
    size: int


# --- reading the models ------------------------------------------------------------------------
# torch and course_lib.nn are imported inside the functions so that importing the figure package
# stays cheap; the facts are cached because several figures share them.

DISPLAY_SIZE = 256  # the lab's image side: figures state sizes for this input
NOTEBOOK_2_DEPTH = 5  # notebook 2 trains its networks with DEPTH = 5, and its text and figures say so
PROBE_SIZE = 32  # side of the small forward pass that reads shapes (sizes scale linearly)


def _scaled(size: int, probe: int = PROBE_SIZE, display: int = DISPLAY_SIZE) -> int:
    return size * display // probe


def _activation_name(function: object) -> str:
    """``torch.relu`` -> ``"ReLU"``, ``torch.tanh`` -> ``"tanh"``."""
    name = getattr(function, "__name__", type(function).__name__)
    return {"relu": "ReLU", "ReLU": "ReLU"}.get(name, name)


@lru_cache(maxsize=1)
def _cfcm34() -> object:
    """``CFCM34(base=64)``, the network the course trains, built once (its 49M weights take seconds)."""
    from course_lib.nn import CFCM34

    return CFCM34(base=64)


@lru_cache(maxsize=None)
def cfcm34_facts(input_size: int = DISPLAY_SIZE) -> ArchitectureFacts:
    """The facts of ``CFCM34(base=64)``."""
    return architecture_facts(_cfcm34(), input_size, name="CFCM34")


class _ForwardRecord:
    """What the hooks saw during one forward pass of a CFCM: its stages, its ConvLSTM steps, its (transposed)
    convolutions, in the order they ran."""

    def __init__(self) -> None:
        self.stages: list[tuple[int, int, int]] = []  # (blocks, channels, probe size)
        self.cell_inputs: dict[int, tuple[int, int]] = {}  # id(cell) -> (steps, input channels)
        self.cells: list = []
        self.transposed: list[tuple[int, int]] = []
        self.convs_after_last_transpose: list[int] = []
        self.first_conv: list = []

    def on_stage(self, module, inputs: tuple, output: tuple) -> None:
        features, ladder = output
        self.stages.append((len(ladder), features.shape[1], features.shape[-1]))

    def on_cell(self, module, inputs: tuple) -> None:
        steps, _ = self.cell_inputs.get(id(module), (0, 0))
        self.cell_inputs[id(module)] = (steps + 1, inputs[0].shape[1])
        if module not in self.cells:
            self.cells.append(module)

    def on_transpose(self, module, inputs: tuple, output) -> None:
        self.transposed.append((module.in_channels, module.out_channels))
        self.convs_after_last_transpose.clear()

    def on_conv(self, module, inputs: tuple, output) -> None:
        if not self.first_conv:
            self.first_conv.append(module)
        if self.transposed:
            self.convs_after_last_transpose.append(module.out_channels)

    def run(self, model) -> object:
        """``model``'s logits for a zero probe image, with every hook in place for the pass."""
        import torch
        from torch import nn

        from course_lib.nn import ConvLSTMCell, LadderStage

        kinds = ((LadderStage, "forward", self.on_stage), (ConvLSTMCell, "pre", self.on_cell),
                 (nn.ConvTranspose2d, "forward", self.on_transpose), (nn.Conv2d, "forward", self.on_conv))
        handles = []
        for module in model.modules():
            for kind, when, hook in kinds:
                if isinstance(module, kind):
                    register = module.register_forward_pre_hook if when == "pre" else module.register_forward_hook
                    handles.append(register(hook))
                    break
        try:
            with torch.no_grad():
                return model(torch.zeros(1, first_conv_in_channels(model), PROBE_SIZE, PROBE_SIZE))
        finally:
            for handle in handles:
                handle.remove()


def architecture_facts(model: object, input_size: int = DISPLAY_SIZE, name: str | None = None) -> ArchitectureFacts:
    """Read stages, ConvLSTMs, hand-offs and head of a CFCM ``model`` from one small forward pass
    with hooks; sizes are reported for an ``input_size`` square input."""
    record = _ForwardRecord()
    logits = record.run(model.eval())  # type: ignore[attr-defined]
    cells_by_size = sorted(record.cells, key=lambda cell: cell.conv.out_channels)  # shallow (few channels) first
    stage_facts = []
    for (blocks, channels, size), cell in zip(record.stages, cells_by_size):
        steps, in_channels = record.cell_inputs[id(cell)]
        if steps != blocks:
            raise ValueError(f"ConvLSTM with {cell.conv.out_channels // 4} channels ran {steps} steps for a "
                             f"stage of {blocks} blocks: course_lib.nn.CFCM no longer matches this figure")
        stage_facts.append(StageFacts(blocks, channels, _scaled(size, display=input_size), in_channels,
                                      cell.conv.out_channels // 4))
    handoffs = tuple(reversed(record.transposed[:-1]))  # run deep to shallow; listed shallow to deep
    stem = record.first_conv[0]
    return ArchitectureFacts(
        name=name or type(model).__name__, input_channels=stem.in_channels, input_size=input_size,
        stem_kernel=stem.kernel_size[0], stem_channels=stem.out_channels, stages=tuple(stage_facts),
        handoff_channels=handoffs, head_channels=(record.transposed[-1][1], record.convs_after_last_transpose[0]),
        num_classes=logits.shape[1], parameters=_count(model))


def first_conv_in_channels(model: object) -> int:
    """Input channels of ``model``'s first convolution (what its input must have)."""
    from torch import nn

    for module in model.modules():  # type: ignore[attr-defined]
        if isinstance(module, nn.Conv2d):
            return module.in_channels
    raise ValueError(f"{type(model).__name__} has no Conv2d: cannot tell its input channels")


@lru_cache(maxsize=None)
def cell_facts() -> CellFacts:
    """The deepest ConvLSTM of ``CFCM34(base=64)``, as the ConvLSTM figures' example."""
    from course_lib.nn import ConvLSTMCell

    cells = [module for module in _cfcm34().modules() if isinstance(module, ConvLSTMCell)]  # type: ignore
    cell = max(cells, key=lambda module: module.conv.out_channels)
    hidden = cell.conv.out_channels // 4
    return CellFacts(in_channels=cell.conv.in_channels - hidden, hidden_channels=hidden,
                     kernel_size=cell.conv.kernel_size[0], forget_bias=float(cell.forget_bias),
                     activation=_activation_name(cell.activation),
                     example=f"deepest CFCM34 level, C = {hidden}")


@lru_cache(maxsize=None)
def block_facts(channels: int = 64) -> BlockFacts:
    """``ResNetBlock(channels, channels)`` and the 1x1 projection of ``ResNetBlock(channels, 2 * channels)``."""
    from torch import nn

    from course_lib.nn import ResNetBlock

    plain, projecting = ResNetBlock(channels, channels), ResNetBlock(channels, 2 * channels)
    kernel = next(m for m in plain.modules() if isinstance(m, nn.Conv2d)).kernel_size[0]
    projections = [m for m in projecting.modules() if isinstance(m, nn.Conv2d) and m.kernel_size == (1, 1)]
    if len(projections) != 1:
        raise ValueError(f"expected one 1x1 projection conv in ResNetBlock({channels}, {2 * channels}), "
                         f"found {len(projections)}: course_lib.nn.ResNetBlock no longer matches block.png")
    return BlockFacts(channels=channels, kernel_size=kernel, parameters=_count(plain), projection_in=channels,
                      projection_out=2 * channels, projection_parameters=_count(projections[0]))


def _count(module: object) -> int:
    return sum(parameter.numel() for parameter in module.parameters())  # type: ignore[attr-defined]


def _trace_convolutions(model: object, input_size: int) -> tuple[list[tuple[int, int]], int]:
    """(channels, side) of every Conv2d output in call order for one ``input_size`` forward pass,
    and the model's output channels."""
    import torch
    from torch import nn

    trace: list[tuple[int, int]] = []
    hooks = [module.register_forward_hook(lambda m, i, out: trace.append((out.shape[1], out.shape[-1])))
             for module in model.modules() if type(module) is nn.Conv2d]  # type: ignore[attr-defined]
    with torch.no_grad():
        output = model(torch.zeros(1, first_conv_in_channels(model), input_size, input_size))  # type: ignore
    for hook in hooks:
        hook.remove()
    return trace, output.shape[1]


@lru_cache(maxsize=None)
def encoder_decoder_levels(input_size: int = DISPLAY_SIZE) -> tuple[tuple[LevelFacts, ...], int, int]:
    """The encoder levels (channels and side of the last feature map at each resolution, down to
    the bottleneck) of notebook 2's ``EncoderDecoder(fusion="none", depth=5)`` (its ``DEPTH``: five halvings, a
    bottleneck at 1/32), the input side and the number of classes."""
    from course_lib.nn import EncoderDecoder

    model = EncoderDecoder(fusion="none", depth=NOTEBOOK_2_DEPTH).eval()
    trace, classes = _trace_convolutions(model, input_size)
    smallest = min(side for _, side in trace)
    levels: dict[int, int] = {}
    for channels, side in trace:
        levels[side] = channels
        if side == smallest:
            break
    ordered = tuple(LevelFacts(channels, side) for side, channels in sorted(levels.items(), reverse=True))
    return ordered, input_size, classes


@lru_cache(maxsize=None)
def fusion_facts(mode: str, input_size: int = DISPLAY_SIZE) -> FusionFacts:
    """Shapes at the deepest fusion of ``EncoderDecoder(fusion=mode)`` for an ``input_size`` image,
    and the fusion applied to two 3-channel 1x1 tensors [1, 2, 3] and [4, 5, 6]."""
    import torch

    from course_lib.nn import ConcatFusion, EncoderDecoder, SumFusion

    kinds = {"concat": ConcatFusion, "sum": SumFusion}
    if mode not in kinds:
        raise ValueError(f"fusion mode must be one of {sorted(kinds)}, got {mode!r}")
    model = EncoderDecoder(fusion=mode).eval()
    fusions = [module for module in model.modules() if isinstance(module, kinds[mode])]
    if not fusions:
        raise ValueError(f"EncoderDecoder(fusion={mode!r}) holds no {kinds[mode].__name__}")
    calls: list[tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]] = []

    def record(module: object, inputs: tuple, output: torch.Tensor) -> None:
        calls.append((tuple(inputs[0].shape), tuple(inputs[1].shape), tuple(output.shape)))

    hooks = [module.register_forward_hook(record) for module in fusions]
    _trace_convolutions(model, input_size)
    for hook in hooks:
        hook.remove()
    decoder_shape, skip_shape, output_shape = calls[0]
    first = torch.tensor([1.0, 2.0, 3.0]).reshape(1, 3, 1, 1)
    second = torch.tensor([4.0, 5.0, 6.0]).reshape(1, 3, 1, 1)
    with torch.no_grad():
        example = fusions[0](first, second)
    return FusionFacts(mode=mode, decoder_shape=decoder_shape, skip_shape=skip_shape, output_shape=output_shape,
                       example_decoder=tuple(first.flatten().tolist()), example_skip=tuple(second.flatten().tolist()),
                       example_output=tuple(example.flatten().tolist()))
