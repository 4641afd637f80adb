"""Care-plan rules on built records, each checked against a hand-worked case and its guideline."""

from __future__ import annotations

import importlib
from datetime import date

import pytest

from pmed.care import build_plan, merge, parse_draft_orders
from pmed.care.kidney import egfr_stage
from pmed.care.model import Recommendation
from pmed.findings import Evidence, Severity
from pmed.record.patient import PatientRecord
from tests.care import builders as b

AT = date(2025, 6, 1)


def plan_of(resources, drafts=()):
    record = PatientRecord.from_resources(resources)
    bundle = {"resourceType": "Bundle", "entry": [{"resource": d} for d in drafts]}
    return build_plan(record, at=AT, drafts=parse_draft_orders(bundle))


def rec(plan, key) -> Recommendation:
    found = [r for r in plan.recommendations if r.key == key]
    assert found, f"no {key}: {[r.key for r in plan.recommendations]}"
    return found[0]


# --------------------------------------------------------------------------- drug–gene (CPIC)
def test_slco1b1_poor_function_simvastatin_order_is_replaced_by_statins_cpic_allows():
    draft = b.med("d1", "36567", "simvastatin 40 MG Oral Tablet", status="draft", mg=40)
    r = rec(plan_of(b.cardiometabolic(), [draft]), "drug:simvastatin")
    assert r.action == "use-alternative" and r.severity == Severity.HIGH
    assert r.order_ref == "MedicationRequest/d1"
    alts = {a.drug: a for a in r.alternatives}
    # CPIC 2022 Figure 1, SLCO1B1 poor function: atorvastatin ≤ 20 mg, rosuvastatin ≤ 20 mg,
    # pravastatin ≤ 40 mg, pitavastatin ≤ 1 mg; fluvastatin ruled out with CYP2C9 AS 1.0.
    assert alts["atorvastatin"].max_dose_mg == 20 and alts["atorvastatin"].recommended
    assert alts["pravastatin"].max_dose_mg == 40
    assert "simvastatin" not in alts and "fluvastatin" not in alts and "lovastatin" not in alts
    assert "cpicpgx.org" in (r.evidence[0].url or "")


def test_atorvastatin_within_cpic_cap_is_not_flagged_but_above_it_is():
    ok = b.med("d1", "83367", "atorvastatin 20 MG Oral Tablet", status="draft", mg=20)
    high = b.med("d2", "83367", "atorvastatin 80 MG Oral Tablet", status="draft", mg=80)
    assert not [r for r in plan_of(b.cardiometabolic(), [ok]).recommendations
                if r.key == "drug:atorvastatin"]  # fmt: skip
    r = rec(plan_of(b.cardiometabolic(), [high]), "drug:atorvastatin")
    assert r.action == "limit-dose" and r.alternatives[0].max_dose_mg == 20


def test_cyp2c19_poor_metabolizer_on_clopidogrel_gets_prasugrel_or_ticagrelor():
    r = rec(plan_of(b.cardiometabolic()), "drug:clopidogrel")
    assert r.action == "use-alternative" and r.strength == "strong"  # CPIC 2022 ACS/PCI
    assert [a.drug for a in r.alternatives] == ["prasugrel", "ticagrelor"]
    assert any("2022" in e.title for e in r.evidence)


def test_clopidogrel_without_cyp2c19_result_suggests_genotyping():
    resources = [x for x in b.cardiometabolic() if not str(x.get("id", "")).startswith("c19")]
    r = rec(plan_of(resources), "drug:clopidogrel")
    assert r.action == "further-testing"


def test_no_genotype_no_drug_gene_advice():
    resources = [x for x in b.cardiometabolic() if x["resourceType"] != "Observation"
                 or x["code"]["coding"][0]["code"] not in ("84413-4", "53040-2")]  # fmt: skip
    plan = plan_of(resources)
    assert not [r for r in plan.recommendations if r.topic == "drug-gene"]


# --------------------------------------------------------------------------------- statins
def _statin_patient(**extra):
    base = [
        b.patient("p1", birth="1970-03-01", gender="male"),
        b.obs("tc", "2093-3", extra.get("tc", 213), "mg/dL"),
        b.obs("hdl", "2085-9", 50, "mg/dL"),
        b.obs("ldl", "18262-6", extra.get("ldl", 130), "mg/dL"),
        b.bp("bp", extra.get("sbp", 120), 80),
        b.smoking("smk", extra.get("smoker", False)),
    ]
    return base + extra.get("more", [])


def test_ldl_190_or_more_gets_high_intensity_statin_class_i():
    r = rec(plan_of(_statin_patient(ldl=195, tc=280)), "statin:therapy")
    assert r.details["intensity"] == "high" and r.strength == "Class I"
    assert r.alternatives[0].drug == "atorvastatin" and r.alternatives[0].dose == "40-80 mg daily"


def test_diabetes_age_40_to_75_gets_moderate_intensity():
    more = [b.condition("dm", "44054006")]
    r = rec(plan_of(_statin_patient(more=more)), "statin:therapy")
    assert r.details["intensity"] == "moderate" and "4.3" in r.details["reason"]


def test_clinical_ascvd_gets_high_intensity():
    more = [b.condition("mi", "22298006")]
    r = rec(plan_of(_statin_patient(more=more)), "statin:therapy")
    assert r.details["intensity"] == "high" and "ASCVD" in r.details["reason"]


def test_primary_prevention_by_pce_band():
    # 55-year-old white man, TC 213, HDL 50, SBP 120 untreated, non-smoker: PCE 5.3% (Goff 2014
    # guideline example) → borderline band 5–7.5% → moderate intensity, Class IIb.
    r = rec(plan_of(_statin_patient()), "statin:therapy")
    assert r.details["class"] == "IIb"
    # Smoker, SBP 160: PCE well above 7.5% → at least Class I moderate.
    r = rec(plan_of(_statin_patient(smoker=True, sbp=160)), "statin:therapy")
    assert r.details["class"] == "I"


def test_already_on_statin_is_told_to_continue():
    more = [b.med("ator", "83367", "atorvastatin 20 MG Oral Tablet")]
    r = rec(plan_of(_statin_patient(ldl=195, tc=280, more=more)), "statin:therapy")
    assert r.action == "continue" and r.severity == Severity.INFO


def test_no_ldl_asks_for_a_lipid_panel():
    resources = [x for x in _statin_patient() if x.get("id") != "ldl"]
    assert rec(plan_of(resources), "statin:eligibility").action == "measure"


# ------------------------------------------------------------------------- antithrombotics
def test_cha2ds2_vasc_2_in_a_woman_is_reasonable_not_recommended():
    # female (1) + hypertension (1) = 2: 2023 ACC/AHA/ACCP/HRS Class 2a for women.
    r = rec(plan_of(b.cardiometabolic()), "af:anticoagulation")
    assert r.strength == "Class 2a" and r.action == "start"


def test_cha2ds2_vasc_3_in_a_woman_is_recommended_and_continue_when_anticoagulated():
    older = [b.patient("p1", birth="1955-03-01"), *b.cardiometabolic()[1:]]  # age 70: +1
    r = rec(plan_of(older), "af:anticoagulation")
    assert r.strength == "Class 1" and r.severity == Severity.HIGH
    on = [*older, b.med("api", "1364430", "apixaban 5 MG Oral Tablet")]
    assert rec(plan_of(on), "af:anticoagulation").action == "continue"


def test_warfarin_draft_gets_iwpc_pharmacogenetic_dose():
    # IWPC (NEJM 2009) by hand: sqrt(dose) = 5.6044 − 0.2614×6 (age 62) + 0.0087×165
    # + 0.0128×85 − 0.8677 (VKORC1 A/G) − 0.9357 (CYP2C9 *1/*3) = 4.7561 → 22.62 mg/week.
    draft = b.med("w", "11289", "warfarin 5 MG Oral Tablet", status="draft", mg=5)
    r = rec(plan_of(b.cardiometabolic(), [draft]), "drug:warfarin")
    assert r.details["algorithm"] == "pharmacogenetic"
    assert r.details["mg_per_day"] == pytest.approx(22.62 / 7, abs=0.01)
    assert r.severity == Severity.MODERATE  # 5 mg/day ordered is > 20% above 3.2
    assert r.alternatives[0].dose == "3.2 mg daily"


def test_has_bled_missing_alcohol_gives_no_bleeding_card_built_on_a_guess():
    # HAS-BLED needs alcohol use, which the record mapping does not read: no score, no card.
    plan = plan_of(b.cardiometabolic())
    has_bled = next(f for f in plan.findings if f.details.get("calculator") == "has-bled")
    assert has_bled.value is None and "alcohol" in has_bled.summary
    assert not [r for r in plan.recommendations if r.key == "af:bleeding-risk"]


# ---------------------------------------------------------------------------------- kidney
@pytest.mark.parametrize(
    ("egfr", "stage"),
    [(95, "G1"), (90, "G1"), (89.9, "G2"), (60, "G2"), (59, "G3a"), (45, "G3a"), (44, "G3b"),
     (30, "G3b"), (29, "G4"), (15, "G4"), (14.9, "G5")],
)  # fmt: skip
def test_kdigo_gfr_categories_at_every_edge(egfr, stage):
    assert egfr_stage(egfr) == stage


def test_egfr_40_8_is_g3b_and_metformin_and_ibuprofen_get_renal_warnings():
    # CKD-EPI 2021, woman 62, creatinine 1.45 mg/dL: 142 × (1.45/0.7)^−1.2 × 0.9938^62 × 1.012
    # = 40.8 mL/min/1.73 m² → KDIGO G3b.
    drafts = [
        b.med("m", "6809", "metformin 500 MG Oral Tablet", status="draft"),
        b.med("i", "5640", "ibuprofen 400 MG Oral Tablet", status="draft"),
    ]
    plan = plan_of(b.cardiometabolic(), drafts)
    stage = rec(plan, "kidney:stage")
    assert stage.details["stage"] == "G3b" and stage.details["egfr"] == pytest.approx(40.8)
    assert rec(plan, "renal:metformin").action == "reassess"  # FDA 2016: eGFR 30–45
    ibu = rec(plan, "renal:ibuprofen")
    assert ibu.action == "use-with-caution" and ibu.drug is not None
    assert ibu.drug.code == "5640"


# -------------------------------------------------------------------------------- diabetes
def test_findrisc_lower_bound_17_is_enough_to_screen():
    # age 62 → 3, BMI 31.2 → 3, waist 96 cm (woman) → 4, antihypertensive → 2, HbA1c 5.9% ever
    # high → 5: at least 17 whatever the unknown answers (activity, diet, family).
    r = rec(plan_of(b.cardiometabolic()), "diabetes:findrisc")
    assert r.action == "screen" and r.details["low"] == 17
    assert r.details["high"] == 17 + 2 + 1 + 5


def test_complete_findrisc_gives_score_and_what_ifs():
    q = "https://pmed.dev/fhir/CodeSystem/questionnaire"

    def answer(oid, code, value):
        return {"resourceType": "Observation", "id": oid, "status": "final",
                "code": {"coding": [{"system": q, "code": code}]},
                "subject": {"reference": "Patient/p1"}, "valueBoolean": value}  # fmt: skip

    diabetes = {"coding": [{"system": b.SNOMED, "code": "44054006"}]}
    fmh = {"resourceType": "FamilyMemberHistory", "id": "fh", "status": "completed",
           "patient": {"reference": "Patient/p1"},
           "relationship": {"coding": [{"code": "MTH"}]},
           "condition": [{"code": diabetes}]}  # fmt: skip
    resources = [*b.cardiometabolic(), answer("q1", "daily-fruit-vegetables", False),
                 answer("q2", "physical-activity-30min", False), fmh]  # fmt: skip
    r = rec(plan_of(resources), "diabetes:findrisc")
    # 17 + no activity 2 + no daily fruit 1 + mother 5 = 25 → very high.
    assert r.details["score"] == 25 and r.action == "screen"
    whatifs = r.explanation.what_ifs
    assert whatifs and all(w.absolute_change < 0 for w in whatifs)
    assert whatifs[0].changes == {"waist_cm": 79.0}  # waist 96 → 79: −4 points, the largest
    assert "score would drop from 25" in r.patient_text


def test_hba1c_6_5_without_diagnosis_is_flagged():
    resources = [*b.cardiometabolic()[: -0 or None]]
    resources = [x for x in resources if x.get("id") != "a1c"] + [b.obs("a1c", "4548-4", 6.8, "%")]
    assert rec(plan_of(resources), "diabetes:undiagnosed").severity == Severity.HIGH


# ------------------------------------------------------------------------ duplicates, merge
def test_second_statin_ordered_is_duplicate_therapy():
    on = [*b.cardiometabolic(), b.med("sim", "36567", "simvastatin 20 MG Oral Tablet")]
    draft = b.med("d1", "83367", "atorvastatin 10 MG Oral Tablet", status="draft", mg=10)
    r = rec(plan_of(on, [draft]), "duplicate:MedicationRequest/d1")
    assert r.action == "avoid" and r.details["active"] == "MedicationRequest/sim"


def test_merge_keeps_the_most_urgent_and_unions_evidence():
    a = Recommendation(
        key="drug:x",
        topic="drug-gene",
        title="A",
        action="avoid",
        severity=Severity.HIGH,
        evidence=[Evidence(title="E1")],
        rules=["r1"],
    )
    c = Recommendation(key="drug:x", topic="antithrombotic", title="C", action="reduce-dose",
                       severity=Severity.LOW, evidence=[Evidence(title="E2")], rules=["r2"],
                       order_ref="MedicationRequest/1")  # fmt: skip
    merged = merge([c, a])
    assert len(merged) == 1 and merged[0].title == "A"
    assert [e.title for e in merged[0].evidence] == ["E1", "E2"]
    assert merged[0].rules == ["r1", "r2"] and merged[0].order_ref == "MedicationRequest/1"


def test_plan_is_deterministic_for_the_same_record():
    one = plan_of(b.cardiometabolic()).model_dump(mode="json")
    two = plan_of(b.cardiometabolic()).model_dump(mode="json")

    def strip(value):
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k != "generated"}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    assert strip(one) == strip(two)
    assert [r.key for r in plan_of(b.cardiometabolic()).recommendations] == [
        "drug:clopidogrel", "af:anticoagulation", "diabetes:findrisc", "kidney:stage",
        "statin:therapy",
    ]  # fmt: skip


def test_every_recommendation_cites_evidence_and_every_rule_module_cites_its_guideline():
    plan = plan_of(b.cardiometabolic(), [b.med("m", "6809", "metformin", status="draft")])
    assert all(r.evidence and all(e.title for e in r.evidence) for r in plan.recommendations)
    cited = {
        "pmed.care.statins": "2018 AHA/ACC",
        "pmed.care.antithrombotic": "ACC/AHA/ACCP/HRS",
        "pmed.care.kidney": "KDIGO 2012",
        "pmed.care.diabetes": "Lindström",
        "pmed.care.drug_gene": "CPIC",
    }
    for module, text in cited.items():
        assert text in (importlib.import_module(module).__doc__ or "")


def test_draft_order_without_coding_is_refused():
    from pmed.errors import InputError

    bad = {"resourceType": "MedicationRequest", "id": "x", "status": "draft", "intent": "order",
           "medicationCodeableConcept": {"text": "simvastatin"}}  # fmt: skip
    with pytest.raises(InputError, match="no medicationCodeableConcept coding"):
        parse_draft_orders({"resourceType": "Bundle", "entry": [{"resource": bad}]})
