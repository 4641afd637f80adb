"""FHIR search semantics at the store, checked against hand-computed answers on both backends."""

from __future__ import annotations

import pytest

from pmed.config import Settings
from pmed.errors import InputError
from pmed.record.store import Store
from tests.record.builders import condition, observation, patient

CHOL, HDL = "2093-3", "2085-9"


@pytest.fixture
def store(settings: Settings) -> Store:
    store = Store.open(settings)
    store.write_batch(
        [
            patient("p1", "Smith", "Ann", "1970-05-02", "female"),
            patient("p2", "Smyth", "Bob", "1955-12-31", "male"),
            patient("p3", "Müller", "Jörg", "1990-01-15", "male"),
            observation("o1", "p1", CHOL, "2020-01-01T09:00:00Z", 210),
            observation("o2", "p1", CHOL, "2021-06-15T09:00:00Z", 190),
            observation("o3", "p1", HDL, "2021-06-15T09:00:00Z", 55),
            observation("o4", "p2", CHOL, "2019-12-31T23:30:00-05:00", 240),  # 2020-01-01 UTC
            observation("o5", "p2", "8480-6", "2022-03-01", 150, "mm[Hg]", "vital-signs"),
            condition("c1", "p1", "44054006", "2015-04-01"),
            condition("c2", "p2", "38341003", "2010-01-01"),
        ]
    )
    return store


def ids(page) -> list[str]:
    return [r["id"] for r in page.resources]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("2020-01-01", ["o1", "o4"]),
        ("eq2020", ["o1", "o4"]),
        ("ne2020", ["o2", "o3", "o5"]),
        ("gt2020-12-31", ["o2", "o3", "o5"]),
        ("lt2020-01-01", []),
        ("ge2021-06-15", ["o2", "o3", "o5"]),
        ("le2020-01-01", ["o1", "o4"]),
        ("sa2021", ["o5"]),
        ("eb2021", ["o1", "o4"]),
        ("2021-06", ["o2", "o3"]),
    ],
)
def test_observation_date_prefixes(store: Store, query: str, expected: list[str]) -> None:
    assert ids(store.search("Observation", [("date", query)])) == expected


def test_token_system_and_code_forms(store: Store) -> None:
    assert ids(store.search("Observation", [("code", f"http://loinc.org|{CHOL}")])) == [
        "o1",
        "o2",
        "o4",
    ]
    assert ids(store.search("Observation", [("code", CHOL)])) == ["o1", "o2", "o4"]
    assert ids(store.search("Observation", [("code", f"http://other|{CHOL}")])) == []
    assert ids(store.search("Observation", [("code", f"{CHOL},{HDL}")])) == ["o1", "o2", "o3", "o4"]
    assert ids(store.search("Observation", [("code:not", CHOL)])) == ["o3", "o5"]
    assert ids(store.search("Observation", [("category", "vital-signs")])) == ["o5"]


def test_patient_and_code_and_together(store: Store) -> None:
    page = store.search("Observation", [("patient", "p1"), ("code", CHOL)])
    assert ids(page) == ["o1", "o2"]
    assert ids(store.search("Observation", [("subject", "Patient/p2")])) == ["o4", "o5"]


def test_string_search_is_prefix_case_and_accent_insensitive(store: Store) -> None:
    assert ids(store.search("Patient", [("name", "sm")])) == ["p1", "p2"]
    assert ids(store.search("Patient", [("name", "MULLER")])) == ["p3"]
    assert ids(store.search("Patient", [("name:exact", "smith")])) == ["p1"]
    assert ids(store.search("Patient", [("family:contains", "yt")])) == ["p2"]
    assert ids(store.search("Patient", [("given", "jorg")])) == ["p3"]


def test_patient_birthdate_gender_identifier(store: Store) -> None:
    assert ids(store.search("Patient", [("birthdate", "lt1971")])) == ["p1", "p2"]
    assert ids(store.search("Patient", [("gender", "male"), ("birthdate", "ge1960")])) == ["p3"]
    assert ids(store.search("Patient", [("identifier", "urn:mrn|MRN-p2")])) == ["p2"]


def test_number_search_on_quantities(store: Store) -> None:
    assert ids(store.search("Observation", [("value-quantity", "gt200")])) == ["o1", "o4"]
    assert ids(store.search("Observation", [("value-quantity", "le55")])) == ["o3"]


def test_sort_and_paging_walk_the_whole_result(store: Store) -> None:
    ordered = ids(store.search("Observation", [], sort="-date", count=100))
    assert ordered == ["o5", "o2", "o3", "o1", "o4"]  # ties broken by id
    assert ids(store.search("Observation", [], sort="date", count=100))[0] == "o4"
    pages = [ids(store.search("Observation", [], sort="_id", count=2, offset=o)) for o in (0, 2, 4)]
    assert pages == [["o1", "o2"], ["o3", "o4"], ["o5"]]
    assert store.search("Observation", [("patient", "p1")], summary_count=True).total == 3


def test_condition_by_code_and_onset(store: Store) -> None:
    assert ids(store.search("Condition", [("code", "44054006")])) == ["c1"]
    assert ids(store.search("Condition", [("onset-date", "lt2012")])) == ["c2"]


def test_unknown_parameter_and_bad_values_are_input_errors(store: Store) -> None:
    with pytest.raises(InputError, match="no search parameter 'colour'"):
        store.search("Observation", [("colour", "red")])
    with pytest.raises(InputError, match="not a FHIR date"):
        store.search("Observation", [("date", "ge20-01")])
    with pytest.raises(InputError, match="not supported"):
        store.search("Observation", [("code:exact", "x")])
