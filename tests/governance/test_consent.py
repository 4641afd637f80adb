"""Consent matrix: each kind of patient Consent against each kind of access."""

from __future__ import annotations

import pytest

from pmed.governance import consent as c
from pmed.governance.consent import ConsentRequest, evaluate
from pmed.governance.sensitivity import categories_of

GENOMIC = {
    "resourceType": "Observation",
    "id": "g1",
    "code": {"coding": [{"system": "http://loinc.org", "code": "84413-4"}]},
}
DEPRESSION = {
    "resourceType": "Condition",
    "id": "m1",
    "code": {"coding": [{"system": "http://snomed.info/sct", "code": "35489007"}]},
}
F_CODE = {
    "resourceType": "Condition",
    "id": "m2",
    "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "F32.9"}]},
}
HIV = {
    "resourceType": "Condition",
    "id": "s1",
    "code": {"coding": [{"system": "http://snomed.info/sct", "code": "86406008"}]},
}
LABELLED = {
    "resourceType": "DocumentReference",
    "id": "d1",
    "meta": {
        "security": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "PSY"}]
    },
}
LDL = {
    "resourceType": "Observation",
    "id": "l1",
    "code": {"coding": [{"system": "http://loinc.org", "code": "18262-6"}]},
}
DIABETES = {
    "resourceType": "Condition",
    "id": "d2",
    "code": {"coding": [{"system": "http://snomed.info/sct", "code": "44054006"}]},
}

DR = frozenset({"Practitioner/dr"})
PSYCH = frozenset({"Practitioner/psych"})
ACME = frozenset({"Practitioner/dr", "Organization/acme"})

CONSENTS = {
    "none": [],
    "research-opt-out": [c.research_opt_out("p")],
    "restrict-genomics": [c.restrict_category("p", "genomics")],
    "restrict-mental-health-but-psych": [
        c.restrict_category("p", "mental-health", except_actors=["Practitioner/psych"])
    ],
    "restrict-sexual-health": [c.restrict_category("p", "sexual-health")],
    "restrict-code-set": [c.restrict_codes("p", [("http://snomed.info/sct", "44054006")])],
    "deny-acme": [c.deny_actor("p", "Organization/acme")],
    "allow-only-psych": [c.allow_only("p", ["Practitioner/psych"])],
}

# (consent, actors, purpose, resource) -> permitted
R = "HRESCH"
MATRIX = [
    ("none", DR, "TREAT", LDL, True),
    ("none", DR, R, GENOMIC, True),
    ("research-opt-out", DR, "TREAT", GENOMIC, True),
    ("research-opt-out", DR, R, LDL, False),
    ("research-opt-out", DR, R, None, False),
    ("restrict-genomics", DR, "TREAT", GENOMIC, False),
    ("restrict-genomics", DR, "TREAT", LDL, True),
    ("restrict-genomics", DR, R, GENOMIC, False),
    ("restrict-genomics", DR, "TREAT", None, True),
    ("restrict-mental-health-but-psych", DR, "TREAT", DEPRESSION, False),
    ("restrict-mental-health-but-psych", DR, "TREAT", F_CODE, False),
    ("restrict-mental-health-but-psych", DR, "TREAT", LABELLED, False),
    ("restrict-mental-health-but-psych", PSYCH, "TREAT", DEPRESSION, True),
    ("restrict-mental-health-but-psych", DR, "TREAT", LDL, True),
    ("restrict-sexual-health", DR, "TREAT", HIV, False),
    ("restrict-sexual-health", DR, "TREAT", DEPRESSION, True),
    ("restrict-code-set", DR, "TREAT", DIABETES, False),
    ("restrict-code-set", DR, "TREAT", LDL, True),
    ("deny-acme", ACME, "TREAT", LDL, False),
    ("deny-acme", ACME, "TREAT", None, False),
    ("deny-acme", DR, "TREAT", LDL, True),
    ("allow-only-psych", DR, "TREAT", LDL, False),
    ("allow-only-psych", PSYCH, "TREAT", LDL, True),
    ("allow-only-psych", DR, "TREAT", None, False),
]


@pytest.mark.parametrize(
    ("name", "actors", "purpose", "resource", "permitted"),
    MATRIX,
    ids=[f"{m[0]}-{sorted(m[1])[0]}-{m[2]}-{(m[3] or {}).get('id', 'patient')}" for m in MATRIX],
)
def test_consent_matrix(
    name: str, actors: frozenset, purpose: str, resource: dict | None, permitted: bool
) -> None:
    decision = evaluate(CONSENTS[name], ConsentRequest(actors, purpose, resource))
    assert decision.permitted is permitted, decision


def test_break_the_glass_overrides_a_category_restriction_but_not_a_named_denial() -> None:
    btg = ConsentRequest(DR, "ETREAT", GENOMIC, break_glass=True)
    d = evaluate(CONSENTS["restrict-genomics"], btg)
    assert d.permitted and d.overridden
    assert not evaluate(CONSENTS["deny-acme"], ConsentRequest(ACME, "ETREAT", LDL, True)).permitted


def test_inactive_or_expired_consents_do_not_apply() -> None:
    inactive = {**c.restrict_category("p", "genomics"), "status": "inactive"}
    assert evaluate([inactive], ConsentRequest(DR, "TREAT", GENOMIC)).permitted
    expired = c.restrict_category("p", "genomics")
    expired["provision"]["period"] = {"start": "2001-01-01", "end": "2002-01-01"}
    assert evaluate([expired], ConsentRequest(DR, "TREAT", GENOMIC)).permitted
    current = c.restrict_category("p", "genomics")
    current["provision"]["period"] = {"start": "2001-01-01"}
    assert not evaluate([current], ConsentRequest(DR, "TREAT", GENOMIC)).permitted


def test_deny_wins_across_several_consents() -> None:
    both = CONSENTS["allow-only-psych"] + CONSENTS["restrict-mental-health-but-psych"]
    assert evaluate(both, ConsentRequest(PSYCH, "TREAT", DEPRESSION)).permitted
    assert not evaluate(
        both + CONSENTS["deny-acme"], ConsentRequest(PSYCH | {"Organization/acme"}, "TREAT", LDL)
    ).permitted


def test_sensitive_categories_are_recognised_by_code_and_label() -> None:
    assert categories_of(GENOMIC) == {"genomics"}
    assert categories_of(DEPRESSION) == {"mental-health"}
    assert categories_of(F_CODE) == {"mental-health"}
    assert categories_of(HIV) == {"sexual-health"}
    assert categories_of(LABELLED) == {"mental-health"}
    assert categories_of({"resourceType": "MolecularSequence"}) == {"genomics"}
    assert categories_of(LDL) == frozenset()


def test_patients_may_only_record_consents_about_themselves() -> None:
    from pmed.errors import AccessDenied, InputError

    c.validate_patient_consent(c.research_opt_out("p"), "p")
    with pytest.raises(AccessDenied):
        c.validate_patient_consent(c.research_opt_out("q"), "p")
    with pytest.raises(InputError):
        c.validate_patient_consent({**c.research_opt_out("p"), "status": "bogus"}, "p")
    with pytest.raises(InputError):
        c.restrict_category("p", "astrology")


def test_cohort_extraction_can_list_every_research_opt_out_at_once(sqlite_settings) -> None:  # type: ignore[no-untyped-def]
    from pmed.governance.consent import ConsentEngine
    from pmed.record.store import Store

    store = Store.open(sqlite_settings)
    patients = [{"resourceType": "Patient", "id": f"p{i}"} for i in range(4)]
    store.write_batch([
        *patients,
        {**c.research_opt_out("p1"), "id": "a"},
        {**c.restrict_category("p2", "genomics"), "id": "b"},
        {**c.research_opt_out("p3"), "id": "c", "status": "inactive"},
    ])  # fmt: skip
    engine = ConsentEngine(store)
    assert engine.research_opted_out() == {"p1"}
    assert not engine.research_permitted("p1") and engine.research_permitted("p2")
