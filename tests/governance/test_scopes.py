"""SMART v2 scopes, with v1 read/write accepted, and launch context flags."""

from __future__ import annotations

import pytest

from pmed.errors import InputError
from pmed.governance.scopes import ScopeSet, parse_scope


def test_v2_cruds_letters_grant_exactly_their_interactions() -> None:
    s = parse_scope("patient/Observation.rs")
    assert s is not None and s.context == "patient" and s.resource_type == "Observation"
    assert s.interactions == frozenset("rs")
    assert s.covers("Observation", "r") and s.covers("Observation", "s")
    assert not s.covers("Observation", "c") and not s.covers("Condition", "r")


def test_v1_read_and_write_map_to_v2_letters() -> None:
    assert parse_scope("user/*.read").interactions == frozenset("rs")  # type: ignore[union-attr]
    assert parse_scope("user/Patient.write").interactions == frozenset("cud")  # type: ignore[union-attr]
    assert parse_scope("system/*.*").interactions == frozenset("cruds")  # type: ignore[union-attr]


def test_wildcard_type_covers_every_type() -> None:
    scopes = ScopeSet("user/*.cruds")
    assert scopes.permits("MedicationRequest", "d", {"user"})
    assert not scopes.permits("MedicationRequest", "d", {"patient"})


@pytest.mark.parametrize(
    "bad",
    [
        "patient/Observation.sr",
        "user/Patient.x",
        "patient/observation.r",
        "system/*.",
        "user/Patient.rs?name=x",
    ],
)
def test_malformed_resource_scopes_are_rejected(bad: str) -> None:
    with pytest.raises(InputError):
        parse_scope(bad)


def test_launch_patient_and_openid_are_flags_not_resource_scopes() -> None:
    scopes = ScopeSet("openid fhirUser launch/patient patient/*.rs")
    assert scopes.launch_patient
    assert {"openid", "fhirUser", "launch/patient"} <= scopes.flags
    assert len(scopes.resource_scopes) == 1


def test_a_v2_query_narrows_a_scope_to_matching_resources() -> None:
    scopes = ScopeSet("patient/Observation.rs?category=laboratory")
    lab = {
        "resourceType": "Observation",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "laboratory",
                    }
                ]
            }
        ],
    }
    vitals = {"resourceType": "Observation", "category": [{"coding": [{"code": "vital-signs"}]}]}
    assert scopes.permits("Observation", "r", {"patient"}, lab)
    assert not scopes.permits("Observation", "r", {"patient"}, vitals)
    assert scopes.narrowed("Observation", "r", {"patient"})
