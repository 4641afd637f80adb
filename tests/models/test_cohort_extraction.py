"""Cohort definitions and SQL extraction, on small hand-built stores (SQLite and PostgreSQL).

Every expected value below is computed by hand from the resources written in `_record()`.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from pmed.config import Settings
from pmed.errors import InputError
from pmed.population import extract_cohort, load_definition, to_training_data
from pmed.record.store import Store
from tests.models.builders import (
    blood_pressure,
    condition,
    encounter,
    medication,
    observation,
    patient,
)

MI = "22298006"
T2D = "44054006"
SMOKING = "72166-2"


def smoking(rid: str, pid: str, code: str, when: str) -> dict[str, Any]:
    obs = observation(rid, pid, SMOKING, 0, "1", when)
    del obs["valueQuantity"]
    obs["valueCodeableConcept"] = {"coding": [{"system": "http://snomed.info/sct", "code": code}]}
    return obs


def _record() -> list[dict[str, Any]]:
    """Index is each patient's check-up encounter in 2015 (p1..p5), none for p6."""
    return [
        # p1: man born 1960, check-up 2015-06-01; diabetes 2010; MI 2018 (outcome);
        # cholesterol 5.0 mmol/L (2015-05) after 220 mg/dL (2014-06); BP 150/90; statin 2015;
        # current smoker.
        patient("p1", "1960-05-01", "male", "white"),
        encounter("p1-e0", "p1", "2015-06-01"),
        condition("p1-dm", "p1", T2D, "2010-01-01"),
        condition("p1-mi", "p1", MI, "2018-03-01"),
        observation("p1-tc1", "p1", "2093-3", 220, "mg/dL", "2014-06-01"),
        observation("p1-tc2", "p1", "2093-3", 5.0, "mmol/L", "2015-05-01"),
        blood_pressure("p1-bp", "p1", 150, 90, "2015-06-01"),
        medication("p1-rx", "p1", "83367", "2015-01-01"),
        smoking("p1-smk", "p1", "449868002", "2015-06-01"),
        # p2: woman born 1950 (black); check-up 2015-03-01; no outcome; old statin (2009,
        # outside the 3-year lookback); never smoker.
        patient("p2", "1950-01-01", "female", "black"),
        encounter("p2-e0", "p2", "2015-03-01"),
        observation("p2-tc", "p2", "2093-3", 180, "mg/dL", "2015-03-01"),
        blood_pressure("p2-bp", "p2", 120, 80, "2015-03-01"),
        medication("p2-rx", "p2", "83367", "2009-01-01"),
        smoking("p2-smk", "p2", "266919005", "2015-03-01"),
        # p3: 25 years old at index: outside the age range.
        patient("p3", "1990-01-01", "female", "asian"),
        encounter("p3-e0", "p3", "2015-02-01"),
        # p4: MI before index (prior outcome, excluded).
        patient("p4", "1955-01-01", "male", "white"),
        encounter("p4-e0", "p4", "2015-02-01"),
        condition("p4-mi", "p4", MI, "2012-01-01"),
        # p5: died before index.
        patient("p5", "1945-01-01", "male", "white", deceased="2014-12-01"),
        encounter("p5-e0", "p5", "2015-01-15"),
        # p6: no index encounter in the window.
        patient("p6", "1950-01-01", "male", "white"),
        encounter("p6-e0", "p6", "2012-01-01"),
        # p7: man born 1948, check-up 2015-09-01, MI 12 years later (beyond the horizon).
        patient("p7", "1948-01-01", "male", "white"),
        encounter("p7-e0", "p7", "2015-09-01"),
        condition("p7-mi", "p7", MI, "2027-10-01"),
    ]


def _definition(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "test_cohort",
        "index_event": {"resource": "Encounter", "start": "2015-01-01", "end": "2015-12-31"},
        "lookback_days": 1095,
        "target": {"age": [40, 79]},
        "outcome": {"conditions": [f"snomed:{MI}"], "horizon_days": 3653},
        "features": {
            "demographics": ["age", "sex", "race"],
            "conditions": {"diabetes": ["codeset:diabetes"]},
            "medications": {"statin": ["codeset:statins"]},
            "observations": {
                "tc": {
                    "code": "loinc:2093-3",
                    "unit": "mg/dL",
                    "summaries": ["latest", "mean", "count"],
                },
                "sbp": {"code": "loinc:8480-6"},
            },
            "coded_observations": {
                "smoker": {"code": f"loinc:{SMOKING}", "values": ["snomed:449868002"]}
            },
        },
        "audit": {"age_bands": [50, 60, 70]},
    }
    base.update(changes)
    return base


@pytest.fixture
def store(settings: Settings) -> Store:
    s = Store.open(settings)
    s.write_batch(_record())
    return s


def test_attrition_follows_target_population_exclusions_and_outcome(store: Store) -> None:
    fs = extract_cohort(store, load_definition(_definition()))
    steps = {a["step"]: a["patients"] for a in fs.attrition}
    assert steps["patients in the store"] == 7
    assert steps["with an index event"] == 6  # p6 has no 2015 encounter
    assert steps["alive at index"] == 5  # p5 died in 2014
    assert steps["age 40-79 at index"] == 4  # p3 is 25
    assert steps["no outcome on or before index"] == 3  # p4 had an MI in 2012
    assert fs.frame["patient_id"].to_list() == ["p1", "p2", "p7"]
    assert fs.frame["outcome"].to_list() == [1, 0, 0]  # p7's MI is beyond 10 years
    assert fs.frame["outcome_date"].to_list() == ["2018-03-01", None, None]


def test_features_come_from_each_patients_lookback_window(store: Store) -> None:
    fs = extract_cohort(store, load_definition(_definition()))
    rows = {r["patient_id"]: r for r in fs.frame.iter_rows(named=True)}
    p1, p2, p7 = rows["p1"], rows["p2"], rows["p7"]
    assert p1["index_date"] == "2015-06-01"
    assert p1["age"] == pytest.approx((date(2015, 6, 1) - date(1960, 5, 1)).days / 365.25)
    assert (p1["sex_female"], p2["sex_female"]) == (0, 1)
    assert (p1["race_black"], p2["race_black"]) == (0, 1)
    assert (p1["diabetes"], p2["diabetes"]) == (1, 0)
    # statin: p1 2015 (in window), p2 2009 (before the 3-year lookback)
    assert (p1["statin"], p2["statin"]) == (1, 0)
    # 5.0 mmol/L total cholesterol = 193.35 mg/dL (× 38.67); the mean includes 220 mg/dL
    assert p1["tc_latest"] == pytest.approx(5.0 * 38.67, rel=1e-3)
    assert p1["tc_mean"] == pytest.approx((5.0 * 38.67 + 220) / 2, rel=1e-3)
    assert (p1["tc_count"], p2["tc_count"], p7["tc_count"]) == (2, 1, 0)
    assert p7["tc_latest"] is None  # never measured: null, not imputed
    assert (p1["sbp"], p2["sbp"]) == (150.0, 120.0)  # from the BP panel's component
    assert (p1["smoker"], p2["smoker"], p7["smoker"]) == (1, 0, None)
    assert (p1["age_band"], p2["age_band"]) == ("50-59", "60-69")
    assert p2["race_ethnicity"] == "black"


def test_feature_dictionary_documents_codes_units_and_missingness(store: Store) -> None:
    fs = extract_cohort(store, load_definition(_definition()))
    entries = {e["name"]: e for e in fs.dictionary()}
    assert entries["tc_latest"]["unit"] == "mg/dL"
    assert entries["tc_latest"]["missing_fraction"] == pytest.approx(1 / 3, abs=1e-3)
    assert "null" in entries["tc_latest"]["missing"]
    assert entries["statin"]["codes"] == "codeset:statins"
    assert entries["encounters"]["kind"] == "utilisation"


def test_fixed_calendar_index_date_and_prediction_mode(store: Store) -> None:
    d = load_definition(_definition(index_event=None, index_date="2016-01-01"))
    fs = extract_cohort(
        store, d, index_date=date(2016, 1, 1), patient_ids=["p3", "p1"], for_training=False
    )
    rows = {r["patient_id"]: r for r in fs.frame.iter_rows(named=True)}
    assert rows["p1"]["in_target"] is True
    assert rows["p3"]["in_target"] is False and "age" in rows["p3"]["target_note"]
    assert "outcome" not in fs.frame.columns


def test_training_data_carries_groups_dictionary_and_fingerprint(store: Store) -> None:
    fs = extract_cohort(store, load_definition(_definition()))
    td = to_training_data(fs)
    assert td.x.shape == (3, len(fs.feature_names))
    assert list(td.groups) == ["sex", "race_ethnicity", "age_band"]
    assert td.fingerprint == fs.fingerprint() and len(td.fingerprint) == 64


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"outcome": {"conditions": ["codeset:no_such_set"]}}, "unknown condition code set"),
        ({"outcome": {"conditions": ["foo:123"]}}, "unknown code system 'foo'"),
        ({"outcome": {"conditions": ["22298006"]}}, "is not a code"),
        ({"outcome": {"conditions": []}}, "needs conditions, observations or death"),
        ({"index_event": None}, "exactly one of index_date"),
        ({"target": {"age": [80, 40]}}, "age must be"),
        ({"surprise": 1}, "Extra inputs"),
        ({"features": {"demographics": ["shoe_size"]}}, "unknown demographics"),
    ],
)
def test_malformed_definitions_are_refused_with_the_field(
    change: dict[str, Any], message: str
) -> None:
    with pytest.raises(InputError, match=message):
        load_definition(_definition(**change))


def test_definition_file_errors_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    with pytest.raises(InputError, match=r"bad.yaml.*not valid YAML"):
        load_definition(bad)
    with pytest.raises(InputError, match="not found"):
        load_definition(tmp_path / "missing.yaml")


def test_unknown_codes_empty_cohort_and_absent_outcome_fail_before_training(store: Store) -> None:
    with pytest.raises(InputError, match=r"unknown codes: snomed:999999.*occur in no Condition"):
        extract_cohort(
            store, load_definition(_definition(outcome={"conditions": ["snomed:999999"]}))
        )
    with pytest.raises(InputError, match="the cohort is empty"):
        extract_cohort(store, load_definition(_definition(target={"age": [100, 110]})))
    never = _definition(outcome={"conditions": [f"snomed:{MI}"], "horizon_days": 30})
    with pytest.raises(InputError, match="outcome was never observed"):
        extract_cohort(store, load_definition(never))
    everyone = _definition(target={"age": [40, 79], "require_conditions": [f"snomed:{T2D}"]})
    with pytest.raises(InputError, match="single class"):
        extract_cohort(store, load_definition(everyone))
