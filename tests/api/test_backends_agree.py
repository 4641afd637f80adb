"""SQLite and PostgreSQL give identical answers to the same searches over the same record."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.api import dataset
from tests.api.conftest import Api, start_api

QUERIES = [
    "/Observation?date=ge2020-06-01&_sort=date",
    "/Observation?date=ne2021",
    "/Observation?code=2093-3,8480-6&_sort=-date",
    "/Observation?code=http://loinc.org|2093-3",
    "/Observation?category=vital-signs&patient=p1",
    "/Observation?_count=3&_getpagesoffset=3&_sort=date",
    "/Observation?code:not=2093-3",
    "/Patient?name=smi&_sort=birthdate",
    "/Patient?name=nunez",
    "/Patient?birthdate=1980",
    "/Patient?birthdate=lt1990&gender=male",
    "/Patient?_sort=-birthdate",
    "/Patient?identifier=A1",
    "/Condition?patient=p1",
    "/MedicationRequest?patient=p1",
    "/Patient?_summary=count",
    "/Patient/p1/$everything",
]


@pytest.fixture(scope="module")
def both(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Api, Api]]:
    sqlite = start_api("sqlite", tmp_path_factory, request)
    postgres = start_api("postgresql", tmp_path_factory, request)
    a, b = next(sqlite), next(postgres)
    dataset.load(a.client)
    dataset.load(b.client)
    yield a, b
    for gen in (postgres, sqlite):
        next(gen, None)


def _answer(api: Api, url: str) -> tuple[Any, list[tuple[str, str]], list[str]]:
    response = api.client.get(url)
    assert response.status_code == 200, response.text
    bundle = response.json()
    keys = [(e["resource"]["resourceType"], e["resource"]["id"]) for e in bundle.get("entry", [])]
    links = sorted(link["relation"] for link in bundle["link"])
    return bundle.get("total"), keys, links


@pytest.mark.parametrize("url", QUERIES)
def test_sqlite_and_postgresql_answer_identically(both: tuple[Api, Api], url: str) -> None:
    sqlite, postgres = both
    assert _answer(sqlite, url) == _answer(postgres, url)
