"""Optimizers (SGD, Adam, AdamW, RMSprop) and learning-rate schedulers, PyTorch names."""

from striate.optim import lr_scheduler
from striate.optim.adam import Adam, AdamW
from striate.optim.optimizer import Optimizer
from striate.optim.rmsprop import RMSprop
from striate.optim.sgd import SGD

__all__ = ["SGD", "Adam", "AdamW", "Optimizer", "RMSprop", "lr_scheduler"]
