"""`Patient/{id}/$everything`: exactly the patient's compartment, Patient first, pageable."""

from __future__ import annotations

import pytest

from tests.api import dataset
from tests.api.conftest import Api, assert_outcome


@pytest.fixture(scope="module", autouse=True)
def record(api: Api) -> None:
    dataset.load(api.client)


def _keys(bundle: dict) -> list[tuple[str, str]]:
    return [(e["resource"]["resourceType"], e["resource"]["id"]) for e in bundle.get("entry", [])]


def test_everything_returns_exactly_the_compartment_with_the_patient_first(api: Api) -> None:
    response = api.client.get("/Patient/p1/$everything")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    bundle = response.json()
    assert bundle["type"] == "searchset"
    keys = _keys(bundle)
    assert keys[0] == ("Patient", "p1")
    assert set(keys) == dataset.P1_COMPARTMENT and len(keys) == len(dataset.P1_COMPARTMENT)
    assert bundle["total"] == len(dataset.P1_COMPARTMENT)
    assert bundle["entry"][1]["fullUrl"].startswith(api.base + "/")


def test_everything_of_another_patient_holds_none_of_p1s_data(api: Api) -> None:
    keys = set(_keys(api.client.get("/Patient/p3/$everything").json()))
    assert keys == {("Patient", "p3"), ("Observation", "o7"), ("Observation", "o8")}


def test_everything_pages_with_count(api: Api) -> None:
    url: str | None = f"{api.base}/Patient/p1/$everything?_count=3"
    seen: list[tuple[str, str]] = []
    while url:
        bundle = api.client.get(url).json()
        seen += _keys(bundle)
        assert len(_keys(bundle)) <= 3
        url = {link["relation"]: link["url"] for link in bundle["link"]}.get("next")
    assert len(seen) == len(set(seen)) == len(dataset.P1_COMPARTMENT)
    assert set(seen) == dataset.P1_COMPARTMENT


def test_everything_type_filter(api: Api) -> None:
    bundle = api.client.get("/Patient/p1/$everything?_type=Observation,Condition").json()
    assert {k for k in _keys(bundle)} == {
        ("Observation", "o1"),
        ("Observation", "o2"),
        ("Observation", "o3"),
        ("Observation", "o4"),
        ("Condition", "c1"),
    }


def test_everything_since_in_the_future_is_empty(api: Api) -> None:
    bundle = api.client.get("/Patient/p1/$everything?_since=2999-01-01T00:00:00Z").json()
    assert bundle["total"] == 0 and "entry" not in bundle


def test_everything_of_unknown_patient_is_404(api: Api) -> None:
    assert_outcome(api.client.get("/Patient/nobody/$everything"), 404, code="not-found")


def test_everything_rejects_unsupported_parameters(api: Api) -> None:
    assert_outcome(api.client.get("/Patient/p1/$everything?start=2020"), 400)
    assert_outcome(api.client.get("/Patient/p1/$everything?_type=Nonsense"), 400)
