"""The model zoo: architectures by name (:func:`create`, :func:`list_models`).

Modules defining models register them with :func:`register_model` when imported; this
package imports them all.
"""

from striate.models.registry import (  # noqa: F401
    ModelSpec,
    create,
    get_spec,
    list_models,
    model_config,
    register_model,
)
from striate.models import lenet, small_cnn  # noqa: F401,E402
from striate.models.lenet import LeNet5  # noqa: E402
from striate.models.small_cnn import SmallCNN, WorkloadCNN  # noqa: E402

__all__ = ["ModelSpec", "create", "get_spec", "list_models", "model_config", "register_model",
           "LeNet5", "SmallCNN", "WorkloadCNN"]
