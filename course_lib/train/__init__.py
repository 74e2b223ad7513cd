"""Training and evaluation for the course's segmentation models.

``fit(model, train, val, config="fast")`` trains on prepared arrays with a progress bar, atomic checkpoints and
exact resume; ``evaluate(model, data)`` gives the Dice and boundary F-score of every image; ``train_run("cfcm34",
"cpu")`` is the whole road from a recipe to a trained and tested model, the one the command line, notebook 4 and the
benchmarks take.
``train_step`` and ``validate`` are the two loops inside ``fit``. Recipes are named:
``get_config("lab" | "fast" | "cpu" | "reference" | "quick", **overrides)``.
"""

from course_lib.train.checkpoint import CheckpointError, CorruptCheckpointWarning, load_checkpoint, load_model
from course_lib.train.configs import CONFIGS, TrainConfig, default_config, get_config
from course_lib.train.device import choose_device
from course_lib.train.health import TrainingCollapsedWarning, TrainingDivergedWarning
from course_lib.train.loop import evaluate, fit
from course_lib.train.results import Evaluation, History
from course_lib.train.run import RunResult, train_run
from course_lib.train.steps import train_step, validate

__all__ = [
    "CONFIGS", "CheckpointError", "CorruptCheckpointWarning", "Evaluation", "History", "RunResult", "TrainConfig",
    "TrainingCollapsedWarning", "TrainingDivergedWarning", "choose_device", "default_config", "evaluate", "fit",
    "get_config", "load_checkpoint", "load_model", "train_run", "train_step", "validate",
]
