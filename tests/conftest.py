"""Shared fixtures: a fresh store on SQLite and on PostgreSQL for every test that asks for one."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from pmed.config import Settings
from tests.postgres_cluster import PostgresCluster, find_bindir

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster | None]:
    required = os.environ.get("PMED_TEST_POSTGRES") == "required"
    bindir = find_bindir()
    if bindir is None:
        if required:
            pytest.fail("PMED_TEST_POSTGRES=required but no pg_ctl/initdb found")
        yield None
        return
    cluster = PostgresCluster(bindir)
    try:
        cluster.start()
    except Exception as exc:  # pragma: no cover - depends on the machine
        if required:
            pytest.fail(f"could not start PostgreSQL: {exc}")
        yield None
        return
    yield cluster
    cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    """Settings for an empty store on the parametrised backend."""
    if backend == "sqlite":
        return Settings(home=tmp_path / "home")
    cluster = request.getfixturevalue("postgres_cluster")
    if cluster is None:
        pytest.skip("PostgreSQL is not available here (set PMED_TEST_POSTGRES=required to fail)")
    return Settings(home=tmp_path / "home", database_url=cluster.new_database())


@pytest.fixture
def sqlite_settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home")
