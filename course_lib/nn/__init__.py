"""The course's networks: ResNet blocks, skip fusions, the ConvLSTM cell and CFCM, the registry that names them, and
the arithmetic of sizes and receptive fields."""

from course_lib.nn.blocks import LadderStage, ResNetBlock, conv_same
from course_lib.nn.cfcm import (CFCM, CFCM18, CFCM34, Ladder34, ResidualLadder34, ResNetEncoder,
                                decode_coarse_to_fine, decode_hidden)
from course_lib.nn.convlstm import ConvLSTMCell, Gates, unroll
from course_lib.nn.geometry import conv_output_size, receptive_fields
from course_lib.nn.fusion import ConcatFusion, EncoderDecoder, FunctionFusion, NoFusion, SumFusion, make_fusion
from course_lib.nn.registry import MODELS, ModelSpec, build_model, spec_of

__all__ = ["conv_same", "ResNetBlock", "LadderStage", "NoFusion", "ConcatFusion", "SumFusion", "FunctionFusion",
           "make_fusion", "EncoderDecoder", "ConvLSTMCell", "Gates", "unroll", "ResNetEncoder", "decode_coarse_to_fine",
           "decode_hidden", "CFCM",
           "CFCM34", "CFCM18", "Ladder34", "ResidualLadder34", "MODELS", "ModelSpec", "build_model", "spec_of",
           "conv_output_size", "receptive_fields"]
