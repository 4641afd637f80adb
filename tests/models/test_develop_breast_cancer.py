"""A real published dataset through train → evaluate → audit → explain → register → predict:
the Wisconsin Diagnostic Breast Cancer data (Street, Wolberg & Mangasarian 1993; UCI), as shipped
in scikit-learn (`sklearn.datasets.load_breast_cancer`, 569 patients, 30 features)."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.metrics import roc_auc_score

from pmed.errors import InputError, NotFoundError, StoreError
from pmed.findings import FindingKind
from pmed.models import TrainingData, develop, list_models, load_model, predict, recompute_audit


def _data() -> TrainingData:
    d = load_breast_cancer()
    y = (d.target == 0).astype(np.int64)  # 1 = malignant
    rng = np.random.default_rng(0)
    site = np.where(rng.random(len(y)) < 0.5, "site-a", "site-b")  # a label unrelated to y
    names = [n.replace(" ", "_") for n in d.feature_names]
    return TrainingData(
        name="wdbc",
        title="malignancy (WDBC)",
        x=d.data,
        y=y,
        feature_names=names,
        ids=[f"p{i}" for i in range(len(y))],
        groups={"site": site},
        audit={"min_group_size": 30},
        labels={"worst_radius": "Worst radius"},
    )


@pytest.fixture(scope="module")
def registered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    home = tmp_path_factory.mktemp("home")
    data = _data()
    return {
        "home": home,
        "data": data,
        "logistic": develop(data, "logistic", home),
        "lightgbm": develop(data, "lightgbm", home, mitigate=True),
    }


@pytest.mark.parametrize("algorithm", ["logistic", "lightgbm"])
def test_both_learners_discriminate_malignancy_on_held_out_patients(
    registered: dict, algorithm: str
) -> None:
    reg = registered[algorithm]
    m = reg.meta["metrics"]
    assert m["auroc"] > 0.95  # published results on WDBC are ~0.99
    lo, hi = m["auroc_ci"]
    assert lo < m["auroc"] <= hi
    assert m["n"] == 143 and m["events"] == 53  # 25% stratified split of 569 (212 malignant)
    cols = reg.test_predictions()
    assert roc_auc_score(cols["y"], cols["p"]) == pytest.approx(m["auroc"], abs=1e-12)


def test_registry_holds_artefact_metadata_figures_and_card(registered: dict) -> None:
    reg = registered["lightgbm"]
    for name in (
        "model.pkl",
        "model.json",
        "test_predictions.csv",
        "calibration.png",
        "decision_curve.png",
        "evaluation.html",
        "card.md",
        "card.html",
        "card.json",
    ):
        assert (reg.path / name).is_file(), name
    meta = json.loads((reg.path / "model.json").read_text())
    assert meta["content_hash"].startswith(reg.id.rsplit("-", 1)[1])
    assert meta["libraries"]["lightgbm"] and meta["libraries"]["scikit-learn"]
    assert len(meta["training_data_fingerprint"]) == 64
    assert (reg.path / "calibration.png").read_bytes()[:4] == b"\x89PNG"
    assert "data:image/png;base64" in (reg.path / "evaluation.html").read_text()
    card = json.loads((reg.path / "card.json").read_text())
    assert card["metrics"]["auroc"] == meta["metrics"]["auroc"]
    assert "site" in card["fairness"]["by_group"]
    assert "## Limitations" in (reg.path / "card.md").read_text()


def test_registry_lookup_by_id_prefix_and_name(registered: dict) -> None:
    home = registered["home"]
    reg = registered["logistic"]
    assert load_model(home, reg.id).id == reg.id
    assert load_model(home, "wdbc-logistic").id == reg.id
    assert {m.id for m in list_models(home)} >= {reg.id, registered["lightgbm"].id}
    with pytest.raises(NotFoundError):
        load_model(home, "nothing-here")
    with pytest.raises(InputError):
        load_model(home, "../etc")


def test_same_data_and_seed_give_the_same_model_id(registered: dict, tmp_path: Path) -> None:
    again = develop(registered["data"], "logistic", tmp_path)
    assert again.id == registered["logistic"].id


def test_tampered_artefact_is_refused(registered: dict, tmp_path: Path) -> None:
    reg = develop(registered["data"], "logistic", tmp_path)
    model = pickle.loads((reg.path / "model.pkl").read_bytes())
    model.params["C"] = 123.0
    (reg.path / "model.pkl").write_bytes(pickle.dumps(model))
    with pytest.raises(StoreError, match="does not match its recorded hash"):
        _ = load_model(tmp_path, reg.id).model


def test_audit_mitigation_and_shap_are_recorded(registered: dict) -> None:
    reg = registered["lightgbm"]
    assert reg.meta["audit"]["flags"] == []  # 'site' is random: nothing to find
    mit = reg.meta["mitigation"]["site"]
    assert set(mit) >= {"before", "after", "method"}
    importance = reg.meta["shap"]["global_importance"]
    assert (
        len(importance) == 30 and importance[0]["mean_abs_shap"] >= importance[-1]["mean_abs_shap"]
    )
    strict = recompute_audit(reg, calibration_bound=1e-6, min_group_size=1)
    assert strict["bounds"]["calibration_oe"] == 1e-6


@pytest.mark.parametrize("algorithm", ["logistic", "lightgbm"])
def test_registered_model_runs_as_an_engine_with_explanation_and_provenance(
    registered: dict, algorithm: str
) -> None:
    reg = load_model(registered["home"], registered[algorithm].id)
    data = registered["data"]
    malignant = int(np.flatnonzero(data.y == 1)[0])
    finding = predict(reg, data.x[malignant].tolist(), subject="Patient/p0", inputs=["Patient/p0"])
    assert finding.kind == FindingKind.PREDICTION
    assert finding.unit == "%" and 50 < finding.value <= 100
    assert finding.code.code == reg.id
    assert finding.provenance.knowledge["model"].endswith(reg.meta["content_hash"])
    contributions = finding.explanation.contributions
    assert 1 <= len(contributions) <= 5
    assert all(c.source and ("raised" in c.source or "lowered" in c.source) for c in contributions)
    # SHAP is additive: base + contributions of all features = the model's log-odds
    from pmed.models.explain import shap_values

    values, base = shap_values(reg.model, data.x[[malignant]], background=data.x)
    logit = reg.model.predict_logit(data.x[[malignant]])[0]
    assert base + values.sum() == pytest.approx(logit, abs=1e-6)


def test_engine_refuses_features_the_model_does_not_use(registered: dict) -> None:
    with pytest.raises(InputError, match="not used by model"):
        predict(registered["logistic"], {"shoe_size": 44.0})
    with pytest.raises(InputError, match="takes 30 features"):
        predict(registered["logistic"], [1.0, 2.0])


def test_single_class_or_too_few_events_are_refused_before_training(tmp_path: Path) -> None:
    data = _data()
    data.y = np.zeros_like(data.y)
    with pytest.raises(InputError, match="never observed"):
        develop(data, "logistic", tmp_path)
    data.y = np.ones_like(data.y)
    with pytest.raises(InputError, match="single class"):
        develop(data, "logistic", tmp_path)
    data.y = np.zeros_like(data.y)
    data.y[:5] = 1
    with pytest.raises(InputError, match="at least 10"):
        develop(data, "lightgbm", tmp_path)
    assert not (tmp_path / "models").exists()
