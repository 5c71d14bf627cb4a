"""Training: :class:`Trainer`, :func:`fit`, callbacks, metrics, history, checkpoints, plots.

Example (the Python API in a few lines)::

    import striate
    from striate.data import DataLoader, load_dataset
    from striate.models import create
    from striate.train import Trainer

    train, test = load_dataset("embedded"), load_dataset("embedded", train=False)
    mean, std = train.mean_std()
    model = create("small_cnn", num_classes=10, in_channels=1)
    trainer = Trainer(model, striate.optim.Adam(model.parameters(), lr=1e-3),
                      class_names=train.classes, out_dir="runs/demo")
    trainer.fit(DataLoader(train, 128, shuffle=True, mean=mean, std=std),
                DataLoader(test, 256, mean=mean, std=std), epochs=3)
"""

from striate.train.callbacks import Callback, EarlyStopping, LRLogger, ModelCheckpoint
from striate.train.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from striate.train.history import History
from striate.train.inference import evaluate_checkpoint, load_model, predict_files
from striate.train.metrics import (
    MetricAccumulator,
    accuracy,
    confusion_matrix,
    per_class_accuracy,
    topk_correct,
)
from striate.train.run import RunConfig, RunResult, default_data_source, fit
from striate.train.trainer import Trainer, TrainingError, default_loss

__all__ = [
    "Callback", "CheckpointError", "EarlyStopping", "History", "LRLogger", "MetricAccumulator",
    "ModelCheckpoint", "RunConfig", "RunResult", "Trainer", "TrainingError", "accuracy",
    "confusion_matrix", "default_data_source", "default_loss", "evaluate_checkpoint", "fit",
    "load_checkpoint", "load_model", "per_class_accuracy", "predict_files", "save_checkpoint",
    "topk_correct",
]
