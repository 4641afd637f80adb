"""Honest validation against a known truth: `pmed synth` draws each patient's outcome from a known
risk function (`pmed.record.synth.outcomes.true_risk`, with non-linear terms and interactions),
writes FHIR, and the whole path runs as a user would — ingest, cohort extraction from the store
(`examples/ascvd_10y.yaml`), LightGBM training, evaluation, audit.

- On 20,000 synthetic patients the model's test AUROC is within 0.02 of the oracle's (the
  generating function scored on the same test patients), with calibration slope in 0.9–1.1.
- The audit flags nothing on honest outcomes; when 60% of Black patients' events go unrecorded,
  it flags race/ethnicity = black, and nothing else.

Each cohort is generated and ingested once per module (about a minute or two each).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from sklearn.metrics import roc_auc_score

from pmed.config import Settings
from pmed.models import develop
from pmed.models.metrics import calibration
from pmed.population import extract_cohort, load_definition, to_training_data
from pmed.record.ingest import ingest_paths
from pmed.record.store import Store

synth = pytest.importorskip("pmed.record.synth.cohort")
writer = pytest.importorskip("pmed.record.synth.writer")

pytestmark = pytest.mark.slow

N = 20_000
SEED = 2026
EXAMPLE = Path(__file__).parents[2] / "examples" / "ascvd_10y.yaml"


def _build(tmp: Path, under_record: Any = None) -> dict[str, Any]:
    cohort = synth.generate_cohort(N, seed=SEED, genetics=False, under_record=under_record)
    writer.write_cohort(cohort, tmp / "synth", fmt="ndjson", vcf="none")
    settings = Settings(home=tmp / "home")
    store = Store.open(settings)
    summary = ingest_paths(store, [tmp / "synth" / "fhir"])
    assert not summary.failed
    truth = cohort.truth().select("id", "risk_ascvd", "event_ascvd", "recorded_ascvd")
    features = extract_cohort(store, load_definition(EXAMPLE))
    reg = develop(to_training_data(features), "lightgbm", settings.home)
    test = reg.test_predictions()
    joined = pl.DataFrame({"id": test["patient_id"], "y": test["y"], "p": test["p"]}).join(
        truth, on="id", how="left"
    )
    store.close()
    return {"reg": reg, "test": joined, "features": features}


@pytest.fixture(scope="module")
def honest(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return _build(tmp_path_factory.mktemp("honest"))


@pytest.fixture(scope="module")
def biased(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return _build(tmp_path_factory.mktemp("biased"), synth.UnderRecord("black", 0.6))


def test_labels_extracted_from_the_store_are_the_recorded_outcomes(honest: dict) -> None:
    t = honest["test"]
    assert t["risk_ascvd"].null_count() == 0  # every test patient is a synthetic patient
    assert (t["y"] == t["recorded_ascvd"].cast(pl.Int64)).all()


def test_lightgbm_comes_within_002_auroc_of_the_generating_function(honest: dict) -> None:
    t = honest["test"]
    y = t["y"].to_numpy()
    oracle = roc_auc_score(y, t["risk_ascvd"].to_numpy())
    model = roc_auc_score(y, t["p"].to_numpy())
    assert honest["reg"].meta["metrics"]["auroc"] == pytest.approx(model, abs=1e-12)
    assert model >= oracle - 0.02, (model, oracle)
    assert honest["reg"].meta["split"]["test_patients"] > 3000


def test_lightgbm_calibration_slope_is_between_09_and_11(honest: dict) -> None:
    t = honest["test"]
    slope = calibration(t["y"].to_numpy(), t["p"].to_numpy())["calibration_slope"]
    assert honest["reg"].meta["metrics"]["calibration_slope"] == pytest.approx(slope, abs=1e-9)
    assert 0.9 <= slope <= 1.1


def test_model_beats_or_matches_pce_on_the_same_patients(honest: dict) -> None:
    pce = honest["reg"].meta["baselines"]["pce"]
    assert pce["n"] > 1000
    assert pce["model_auroc_same_patients"] >= pce["auroc"] - 0.01


def test_audit_flags_nothing_on_honest_outcomes(honest: dict) -> None:
    assert honest["reg"].meta["audit"]["flags"] == []


def test_audit_flags_the_group_whose_outcomes_were_under_recorded_and_no_other(
    biased: dict,
) -> None:
    flags = biased["reg"].meta["audit"]["flags"]
    assert {(f["attribute"], f["group"]) for f in flags} == {("race_ethnicity", "black")}
    black = next(
        g
        for g in biased["reg"].meta["audit"]["attributes"]["race_ethnicity"]["groups"]
        if g["group"] == "black"
    )
    assert "calibration" in black["flags"] and black["oe_ratio"] < 0.7
    # the truth agrees: recorded events among Black test patients fall short of the true ones
    t = biased["test"]
    assert np.asarray(t["recorded_ascvd"]).sum() < np.asarray(t["event_ascvd"]).sum()
