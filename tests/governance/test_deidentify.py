"""De-identification: recall per identifier type on a corpus with planted identifiers, and the
Safe Harbor / limited data set rules on structured fields."""

from __future__ import annotations

import base64
import json
import re
from datetime import date
from pathlib import Path

import pytest

from pmed.config import Settings
from pmed.governance import consent
from pmed.governance.deidentify import RESTRICTED_ZIP3, Deidentifier, export_deidentified
from pmed.record.store import Store
from tests.governance import deid_corpus


def recall(planted: dict[str, list[str]], text: str) -> dict[str, float]:
    low = text.lower()
    return {k: sum(v.lower() not in low for v in vals) / len(vals) for k, vals in planted.items()}


def exported_text(out: Path) -> str:
    chunks = []
    for f in sorted(out.glob("*.ndjson")):
        for line in f.read_text().splitlines():
            res = json.loads(line)
            chunks.append(line)
            for c in res.get("content", []):
                data = c.get("attachment", {}).get("data")
                if data:
                    chunks.append(base64.b64decode(data).decode())
    return "\n".join(chunks)


@pytest.fixture(scope="module")
def corpus() -> deid_corpus.Corpus:
    return deid_corpus.build(200)


@pytest.fixture(scope="module")
def safe_harbor(corpus: deid_corpus.Corpus, tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("sh")
    store = Store.open(Settings(home=home / "home"))
    store.write_batch(corpus.resources)
    out = home / "out"
    summary = export_deidentified(store, out, "safe-harbor", as_of=date(2026, 1, 1))
    assert summary.patients == 200
    return out


def test_structured_identifiers_are_all_removed(
    corpus: deid_corpus.Corpus, safe_harbor: Path
) -> None:
    text = exported_text(safe_harbor)
    r = recall({k: v for k, v in corpus.planted_structured.items() if k != "zip"}, text)
    print("structured recall", r)
    assert all(v == 1.0 for v in r.values()), r
    for line in (safe_harbor / "Patient.ndjson").read_text().splitlines():
        p = json.loads(line)
        assert set(p) <= {
            "resourceType",
            "id",
            "meta",
            "gender",
            "birthDate",
            "address",
            "generalPractitioner",
            "extension",
        }, set(p)
        for a in p["address"]:
            assert set(a) <= {"state", "country", "postalCode"}
            assert len(a["postalCode"]) == 3


def free_text(out: Path) -> str:
    """Only the free-text fields of the export (notes, comments): recall on text is measured
    there, not on pseudonymous ids, whose random hex may contain any short digit string."""
    chunks = []
    for f in sorted(out.glob("*.ndjson")):
        for line in f.read_text().splitlines():
            res = json.loads(line)
            chunks += [n.get("text", "") for n in res.get("note", [])]
            for c in res.get("content", []):
                data = c.get("attachment", {}).get("data")
                if data:
                    chunks.append(base64.b64decode(data).decode())
    return "\n".join(chunks)


def test_planted_text_identifiers_recall_at_least_99_percent(
    corpus: deid_corpus.Corpus, safe_harbor: Path
) -> None:
    text = free_text(safe_harbor)
    assert len(text) > 200 * 300  # the notes are there, scrubbed, not dropped
    r = recall(corpus.planted_text, text)
    print("text recall", {k: round(v, 4) for k, v in r.items()})
    assert all(v >= 0.99 for v in r.values()), r


def test_zip_codes_keep_three_digits_and_restricted_prefixes_become_000(safe_harbor: Path) -> None:
    seen = {
        json.loads(line)["address"][0]["postalCode"]
        for line in (safe_harbor / "Patient.ndjson").read_text().splitlines()
    }
    assert "000" in seen and not seen & RESTRICTED_ZIP3
    assert seen <= {"021", "019", "000", "102", "024"} | {"556", "692", "830"} - RESTRICTED_ZIP3


def test_dates_keep_only_the_year_and_ages_over_89_become_90_or_older(
    corpus: deid_corpus.Corpus, safe_harbor: Path
) -> None:
    for f in safe_harbor.glob("*.ndjson"):
        assert not re.search(r'"\d{4}-\d{2}', f.read_text()), f.name
    patients = [json.loads(x) for x in (safe_harbor / "Patient.ndjson").read_text().splitlines()]
    old = [p for p in patients if "birthDate" not in p]
    assert len(old) == len(corpus.over_89)
    assert all(
        {"url": "urn:pmed:deidentified:age", "valueString": "90 or older"} in p["extension"]
        for p in old
    )
    assert all(re.fullmatch(r"\d{4}", p["birthDate"]) for p in patients if "birthDate" in p)


def test_pseudonyms_link_resources_within_an_export_only(safe_harbor: Path) -> None:
    patients = {
        json.loads(x)["id"] for x in (safe_harbor / "Patient.ndjson").read_text().splitlines()
    }
    obs = [json.loads(x) for x in (safe_harbor / "Observation.ndjson").read_text().splitlines()]
    assert all(o["subject"]["reference"].split("/")[1] in patients for o in obs)
    assert not any(pid.startswith("pt") for pid in patients)
    d1, d2 = Deidentifier(), Deidentifier()
    assert d1.pseudonym("Patient", "pt1") != d2.pseudonym("Patient", "pt1")


def test_limited_data_set_shifts_each_patients_dates_by_one_keyed_offset() -> None:
    deid = Deidentifier("limited-dataset", secret=b"k" * 32)
    patient = {
        "resourceType": "Patient",
        "id": "p",
        "birthDate": "1970-03-01",
        "address": [
            {"line": ["1 Main Street"], "city": "Boston", "state": "MA", "postalCode": "02134-1234"}
        ],
    }
    ctx = deid.context(patient)
    shift = deid.shift_days("p")
    assert 1 <= abs(shift) <= 365 and shift == Deidentifier(
        "limited-dataset", secret=b"k" * 32
    ).shift_days("p")
    out = deid.resource(patient, ctx)
    assert out["address"] == [{"state": "MA", "city": "Boston", "postalCode": "02134"}]
    assert date.fromisoformat(out["birthDate"]) - date(1970, 3, 1) == __import__(
        "datetime"
    ).timedelta(days=shift)
    obs = {
        "resourceType": "Observation",
        "id": "o",
        "subject": {"reference": "Patient/p"},
        "effectivePeriod": {"start": "2020-01-10", "end": "2020-01-20"},
        "note": [{"text": "Seen 2020-01-10 at 1 Main Street"}],
    }
    o = deid.resource(obs, ctx)
    start, end = (date.fromisoformat(o["effectivePeriod"][k]) for k in ("start", "end"))
    assert (end - start).days == 10  # intervals survive the shift
    assert "1 Main Street" not in o["note"][0]["text"]
    assert str(start) in o["note"][0]["text"]


def test_research_opt_outs_and_restricted_categories_are_left_out(tmp_path: Path) -> None:
    store = Store.open(Settings(home=tmp_path / "home"))
    small = deid_corpus.build(5)
    gen = {
        "resourceType": "Observation",
        "id": "g",
        "status": "final",
        "subject": {"reference": "Patient/pt1"},
        "code": {"coding": [{"system": "http://loinc.org", "code": "84413-4"}]},
    }
    store.write_batch(
        [
            *small.resources,
            gen,
            {**consent.research_opt_out("pt0"), "id": "c0"},
            {**consent.restrict_category("pt1", "genomics"), "id": "c1"},
        ]
    )
    summary = export_deidentified(store, tmp_path / "out", "safe-harbor")
    assert summary.patients == 4 and summary.excluded_opted_out == 1
    assert summary.withheld_by_consent == 1
    manifest = json.loads((tmp_path / "out" / "deidentification.json").read_text())
    assert manifest["excludedOptedOut"] == 1 and "Safe Harbor" in manifest["method"]


def test_scrubbing_keeps_the_clinical_content() -> None:
    from pmed.governance.scrub import Scrubber

    text = (
        "LDL 130 mg/dL, HbA1c 7.2 %, eGFR 58 mL/min/1.73m2. Started metformin 500 mg twice "
        "daily; CYP2C19 *2/*17 intermediate metabolizer. BP 142/88. Follow up in 3 months."
    )
    assert Scrubber(["Okonkwo"])(text) == text
