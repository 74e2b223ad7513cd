"""The course's networks: ResNet blocks, skip fusions, the ConvLSTM cell and CFCM."""

from course_lib.nn.blocks import LadderStage, ResNetBlock, conv_same
from course_lib.nn.cfcm import (CFCM, CFCM18, CFCM34, MODELS, Ladder34, ResidualLadder34, ResNetEncoder,
                                build_model)
from course_lib.nn.convlstm import ConvLSTMCell, unroll
from course_lib.nn.fusion import ConcatFusion, EncoderDecoder, NoFusion, SumFusion, make_fusion

__all__ = ["conv_same", "ResNetBlock", "LadderStage", "NoFusion", "ConcatFusion", "SumFusion", "make_fusion",
           "EncoderDecoder", "ConvLSTMCell", "unroll", "ResNetEncoder", "CFCM", "CFCM34", "CFCM18", "Ladder34",
           "ResidualLadder34", "MODELS", "build_model"]
