"""Structural validation of FHIR R4 resources, as the FHIR R4 (4.0.1) specification defines them.

Reference vectors: every official R4 example (tests/data/fhir/r4-examples) and every Synthea
resource (tests/data/fhir/synthea) must validate; hand-made malformed resources must be rejected
with the path of the offending element.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from pmed.errors import InputError
from pmed.knowledge import load
from pmed.record.validation import (
    ValidationIssue,
    known_resource_types,
    validate,
    validate_or_raise,
)
from tests.conftest import DATA

EXAMPLES = DATA / "fhir" / "r4-examples"
SYNTHEA = DATA / "fhir" / "synthea"

# Official examples that break the R4 structure definitions themselves. Keep this tiny.
KNOWN_INVALID = {
    # Questionnaire.item.linkId is 1..1, but the nested display/group items of this example
    # (a questionnaire for ExampleScenario) have none.
    "examplescenario-questionnaire.json": "Questionnaire.item[0].item[0].linkId",
}


def _paths(resource: dict[str, Any]) -> list[str]:
    return [issue.path for issue in validate(resource)]


def _messages(resource: Any) -> list[str]:
    return [str(issue) for issue in validate(resource)]


def observation(**extra: Any) -> dict[str, Any]:
    """A valid vital-signs Observation (blood pressure with two components)."""
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": "bp-1",
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "vital-signs",
                    }
                ]
            }
        ],
        "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}]},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2020-03-01T10:15:00+01:00",
        "issued": "2020-03-01T10:20:00.123Z",
        "component": [
            {
                "code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]},
                "valueQuantity": {"value": 120, "unit": "mm[Hg]"},
            },
            {
                "code": {"coding": [{"system": "http://loinc.org", "code": "8462-4"}]},
                "valueQuantity": {"value": 80.5, "unit": "mm[Hg]"},
            },
        ],
    }
    resource.update(extra)
    return resource


def patient(**extra: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": "p1",
        "active": True,
        "name": [{"family": "Smith", "given": ["Ann", "B."]}],
        "gender": "female",
        "birthDate": "1970-05-02",
    }
    resource.update(extra)
    return resource


# --- reference vectors -------------------------------------------------------------------


def _example_files() -> list[Path]:
    return sorted(EXAMPLES.glob("*.json"))


def test_all_official_examples_are_present() -> None:
    files = _example_files()
    assert len(files) == 604
    types = {json.loads(p.read_text(encoding="utf-8"))["resourceType"] for p in files}
    assert len(types) == 141


@pytest.mark.parametrize("path", _example_files(), ids=lambda p: p.name)
def test_official_r4_example_validates(path: Path) -> None:
    resource = json.loads(path.read_text(encoding="utf-8"))
    issues = validate(resource)
    if path.name in KNOWN_INVALID:
        assert KNOWN_INVALID[path.name] in [i.path for i in issues]
    else:
        assert issues == [], [str(i) for i in issues[:5]]


def test_synthea_bundles_validate_entry_by_entry_and_whole() -> None:
    files = sorted(SYNTHEA.glob("*.json"))
    if not files:
        pytest.skip("no Synthea bundles in tests/data/fhir/synthea")
    count = 0
    for path in files:
        bundle = json.loads(path.read_text(encoding="utf-8"))
        assert validate(bundle) == [], path.name
        for entry in bundle["entry"]:
            assert validate(entry["resource"]) == [], (path.name, entry["fullUrl"])
            count += 1
    assert count > 1000


def test_knowledge_file_is_r4_4_0_1_with_cc0_provenance() -> None:
    knowledge = load("fhir/r4_structure")
    assert knowledge.provenance.version == "4.0.1"
    assert "CC0" in knowledge.provenance.licence
    assert knowledge.data["fhir_version"] == "4.0.1"


def test_known_resource_types_are_the_146_of_r4() -> None:
    types = known_resource_types()
    assert len(types) == 146
    assert {"Observation", "Patient", "Bundle", "MedicationKnowledge"} <= types
    assert not types & {"DomainResource", "Resource", "SubscriptionStatus", "Foo"}


# --- valid shapes ------------------------------------------------------------------------


def test_valid_observation_and_patient_have_no_issues() -> None:
    assert validate(observation()) == []
    assert validate(patient()) == []


def test_primitive_extension_alone_satisfies_a_required_element() -> None:
    obs = observation()
    del obs["status"]
    obs["_status"] = {
        "extension": [{"url": "http://example.org/why", "valueString": "not recorded"}]
    }
    assert validate(obs) == []


def test_primitive_array_extensions_line_up_with_nulls() -> None:
    p = patient(
        name=[
            {
                "given": ["Ann", None],
                "_given": [None, {"extension": [{"url": "http://e.org/x", "valueCode": "IN"}]}],
            }
        ]
    )
    assert validate(p) == []


def test_all_reference_shapes_allowed_at_ingest() -> None:
    for ref in (
        "Patient/p1",
        "Patient/p1/_history/2",
        "urn:uuid:0dd77edd-bffd-4258-ac40-c07af6dd734a",
        "urn:oid:1.2.3.4",
        "#p1",
        "https://fhir.example.org/r4/Patient/123",
        "Patient?identifier=http://hl7.org/fhir/sid/us-npi|9999941199",
    ):
        assert validate(observation(subject={"reference": ref})) == [], ref


# --- malformed resources ------------------------------------------------------------------


@pytest.mark.parametrize("element", ["status", "code"])
def test_observation_without_required_element_is_rejected(element: str) -> None:
    obs = observation()
    del obs[element]
    assert _messages(obs) == [f"Observation.{element}: required element is missing"]


def test_required_choice_missing_names_the_choices() -> None:
    med_request = {
        "resourceType": "MedicationRequest",
        "status": "active",
        "intent": "order",
        "subject": {"reference": "Patient/p1"},
    }
    (issue,) = validate(med_request)
    assert issue.path == "MedicationRequest.medication[x]"
    assert "medicationCodeableConcept" in issue.message
    assert "medicationReference" in issue.message


def test_wrong_primitive_type_in_nested_component_names_the_path() -> None:
    obs = observation()
    obs["component"][1]["valueQuantity"]["value"] = "abc"
    assert _messages(obs) == [
        'Observation.component[1].valueQuantity.value: expected a number, got "abc"'
    ]


@pytest.mark.parametrize(
    ("element", "value", "expected"),
    [
        ("active", "true", 'Patient.active: expected true or false, got "true"'),
        ("gender", 1, "Patient.gender: expected a valid code (a string), got 1"),
        ("gender", " female", 'Patient.gender: not a valid code: " female"'),
        ("id", "p 1", 'Patient.id: not a valid id: "p 1"'),
        ("multipleBirthInteger", 1.5, "Patient.multipleBirthInteger: expected an integer, got 1.5"),
        (
            "multipleBirthInteger",
            2**31,
            f"Patient.multipleBirthInteger: expected an integer, got {2**31}",
        ),
        ("deceasedBoolean", None, "Patient.deceasedBoolean: null is not allowed here"),
    ],
)
def test_wrong_primitive_values_are_rejected(element: str, value: Any, expected: str) -> None:
    assert _messages(patient(**{element: value})) == [expected]


@pytest.mark.parametrize(
    "birth_date", ["1970-13-01", "02/05/1970", "1970-5-2", "1970-05-02T10:00:00Z", ""]
)
def test_bad_date_formats_are_rejected(birth_date: str) -> None:
    (issue,) = validate(patient(birthDate=birth_date))
    assert issue.path == "Patient.birthDate"


@pytest.mark.parametrize("partial", ["1970", "1970-05", "1970-05-02"])
def test_partial_dates_are_valid(partial: str) -> None:
    assert validate(patient(birthDate=partial)) == []


@pytest.mark.parametrize(
    ("element", "value"),
    [
        ("effectiveDateTime", "2020-03-01T10:15"),  # time without seconds
        ("effectiveDateTime", "2020-03-01T10:15:00"),  # time without a zone
        ("issued", "2020-03-01"),  # an instant needs the time and zone
    ],
)
def test_bad_date_times_and_instants_are_rejected(element: str, value: str) -> None:
    assert _paths(observation(**{element: value})) == [f"Observation.{element}"]


def test_positive_int_zero_is_rejected() -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"search": {"mode": "match", "score": 1}}],
        "total": -1,  # unsignedInt
    }
    assert _messages(bundle) == ["Bundle.total: expected a non-negative integer, got -1"]


def test_two_choice_types_at_once_are_rejected() -> None:
    obs = observation(valueQuantity={"value": 1}, valueString="one")
    (issue,) = validate(obs)
    assert issue.path == "Observation.valueString"
    assert "only one of value[x]" in issue.message


def test_choice_type_not_allowed_for_the_element_is_rejected() -> None:
    (issue,) = validate(observation(valueDate="2020-01-01"))  # Observation.value[x] has no date
    assert issue.path == "Observation.valueDate"
    assert "not an allowed type of value[x]" in issue.message
    assert "valueDateTime" in issue.message


def test_unknown_element_is_rejected() -> None:
    assert _messages(patient(favouriteColour="blue")) == [
        "Patient.favouriteColour: unknown element"
    ]


def test_extension_on_a_complex_element_or_on_an_id_is_rejected() -> None:
    assert _paths(observation(_code={"id": "x"})) == ["Observation._code"]
    assert _paths(
        patient(_id={"extension": [{"url": "http://e.org/x", "valueBoolean": True}]})
    ) == ["Patient._id"]


def test_array_where_single_value_expected_is_rejected() -> None:
    obs = observation()
    obs["code"] = [obs["code"]]
    assert _messages(obs) == ["Observation.code: expected a single value, got an array"]
    assert _messages(patient(birthDate=["1970-05-02"])) == [
        "Patient.birthDate: expected a single value, got an array"
    ]


def test_single_value_where_array_expected_is_rejected() -> None:
    assert _messages(patient(name={"family": "Smith"})) == [
        "Patient.name: expected an array, got an object"
    ]
    assert _messages(patient(name=[{"family": "Smith", "given": "Ann"}])) == [
        'Patient.name[0].given: expected an array, got "Ann"'
    ]


def test_empty_arrays_objects_and_strings_are_rejected() -> None:
    assert _messages(patient(name=[])) == ["Patient.name: empty array is not allowed"]
    assert _messages(patient(name=[{}])) == ["Patient.name[0]: empty object is not allowed"]
    assert _messages(patient(name=[{"family": ""}])) == [
        "Patient.name[0].family: empty string is not allowed"
    ]


def test_empty_uri_is_rejected_though_its_regex_allows_it() -> None:
    assert _messages(patient(implicitRules="")) == ['Patient.implicitRules: not a valid uri: ""']
    assert validate(patient(implicitRules="http://example.org/rules")) == []


def test_null_in_primitive_array_without_extension_is_rejected() -> None:
    assert _messages(patient(name=[{"given": ["Ann", None]}])) == [
        "Patient.name[0].given[1]: null is not allowed here"
    ]


def test_misaligned_primitive_array_extensions_are_rejected() -> None:
    p = patient(name=[{"given": ["Ann", "B."], "_given": [None]}])
    assert _paths(p) == ["Patient.name[0]._given"]


def test_extension_needs_url_and_one_value() -> None:
    p = patient(extension=[{"valueString": "x", "valueBoolean": True}])
    assert sorted(_paths(p)) == ["Patient.extension[0].url", "Patient.extension[0].valueBoolean"]


@pytest.mark.parametrize(
    "ref", ["Patient 123", "patient/123", "Foo/123", "123", "Patient/", "urn:uuid:nope", ""]
)
def test_bad_reference_shapes_are_rejected(ref: str) -> None:
    assert _paths(observation(subject={"reference": ref})) == ["Observation.subject.reference"]


def test_unknown_or_missing_resource_type_is_rejected() -> None:
    assert _messages({"resourceType": "Foo", "id": "1"}) == [
        'resourceType: unknown resource type "Foo"'
    ]
    assert _messages({"id": "1"}) == ["resourceType: required element is missing"]
    assert _messages(["not", "a", "resource"]) == [
        "expected a resource (a JSON object), got an array"
    ]


def test_error_inside_bundle_entry_names_the_entry() -> None:
    bad = observation()
    del bad["status"]
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"fullUrl": "urn:uuid:0dd77edd-bffd-4258-ac40-c07af6dd734a", "resource": patient()},
            {"resource": bad, "request": {"method": "POST", "url": "Observation"}},
        ],
    }
    assert _messages(bundle) == ["Bundle.entry[1].resource.status: required element is missing"]


def test_unknown_resource_type_inside_bundle_is_rejected() -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": {"resourceType": "Nope"}}],
    }
    assert _paths(bundle) == ["Bundle.entry[0].resource.resourceType"]


def test_error_inside_contained_resource_names_the_contained_element() -> None:
    obs = observation(contained=[patient(birthDate="May 1970")], subject={"reference": "#p1"})
    assert _paths(obs) == ["Observation.contained[0].birthDate"]


def test_resource_typed_element_accepts_only_its_resource_type() -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction-response",
        "entry": [{"response": {"status": "400", "outcome": patient()}}],
    }
    (issue,) = validate(bundle)
    assert issue.path == "Bundle.entry[0].response.outcome.resourceType"
    assert "OperationOutcome" in issue.message


def test_backbone_elements_recurse_through_content_references() -> None:
    questionnaire = {
        "resourceType": "Questionnaire",
        "status": "active",
        "item": [{"linkId": "1", "type": "group", "item": [{"type": "string", "text": "Name?"}]}],
    }
    assert _messages(questionnaire) == [
        "Questionnaire.item[0].item[0].linkId: required element is missing"
    ]


def test_element_typed_parts_of_data_types_take_no_modifier_extension() -> None:
    timing = {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d", "modifierExtension": []}}
    med = {
        "resourceType": "MedicationRequest",
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": {"text": "aspirin"},
        "subject": {"reference": "Patient/p1"},
        "dosageInstruction": [{"timing": timing}],
    }
    assert _paths(med) == ["MedicationRequest.dosageInstruction[0].timing.repeat.modifierExtension"]


JUNK: list[Any] = [None, [], {}, "", [None], [[1]], [{}], {"a": 1}, float("nan"), True]


@pytest.mark.parametrize("junk", JUNK, ids=repr)
@pytest.mark.parametrize(
    "where",
    [
        ("status",),  # code
        ("code",),  # CodeableConcept
        ("category",),  # array of CodeableConcept
        ("effectiveDateTime",),  # dateTime in a choice
        ("component", 0, "valueQuantity", "value"),  # decimal
        ("component", 1, "code", "coding", 0, "system"),  # uri deep in an array
        ("subject", "reference"),  # reference string
    ],
    ids=lambda w: ".".join(map(str, w)),
)
def test_junk_anywhere_is_reported_at_that_element(where: tuple[Any, ...], junk: Any) -> None:
    obs = observation()
    target = obs
    for step in where[:-1]:
        target = target[step]
    target[where[-1]] = junk
    path = "Observation" + "".join(
        f"[{step}]" if isinstance(step, int) else f".{step}" for step in where
    )
    paths = _paths(obs)
    assert paths, f"{path} = {junk!r} was accepted"
    assert all(p.startswith(path) for p in paths), paths


def test_every_issue_is_reported() -> None:
    obs = observation(foo=1, status="not a code ")
    del obs["code"]
    assert sorted(_paths(obs)) == ["Observation.code", "Observation.foo", "Observation.status"]


def test_validate_does_not_modify_the_resource() -> None:
    obs = observation(valueString="x", valueBoolean=True)
    before = copy.deepcopy(obs)
    validate(obs)
    assert obs == before


# --- validate_or_raise --------------------------------------------------------------------


def test_validate_or_raise_passes_valid_resources() -> None:
    validate_or_raise(observation(), file="x.json", entry=0)  # raises on any issue
    validate_or_raise(patient())


def test_validate_or_raise_reports_the_first_issue_with_location() -> None:
    obs = observation(foo=1)
    del obs["status"]
    with pytest.raises(InputError) as caught:
        validate_or_raise(obs, file="bundle.json", entry=7)
    error = caught.value
    assert error.file == "bundle.json"
    assert error.entry == 7
    assert error.field in {"Observation.foo", "Observation.status"}
    assert "and 1 more issue" in error.reason
    assert str(error).startswith("bundle.json, entry 7, at Observation.")


def test_issue_string_is_path_then_message() -> None:
    assert str(ValidationIssue("Patient.gender", "required element is missing")) == (
        "Patient.gender: required element is missing"
    )
