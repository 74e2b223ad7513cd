"""Training and evaluation for the course's segmentation models.

``fit(model, train, val, config="fast")`` trains on prepared arrays with a progress bar, live curves, atomic
checkpoints and exact resume; ``evaluate(model, data)`` gives the Dice of every image. Recipes are named:
``get_config("lab" | "fast" | "cpu" | "quick", **overrides)``.
"""

from course_lib.train.checkpoint import CheckpointError, CorruptCheckpointWarning, load_checkpoint
from course_lib.train.configs import CONFIGS, TrainConfig, get_config
from course_lib.train.device import choose_device
from course_lib.train.loop import TrainingCollapsedWarning, evaluate, fit, load_model
from course_lib.train.results import Evaluation, History

__all__ = [
    "CONFIGS", "CheckpointError", "CorruptCheckpointWarning", "Evaluation", "History", "TrainConfig",
    "TrainingCollapsedWarning", "choose_device", "evaluate", "fit", "get_config", "load_checkpoint", "load_model",
]
