"""The model zoo: architectures by name (:func:`create`, :func:`list_models`).

Modules defining models register them with :func:`register_model` when imported; this
package imports them all.
"""

from striate.models import lenet, small_cnn  # noqa: F401
from striate.models.lenet import LeNet5
from striate.models.registry import (
    ModelSpec,
    create,
    get_spec,
    list_models,
    model_config,
    register_model,
)
from striate.models.small_cnn import SmallCNN, WorkloadCNN

__all__ = [
    "LeNet5",
    "ModelSpec",
    "SmallCNN",
    "WorkloadCNN",
    "create",
    "get_spec",
    "list_models",
    "model_config",
    "register_model",
]
