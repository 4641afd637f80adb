"""`pmed risk calc|score|what-if|list`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from pmed.cli import cli, main
from pmed.config import Settings
from pmed.record.store import Store
from tests.risk.builders import pce_inputs, prevent_inputs
from tests.risk.test_from_record import guideline_patient


def _json(args: list[str]) -> dict:
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_calc_json_prints_value_unit_and_explanation() -> None:
    out = _json(["risk", "calc", "pce", "--input", json.dumps(pce_inputs(sex="male")), "--json"])
    assert round(out["value"], 1) == 5.4 and out["unit"] == "%"
    assert out["calculator"] == "pce" and out["band"] == "borderline"
    assert any(c["factor"] == "ln_age" for c in out["contributions"])
    assert out["evidence"][0]["title"].startswith("Goff")


def test_calc_prevent_adds_endpoints_and_takes_a_horizon() -> None:
    args = ["risk", "calc", "prevent", "--input", json.dumps(prevent_inputs()), "--json"]
    ten = _json(args)
    assert round(ten["endpoints"]["cvd"] / 100, 4) == 0.1468
    assert set(ten["endpoints"]) == {"cvd", "ascvd", "hf", "chd", "stroke"}
    thirty = _json([*args, "--horizon", "30"])
    assert thirty["horizon"] == 30 and round(thirty["endpoints"]["ascvd"] / 100, 3) == 0.354


def test_calc_with_missing_inputs_names_them_and_exits_2(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["risk", "calc", "pce", "--input", '{"age": 55, "sex": "male"}', "--json"])
    assert exit_.value.code == 2
    out = json.loads(capsys.readouterr().out)
    assert out["kind"] == "missing-data"
    assert {m["name"] for m in out["missing"]} >= {"tc", "hdl", "sbp"}


def test_calc_out_of_range_exits_2_with_the_range(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["risk", "calc", "pce", "--input", json.dumps(pce_inputs(tc=400))])
    assert exit_.value.code == 2
    assert "130–320 mg/dL" in capsys.readouterr().err


def test_calc_bad_json_exits_2(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["risk", "calc", "pce", "--input", "{age: 55"])
    assert exit_.value.code == 2


def test_calc_fhir_prints_the_resource() -> None:
    out = _json(["risk", "calc", "pce", "--input", json.dumps(pce_inputs()), "--fhir", "p1"])
    assert out["resourceType"] == "RiskAssessment"


def test_list_shows_every_calculator_with_inputs() -> None:
    rows = _json(["risk", "list", "--json"])
    assert len(rows) == 11
    pce = next(r for r in rows if r["name"] == "pce")
    tc = next(i for i in pce["inputs"] if i["name"] == "tc")
    assert tc["range"] == "130–320 mg/dL" and tc["source"] == "LOINC 2093-3"


@pytest.fixture
def stored_patient(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    settings = Settings(home=tmp_path / "home")
    monkeypatch.setenv("PMED_HOME", str(settings.home))
    monkeypatch.delenv("PMED_DATABASE_URL", raising=False)
    Store.open(settings).write_batch(guideline_patient())
    return "p1"


def test_score_patient_from_the_store(stored_patient: str) -> None:
    out = _json(["risk", "score", stored_patient, "--at", "2024-06-01", "--json"])
    by_name = {f["calculator"]: f for f in out["findings"]}
    assert round(by_name["pce"]["value"], 1) == 5.4
    assert by_name["pce"]["sources"]["tc"] == "Observation/tc (2024-05-01)"


def test_score_save_writes_risk_assessments(stored_patient: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["risk", "score", stored_patient, "--at", "2024-06-01",
                                      "--calculator", "pce", "--save"])  # fmt: skip
    assert result.exit_code == 0, result.output
    store = Store.open(Settings(home=tmp_path / "home"))
    page = store.search("RiskAssessment", [("subject", "Patient/p1")])
    assert page.total == 1


def test_what_if_patient(stored_patient: str) -> None:
    out = _json(["risk", "what-if", stored_patient, "--at", "2024-06-01", "--set", "smoker=true",
                 "--set", "sbp=140", "--calculator", "pce", "--json"])  # fmt: skip
    result = out["results"][0]
    assert result["calculator"] == "pce"
    assert result["absolute_change"] > 0 and result["estimate"] is False
    assert result["changes"] == {"smoker": True, "sbp": 140.0}


def test_what_if_set_needs_name_equals_value(stored_patient: str) -> None:
    result = CliRunner().invoke(cli, ["risk", "what-if", stored_patient, "--set", "sbp"])
    assert result.exit_code != 0
