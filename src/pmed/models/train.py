"""Training: a patient-level stratified split, then L1 logistic regression or LightGBM, each with
cross-validated hyperparameters and fixed seeds.

- Logistic: median imputation with missing-value indicator columns, standardisation, and
  L1-penalised logistic regression (Tibshirani 1996) with the penalty chosen by stratified
  5-fold cross-validated log-loss (`LogisticRegressionCV`, liblinear).
- LightGBM (Ke et al., NeurIPS 2017): gradient-boosted trees that take missing values natively;
  a small grid over tree size (4, 8, 16 leaves, stopping once a larger tree does worse), each
  with early stopping on 3-fold cross-validated log-loss (`lightgbm.cv`, 63 histogram bins,
  learning rate 0.05, or 0.1 above 50,000 patients); the best is refit on all training
  patients with its round count, and its log-odds are recalibrated (intercept and slope, Van
  Calster 2016) on the out-of-fold predictions of that configuration, since early-stopped
  boosting tends to shrink extreme risks.

The split is by patient (one row per patient, ids checked unique), stratified on the outcome,
as in OHDSI PatientLevelPrediction's default "stratified person split" (Reps et al. 2018).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from pmed.errors import InputError

__all__ = ["ALGORITHMS", "Split", "TrainedModel", "TrainingData", "split", "train", "validate_data"]

Algorithm = Literal["logistic", "lightgbm"]
ALGORITHMS: tuple[str, ...] = ("logistic", "lightgbm")
MIN_EVENTS = 10


@dataclass
class TrainingData:
    """What a learner needs, independent of where it came from (a store cohort, a CSV, sklearn).

    `groups` maps an audit attribute (sex, race, ethnicity, age_band) to one label per patient;
    `baselines` maps a published calculator's name to its predicted risk per patient (NaN where
    it does not apply); `cohort` is the definition as JSON, `feature_dictionary` documents columns.
    """

    name: str
    x: np.ndarray
    y: np.ndarray
    feature_names: list[str]
    ids: list[str]
    groups: dict[str, np.ndarray] = field(default_factory=dict)
    baselines: dict[str, np.ndarray] = field(default_factory=dict)
    feature_dictionary: list[dict[str, Any]] = field(default_factory=list)
    cohort: dict[str, Any] = field(default_factory=dict)
    fingerprint: str = ""
    attrition: list[dict[str, Any]] = field(default_factory=list)
    title: str = ""
    seed: int = 42
    test_fraction: float = 0.25
    audit: dict[str, Any] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)  # feature name -> words for a clinician
    units: dict[str, str] = field(default_factory=dict)


@dataclass
class Split:
    train: np.ndarray  # row indices
    test: np.ndarray


def validate_data(data: TrainingData) -> None:
    """Refuse data no model can be honestly trained and tested on (before any fitting)."""
    n = len(data.y)
    if n == 0:
        raise InputError("the cohort is empty", field="target")
    if data.x.shape != (n, len(data.feature_names)):
        raise InputError("feature matrix and feature names disagree", field="features")
    if not data.feature_names:
        raise InputError("the definition requests no features", field="features")
    if len(set(data.ids)) != n:
        raise InputError("patient ids repeat: one row per patient is required", field="patient_id")
    classes = set(np.unique(data.y).tolist())
    if not classes <= {0, 1}:
        raise InputError(f"the outcome must be 0/1, found {sorted(classes)}", field="outcome")
    events = int(data.y.sum())
    if events == 0:
        raise InputError("the outcome was never observed in the cohort", field="outcome")
    if len(classes) == 1:
        raise InputError("every patient has the outcome: a single class", field="outcome")
    minority = min(events, n - events)
    if minority < MIN_EVENTS:
        raise InputError(
            f"only {minority} patients in the smaller outcome class; at least {MIN_EVENTS} are "
            "needed to train and test",
            field="outcome",
        )


def split(data: TrainingData) -> Split:
    """Patient-level split stratified on the outcome, reproducible from `data.seed`."""
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(data.y))
    tr, te = train_test_split(
        idx, test_size=data.test_fraction, stratify=data.y, random_state=data.seed
    )
    return Split(np.sort(tr), np.sort(te))


class TrainedModel:
    """A fitted learner: `predict_proba(x)` returns the risk of the outcome per row."""

    def __init__(
        self, algorithm: str, estimator: Any, feature_names: list[str], params: dict[str, Any]
    ) -> None:
        self.algorithm = algorithm
        self.estimator = estimator
        self.feature_names = feature_names
        self.params = params
        self.fit_seconds = 0.0

    def __getstate__(self) -> dict[str, Any]:
        # the wall-clock fit time is not part of the model: equal fits pickle to equal bytes
        return {k: v for k, v in self.__dict__.items() if k != "fit_seconds"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.fit_seconds = 0.0

    def recalibration(self) -> tuple[float, float]:
        """(a, b) applied to LightGBM's raw log-odds: a + b·raw; (0, 1) when none."""
        r = self.params.get("recalibration") or {}
        return float(r.get("intercept", 0.0)), float(r.get("slope", 1.0))

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if self.algorithm == "lightgbm":
            a, b = self.recalibration()
            raw = np.asarray(self.estimator.predict(x, raw_score=True), dtype=np.float64)
            return np.asarray(1.0 / (1.0 + np.exp(-(a + b * raw))))
        return np.asarray(self.estimator.predict_proba(x)[:, 1], dtype=np.float64)

    def predict_logit(self, x: np.ndarray) -> np.ndarray:
        p = np.clip(self.predict_proba(x), 1e-12, 1 - 1e-12)
        return np.log(p / (1 - p))


def _train_logistic(x: np.ndarray, y: np.ndarray, seed: int) -> TrainedModel:
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegressionCV
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)
    pipe = Pipeline(
        [
            (
                "impute",
                SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
            ),
            ("scale", StandardScaler()),
            (
                "model",
                LogisticRegressionCV(
                    Cs=10,
                    l1_ratios=(1.0,),
                    solver="liblinear",
                    cv=folds,
                    scoring="neg_log_loss",
                    max_iter=1000,
                    random_state=seed,
                    use_legacy_attributes=False,
                ),
            ),
        ]
    )
    pipe.fit(x, y)
    c = float(np.ravel(pipe.named_steps["model"].C_)[0])
    nonzero = int(np.sum(pipe.named_steps["model"].coef_ != 0))
    return TrainedModel(
        "logistic", pipe, [], {"C": c, "penalty": "l1", "nonzero_coefficients": nonzero}
    )


# Shallow trees first: risk is mostly additive with few interactions, and small trees with more
# rounds track it with less shrinkage of the extremes (calibration slope nearer 1).
_GRID = (
    {"num_leaves": 4, "min_child_samples": 50},
    {"num_leaves": 8, "min_child_samples": 50},
    {"num_leaves": 16, "min_child_samples": 100},
)


def _threads() -> int:
    """OpenMP threads for LightGBM: half the cores. On a small shared machine more threads spin
    against each other (8× slower measured on 2 busy cores)."""
    return max(1, (os.cpu_count() or 2) // 2)


LARGE = 50_000  # above this many training patients the learning rate doubles (fewer rounds)


def _train_lightgbm(x: np.ndarray, y: np.ndarray, seed: int) -> TrainedModel:
    import lightgbm as lgb

    base = {
        "objective": "binary",
        "metric": "binary_logloss",
        "learning_rate": 0.1 if len(y) > LARGE else 0.05,
        "max_bin": 63,
        "feature_fraction": 0.9,
        "bagging_fraction": 0.8,
        "bagging_freq": 1,
        "lambda_l2": 1.0,
        "seed": seed,
        "deterministic": True,
        "force_row_wise": True,
        "verbosity": -1,
        "num_threads": _threads(),
    }
    from sklearn.model_selection import StratifiedKFold

    # binned once, shared by every grid point and fold
    dataset = lgb.Dataset(x, label=y, params={"max_bin": 63, "verbosity": -1}, free_raw_data=False)
    folds = list(StratifiedKFold(n_splits=3, shuffle=True, random_state=seed).split(x, y))
    best: tuple[float, dict[str, Any], int, Any] | None = None
    for grid in _GRID:  # ordered by tree size: stop once a larger tree cross-validates worse
        params = {**base, **grid}
        result = lgb.cv(
            params,
            dataset,
            num_boost_round=3000,
            folds=folds,
            return_cvbooster=True,
            callbacks=[lgb.early_stopping(50, verbose=False)],
        )
        losses = list(result["valid binary_logloss-mean"])  # type: ignore[arg-type]
        score, rounds = float(min(losses)), int(np.argmin(losses)) + 1
        if best is not None and score >= best[0]:
            break
        best = (score, params, rounds, result["cvbooster"])
    assert best is not None
    score, params, rounds, cvbooster = best
    # out-of-fold risks of the chosen configuration → logistic recalibration (Van Calster 2016)
    oof = np.empty(len(y))
    for booster_k, (_, held_out) in zip(cvbooster.boosters, folds, strict=True):
        oof[held_out] = booster_k.predict(x[held_out], num_iteration=rounds, raw_score=True)
    recal_a, recal_b = _recalibration(oof, y)
    booster = lgb.train(params, dataset, num_boost_round=rounds)
    chosen = {k: params[k] for k in ("num_leaves", "min_child_samples", "learning_rate")}
    return TrainedModel(
        "lightgbm",
        booster,
        [],
        {
            **chosen,
            "num_boost_round": rounds,
            "cv_logloss": score,
            "recalibration": {"intercept": recal_a, "slope": recal_b},
        },
    )


def _recalibration(raw: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Intercept and slope of y ~ a + b·raw log-odds (maximum likelihood), bounded to [0.5, 2]
    so a degenerate fit can never flip or flatten the model."""
    from pmed.models.metrics import logistic_fit

    a, b = logistic_fit(raw[:, None], y.astype(np.float64))
    if not np.isfinite(b) or not 0.5 <= b <= 2.0:
        return 0.0, 1.0
    return float(a), float(b)


def train(data: TrainingData, algorithm: str, rows: np.ndarray | None = None) -> TrainedModel:
    """Fit `algorithm` on `rows` of `data` (all rows when None); records the fit time."""
    if algorithm not in ALGORITHMS:
        raise InputError(f"unknown algorithm {algorithm!r}; choose {' or '.join(ALGORITHMS)}")
    rows = np.arange(len(data.y)) if rows is None else rows
    x, y = data.x[rows], data.y[rows]
    if len(np.unique(y)) < 2:
        raise InputError("the training split holds a single outcome class", field="outcome")
    start = time.perf_counter()
    model = (_train_lightgbm if algorithm == "lightgbm" else _train_logistic)(x, y, data.seed)
    model.feature_names = list(data.feature_names)
    model.fit_seconds = round(time.perf_counter() - start, 3)
    return model
