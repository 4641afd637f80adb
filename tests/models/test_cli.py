"""`pmed models …` end to end on a small synthetic store: train → list → evaluate → audit →
card → predict, and bad input answered with exit code 2 and no traceback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from pmed.cli import cli
from pmed.config import Settings
from pmed.record.ingest import ingest_paths
from pmed.record.store import Store

synth = pytest.importorskip("pmed.record.synth.cohort")
writer = pytest.importorskip("pmed.record.synth.writer")

EXAMPLE = Path(__file__).parents[2] / "examples" / "ascvd_10y.yaml"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("cli")
    cohort = synth.generate_cohort(1500, seed=5, genetics=False)
    writer.write_cohort(cohort, tmp / "synth", fmt="ndjson", vcf="none")
    store = Store.open(Settings(home=tmp / "home"))
    ingest_paths(store, [tmp / "synth" / "fhir"])
    store.close()
    return tmp / "home"


def _run(home: Path, *args: str) -> Any:
    runner = CliRunner()
    return runner.invoke(cli, list(args), env={"PMED_HOME": str(home)}, catch_exceptions=False)


@pytest.fixture(scope="module")
def trained(home: Path) -> dict[str, Any]:
    result = _run(home, "models", "train", str(EXAMPLE), "--algorithm", "logistic", "--json")
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.output))


def test_train_json_reports_the_headline_metrics_and_groups(trained: dict) -> None:
    for key in ("model_id", "auroc", "auroc_ci", "calibration_slope", "brier", "groups"):
        assert key in trained
    assert 0.5 < trained["auroc"] < 1 and len(trained["auroc_ci"]) == 2
    assert set(trained["groups"]) == {"sex", "race_ethnicity", "age_band"}
    assert trained["model_id"].startswith("ascvd_10y-logistic-")
    assert "pce" in trained["baselines"]
    assert trained["attrition"][0]["step"] == "patients in the store"


def test_list_evaluate_audit_and_card(home: Path, trained: dict) -> None:
    model_id = trained["model_id"]
    listed = json.loads(_run(home, "models", "list", "--json").output)
    assert model_id in [m["model_id"] for m in listed]
    evaluated = json.loads(_run(home, "models", "evaluate", model_id, "--json").output)
    assert evaluated["auroc"] == trained["auroc"]
    audited = json.loads(_run(home, "models", "audit", model_id, "--json").output)
    assert set(audited["attributes"]) == {"sex", "race_ethnicity", "age_band"}
    external = json.loads(_run(home, "models", "evaluate", model_id, "--external", "--json").output)
    assert external["patients"] > trained["test_patients"]  # every cohort patient, not a split
    assert Path(external["files"]["evaluation_html"]).is_file()
    card = _run(home, "models", "card", model_id).output
    assert card.startswith("# Model card") and "Intended use" in card
    assert "<table>" in _run(home, "models", "card", model_id, "--format", "html").output


def test_predict_returns_a_prediction_finding_for_a_patient(home: Path, trained: dict) -> None:
    store = Store.open(Settings(home=home))
    patient_id = store.search("Patient", [], count=1).resources[0]["id"]
    result = _run(
        home,
        "models",
        "predict",
        trained["model_id"],
        "--patient",
        patient_id,
        "--at",
        "2016-06-01",
        "--json",
    )
    assert result.exit_code == 0, result.output
    finding = json.loads(result.output)
    assert finding["kind"] == "prediction" and finding["unit"] == "%"
    assert finding["subject"] == f"Patient/{patient_id}"
    assert f"Patient/{patient_id}" in finding["provenance"]["inputs"]
    assert finding["explanation"]["contributions"]


def test_bad_cohort_and_unknown_model_exit_with_clean_errors(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pmed.cli import main

    monkeypatch.setenv("PMED_HOME", str(home))
    bad = tmp_path / "bad.yaml"
    bad.write_text(EXAMPLE.read_text().replace("codeset:mi_chd", "codeset:no_such"))
    with pytest.raises(SystemExit) as exit_info:
        main(["models", "train", str(bad)])
    assert exit_info.value.code == 2
    with pytest.raises(SystemExit) as exit_info:
        main(["models", "evaluate", "no-such-model"])
    assert exit_info.value.code == 1
