"""The synthetic cohort generator read as a specification: reproducible, realistic, valid FHIR,
outcomes drawn from the known risk function, genotypes from population frequencies."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pmed.errors import InputError
from pmed.knowledge import load
from pmed.record.patient import PatientRecord
from pmed.record.synth import (
    FEATURES,
    OUTCOMES,
    generate_cohort,
    parse_under_record,
    true_risk,
)
from pmed.record.synth.bundle import patient_resources, record_plan
from pmed.record.synth.genetics import gene_models, sample_genotypes
from pmed.record.synth.writer import write_cohort


@pytest.fixture(scope="module")
def big() -> Any:
    return generate_cohort(30_000, seed=11, genetics=False)


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    cohort = generate_cohort(40, seed=3)
    out = tmp_path_factory.mktemp("synth")
    write_cohort(cohort, out, fmt="bundle", vcf="patient")
    return cohort, out


def _bundles(out: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted((out / "fhir").glob("*.json"))]


# ------------------------------------------------------------------------ reproducibility
def test_the_same_seed_gives_the_same_cohort_and_bytes(tmp_path: Path) -> None:
    a, b = generate_cohort(300, seed=7), generate_cohort(300, seed=7)
    assert a.truth().equals(b.truth())
    write_cohort(a, tmp_path / "a", vcf="patient")
    write_cohort(b, tmp_path / "b", vcf="patient")
    first = sorted((tmp_path / "a" / "fhir").iterdir())[0].name
    assert (tmp_path / "a" / "fhir" / first).read_bytes() == (
        tmp_path / "b" / "fhir" / first
    ).read_bytes()
    vcf = sorted((tmp_path / "a" / "vcf").iterdir())[0].name
    assert (tmp_path / "a" / "vcf" / vcf).read_bytes() == (
        tmp_path / "b" / "vcf" / vcf
    ).read_bytes()


def test_a_different_seed_gives_different_patients() -> None:
    a, b = generate_cohort(200, seed=1), generate_cohort(200, seed=2)
    assert a.demographics["id"] != b.demographics["id"]
    assert not np.array_equal(a.clinical["sbp"], b.clinical["sbp"])


# ---------------------------------------------------------------------------- realism
def test_risk_factors_correlate_in_the_expected_directions(big: Any) -> None:
    d, c = big.demographics, big.clinical
    age = d["age"].astype(float)
    assert np.corrcoef(age, c["sbp"])[0, 1] > 0.2  # age raises systolic pressure
    assert np.corrcoef(age, c["tc"] + (c["ldl"] / 0.62 - c["ldl"]) * c["statin"])[0, 1] > 0.05
    assert np.corrcoef(c["bmi"], c["hba1c"])[0, 1] > 0.1
    obese, lean = c["bmi"] >= 30, c["bmi"] < 25
    assert c["diabetes"][obese].mean() > 1.5 * c["diabetes"][lean].mean()
    assert c["hdl"][d["female"] == 1].mean() > c["hdl"][d["female"] == 0].mean() + 5
    black, white = d["group"] == "black", d["group"] == "white"
    assert c["sbp"][black].mean() > c["sbp"][white].mean()
    # treatment follows the risk factors
    assert c["statin"][c["diabetes"] == 1].mean() > 2 * c["statin"][c["diabetes"] == 0].mean()
    assert c["bp_treated"][c["hypertension"] == 0].sum() == 0
    assert 0.5 < c["bp_treated"][c["hypertension"] == 1].mean() < 0.95


def test_prevalences_are_plausible_for_adults_30_to_79(big: Any) -> None:
    c = big.clinical
    assert 0.08 < c["diabetes"].mean() < 0.16
    assert 0.10 < c["current_smoker"].mean() < 0.20
    assert 0.10 < c["statin"].mean() < 0.30
    assert 0.005 < c["af"].mean() < 0.04
    assert 25 < np.median(c["bmi"]) < 30
    assert 180 < np.median(c["tc"]) < 210


# --------------------------------------------------------------------------- outcomes
def test_outcome_rates_are_plausible_and_match_the_true_risk(big: Any) -> None:
    for outcome, low, high in (("ascvd", 0.06, 0.13), ("diabetes", 0.07, 0.15),
                               ("heart_failure", 0.02, 0.07)):  # fmt: skip
        happened = np.isfinite(big.events[f"{outcome}_years"])
        risk = big.true_risk(outcome)
        assert low < happened.mean() < high, outcome
        assert abs(happened.mean() - risk.mean()) < 0.01, outcome  # simulation is calibrated
        assert (big.events[f"{outcome}_years"][happened] <= big.horizon).all()
    # nobody with diabetes at index develops incident diabetes
    assert not np.isfinite(big.events["diabetes_years"][big.clinical["diabetes"] == 1]).any()


def test_the_true_risk_beats_a_main_effects_logistic_model(big: Any) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x = big.features().drop("id").to_numpy().astype(float)
    y = np.isfinite(big.events["ascvd_years"])
    half = len(y) // 2
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    model.fit(x[:half], y[:half])
    logistic = roc_auc_score(y[half:], model.predict_proba(x[half:])[:, 1])
    oracle = roc_auc_score(y[half:], big.true_risk("ascvd")[half:])
    assert oracle > 0.78
    assert oracle - logistic > 0.003  # non-linear terms and interactions the model misses


def test_true_risk_reads_dicts_and_frames_alike(big: Any) -> None:
    frame = big.features().head(100)
    as_dict = {name: frame[name].to_numpy() for name in FEATURES}
    for outcome in OUTCOMES:
        assert np.allclose(true_risk(frame, outcome), true_risk(as_dict, outcome))
    risk = true_risk(frame, "ascvd")
    assert ((risk > 0) & (risk < 1)).all()


def test_under_recording_drops_only_that_groups_events() -> None:
    plain = generate_cohort(20_000, seed=5, genetics=False)
    biased = generate_cohort(
        20_000, seed=5, genetics=False, under_record=parse_under_record("black:0.5")
    )
    assert plain.features().equals(biased.features())
    black = plain.demographics["group"] == "black"
    for outcome in OUTCOMES:
        assert np.array_equal(plain.recorded[outcome][~black], biased.recorded[outcome][~black])
    truth, kept = plain.recorded["ascvd"][black].sum(), biased.recorded["ascvd"][black].sum()
    assert 0.35 < kept / truth < 0.65


def test_under_record_option_is_checked() -> None:
    assert parse_under_record("female:0.3").group == "female"
    for bad in ("purple:0.5", "black", "black:1.5"):
        with pytest.raises(InputError):
            parse_under_record(bad)


# --------------------------------------------------------------------------- FHIR shape
def test_bundles_are_transactions_of_valid_resources(written: tuple[Any, Path]) -> None:
    validation = pytest.importorskip("pmed.record.validation")
    _cohort, out = written
    bundles = _bundles(out)
    assert len(bundles) == 40
    for bundle in bundles:
        assert bundle["type"] == "transaction"
        assert validation.validate(bundle) == []
        for entry in bundle["entry"]:
            resource = entry["resource"]
            assert entry["request"] == {
                "method": "PUT",
                "url": f"{resource['resourceType']}/{resource['id']}",
            }
            assert validation.validate(resource) == []


def test_the_record_shows_the_features_the_risk_function_used(written: tuple[Any, Path]) -> None:
    cohort, out = written
    truth = {row["id"]: row for row in cohort.truth().to_dicts()}
    histories = []
    for bundle in _bundles(out):
        rec = PatientRecord.from_resources([bundle])
        row = truth[rec.id]
        index = row["index_date"]
        assert rec.age(index) == row["age"]
        [visit] = [
            e
            for e in rec.resources("Encounter")
            if e["type"][0]["coding"][0]["code"] == "162673000"
        ]
        assert visit["period"]["start"].startswith(index.isoformat())
        assert (rec.sex == "female") == bool(row["female"])
        bp = rec.blood_pressure(before=index)
        assert bp is not None and bp.systolic.value == row["sbp"]
        history = rec.observations("8480-6", before=index)
        assert history[-1].value == row["sbp"] and history[-1].date == bp.systolic.date
        histories.append(len(history))
        [tc] = rec.observations("2093-3")  # the lipid panel is only at the index visit
        assert tc.value == row["tc"] and tc.date is not None and tc.date.date() == index
        assert rec.latest("2085-9", before=index).value == row["hdl"]  # type: ignore[union-attr]
        assert rec.latest("4548-4", before=index).value == row["hba1c"]  # type: ignore[union-attr]
        assert rec.latest("98979-8", before=index).value == row["egfr"]  # type: ignore[union-attr]
        assert rec.bmi is not None and rec.bmi.value == row["bmi"]
        smoking = rec.smoking(before=index)
        assert smoking is not None and smoking.current == bool(row["current_smoker"])
        assert rec.has_condition("diabetes", before=index) == bool(row["diabetes"])
        assert rec.has_medication("statins", before=index) == bool(row["statin"])
        assert rec.has_medication("antihypertensives", before=index) == bool(row["bp_treated"])
        assert rec.has_condition("atrial_fibrillation", before=index) == bool(row["af"])
        race = {"white": "2106-3", "hispanic": "2106-3", "black": "2054-5", "asian": "2028-9",
                "other": "2131-1"}[row["group"]]  # fmt: skip
        assert rec.race is not None and rec.race.codes == [race]
        assert rec.ethnicity is not None
        assert (rec.ethnicity.codes == ["2135-2"]) == (row["group"] == "hispanic")
        cv = [c for c in rec.conditions(["22298006", "230690007"]) if c.onset and
              c.onset.date() > index]  # fmt: skip
        assert bool(cv) == bool(row["recorded_ascvd"])
        if cv:
            years = (cv[0].onset.date() - index).days / 365.25  # type: ignore[union-attr]
            assert abs(years - row["years_ascvd"]) < 0.01
    assert min(histories) == 1 and max(histories) > 2  # earlier visits give a BP history


def test_ndjson_holds_the_same_resources(tmp_path: Path) -> None:
    cohort = generate_cohort(25, seed=4, genetics=False)
    summary = write_cohort(cohort, tmp_path, fmt="ndjson", vcf="none")
    lines = sum(len(p.read_text().splitlines()) for p in (tmp_path / "fhir").glob("*.ndjson"))
    plan = record_plan(cohort)
    expected = sum(len(list(patient_resources(plan, i))) for i in range(cohort.size))
    assert lines == summary.resources == expected
    manifest = json.loads((tmp_path / "cohort.json").read_text())
    assert manifest["seed"] == 4 and manifest["patients"] == 25


# ----------------------------------------------------------------------------- genetics
def _vcf_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as handle:  # type: ignore[operator]
        lines = handle.read().splitlines()
    header = next(line for line in lines if line.startswith("#CHROM")).split("\t")
    return header, [line.split("\t") for line in lines if not line.startswith("#")]


def test_patient_vcfs_hold_every_defined_position_with_its_reference(
    written: tuple[Any, Path],
) -> None:
    cohort, out = written
    definitions = load("pgx/definitions").data["genes"]
    expected = {
        (definitions[m.gene]["chromosome"], v["position"], v["ref"])
        for m in cohort.genotypes.models
        for v in definitions[m.gene]["variants"]
    }
    sample = cohort.demographics["id"][0]
    header, rows = _vcf_rows(out / "vcf" / f"{sample}.vcf")
    assert header[9:] == [sample]
    assert {(r[0], int(r[1]), r[3]) for r in rows} == expected
    assert all(r[8] == "GT" and "|" in r[9] for r in rows)


def test_vcf_genotypes_spell_the_drawn_diplotypes(written: tuple[Any, Path]) -> None:
    cohort, out = written
    model = next(m for m in cohort.genotypes.models if m.gene == "CYP2C19")
    star2 = model.allele_names.index("*2")
    position = 94781859  # rs4244285, c.681G>A, the *2 splice defect
    column = model.positions.index(position)
    assert model.table[star2, column] > 0
    diplotypes = cohort.genotypes.diplotypes("CYP2C19")
    for sample, diplotype in zip(cohort.demographics["id"], diplotypes, strict=True):
        _header, rows = _vcf_rows(out / "vcf" / f"{sample}.vcf")
        [row] = [r for r in rows if r[0] == "chr10" and int(r[1]) == position]
        carriers = diplotype.split("/").count("*2")
        assert sum(a != "0" for a in row[9].split("|")) == carriers


def test_the_pgx_caller_recovers_the_drawn_diplotypes(written: tuple[Any, Path]) -> None:
    """End to end with the PGx engine: calling each patient's VCF gives back the diplotype the
    generator drew (ties allowed: the truth must be among the called diplotypes)."""
    pgx = pytest.importorskip("pmed.pgx")
    cohort, out = written
    for i, sample in enumerate(cohort.demographics["id"][:15]):
        [calls] = pgx.call(out / "vcf" / f"{sample}.vcf")
        for model in cohort.genotypes.models:
            truth = sorted(cohort.genotypes.diplotypes(model.gene)[i].split("/"))
            called = [sorted(d.split("/")) for d in calls.genes[model.gene].diplotypes]
            assert truth in called, (sample, model.gene, truth, called)


def test_multisample_vcf_has_a_column_per_patient(tmp_path: Path) -> None:
    cohort = generate_cohort(30, seed=8)
    write_cohort(cohort, tmp_path, fmt="ndjson", vcf="multi")
    header, rows = _vcf_rows(tmp_path / "vcf" / "cohort.vcf.gz")
    assert header[9:] == cohort.demographics["id"]
    assert all(len(r) == 9 + 30 for r in rows)
    positions = [(r[0], int(r[1])) for r in rows]
    assert len(positions) == sum(len(m.positions) for m in cohort.genotypes.models)


def test_allele_frequencies_follow_the_population() -> None:
    rng = np.random.default_rng(0)
    n = 20_000
    east = sample_genotypes(rng, [f"s{i}" for i in range(n)], np.full(n, "east_asian"))
    europe = sample_genotypes(rng, [f"s{i}" for i in range(n)], np.full(n, "european"))

    def frequency(genotypes: Any, gene: str, allele: str) -> float:
        model = next(m for m in genotypes.models if m.gene == gene)
        a, b = genotypes.haplotypes[gene]
        k = model.allele_names.index(allele)
        return float(((a == k).sum() + (b == k).sum()) / (2 * n))

    assert frequency(east, "CYP2C19", "*2") == pytest.approx(0.29, abs=0.015)
    assert frequency(europe, "CYP2C19", "*2") == pytest.approx(0.15, abs=0.015)
    assert frequency(east, "CYP2C19", "*3") == pytest.approx(0.07, abs=0.01)
    assert frequency(europe, "VKORC1", "rs9923231 variant (T)") == pytest.approx(0.39, abs=0.015)


def test_every_frequency_names_an_allele_of_the_definitions() -> None:
    models = gene_models()
    assert {m.gene for m in models} >= {"CYP2C19", "CYP2C9", "VKORC1", "SLCO1B1", "DPYD"}
    for model in models:
        for population, probabilities in model.frequencies.items():
            assert probabilities.sum() == pytest.approx(1.0), (model.gene, population)
            assert (probabilities >= 0).all()


# --------------------------------------------------------------------------------- CLI
def test_cli_writes_a_cohort_and_rejects_a_bad_group(tmp_path: Path) -> None:
    from pmed.cli import main

    main(["synth", "--patients", "12", "--seed", "2", "--out", str(tmp_path / "c"), "--json",
          "--no-vcf"])  # fmt: skip
    assert len(list((tmp_path / "c" / "fhir").glob("*.json"))) == 12
    assert not (tmp_path / "c" / "vcf").exists()
    with pytest.raises(SystemExit) as exit_info:
        main(["synth", "-n", "3", "--out", str(tmp_path / "d"), "--under-record", "x:2"])
    assert exit_info.value.code == 2
