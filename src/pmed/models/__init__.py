"""Learned risk models: train on a cohort frame, evaluate, audit for bias, explain, register, and
run a registered model as an engine that returns `Finding`s.

Frames come from `pmed.population` (cohort + feature extraction from the store); this package
never touches the store itself.
"""

from pmed.models.engine import predict
from pmed.models.pipeline import develop, evaluate_predictions, recompute_audit
from pmed.models.registry import RegisteredModel, list_models, load_model
from pmed.models.train import ALGORITHMS, TrainedModel, TrainingData, train, validate_data

__all__ = [
    "ALGORITHMS",
    "RegisteredModel",
    "TrainedModel",
    "TrainingData",
    "develop",
    "evaluate_predictions",
    "list_models",
    "load_model",
    "predict",
    "recompute_audit",
    "train",
    "validate_data",
]
