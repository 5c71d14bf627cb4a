"""Neural-network building blocks with PyTorch's names: ``Module``, ``Parameter``, layers,
containers, losses, ``init`` and ``utils`` (grad clipping)."""

from striate.nn import init, utils
from striate.nn.activation import (
    ELU,
    GELU,
    Hardsigmoid,
    Hardswish,
    LeakyReLU,
    LogSoftmax,
    ReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    Softmax,
    Tanh,
)
from striate.nn.attention import MultiheadAttention
from striate.nn.container import ModuleDict, ModuleList, Sequential
from striate.nn.conv import Conv2d, ConvTranspose2d
from striate.nn.dropout import Dropout
from striate.nn.linear import Flatten, Identity, Linear, Unflatten
from striate.nn.loss import BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss, NLLLoss
from striate.nn.module import Module, RemovableHandle
from striate.nn.normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from striate.nn.parameter import Parameter
from striate.nn.pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d
from striate.nn.stochastic_depth import StochasticDepth

__all__ = [
    "ELU",
    "GELU",
    "AdaptiveAvgPool2d",
    "AvgPool2d",
    "BCEWithLogitsLoss",
    "BatchNorm1d",
    "BatchNorm2d",
    "Conv2d",
    "ConvTranspose2d",
    "CrossEntropyLoss",
    "Dropout",
    "Flatten",
    "Hardsigmoid",
    "Hardswish",
    "Identity",
    "L1Loss",
    "LayerNorm",
    "LeakyReLU",
    "Linear",
    "LogSoftmax",
    "MSELoss",
    "MaxPool2d",
    "Module",
    "ModuleDict",
    "ModuleList",
    "MultiheadAttention",
    "NLLLoss",
    "Parameter",
    "ReLU",
    "ReLU6",
    "RemovableHandle",
    "Sequential",
    "SiLU",
    "Sigmoid",
    "Softmax",
    "StochasticDepth",
    "Tanh",
    "Unflatten",
    "init",
    "utils",
]
