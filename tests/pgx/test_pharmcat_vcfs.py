"""PharmCAT's own test VCFs (tests/data/pgx/test-vcfs, PharmCAT v3.1.1 tests, MPL-2.0).

Expected calls are in tests/data/pgx/expected_calls.tsv with their basis: the diplotype the file
name spells, PharmCAT's assertion (expected_from_pharmcat_tests.tsv), or, where the 2015-era file
name predates the current definitions or PharmCAT's scoring picks another phasing, the reason.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from pmed.pgx import call

DATA = Path(__file__).parents[1] / "data" / "pgx"
ROWS = list(csv.DictReader((DATA / "expected_calls.tsv").open(), delimiter="\t"))


def test_every_pharmcat_test_vcf_has_an_expectation() -> None:
    on_disk = {
        p.relative_to(DATA / "test-vcfs").as_posix() for p in (DATA / "test-vcfs").rglob("*.vcf")
    }
    assert len(on_disk) == 121
    assert {r["vcf"] for r in ROWS} == on_disk


@pytest.mark.parametrize("row", ROWS, ids=[r["vcf"] for r in ROWS])
def test_pharmcat_test_vcf_is_called_as_expected(row: dict[str, str]) -> None:
    result = call(DATA / "test-vcfs" / row["vcf"])
    assert len(result) == 1
    got = "; ".join(result[0].genes[row["gene"]].diplotypes) or "-"
    assert got == row["expected"], row["basis"]
