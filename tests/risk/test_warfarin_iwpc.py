"""IWPC warfarin dose (NEJM 2009, Appendix S1e): wiring of decades, genotypes, race, drugs."""

from __future__ import annotations

import pytest

from pmed.errors import InputError
from pmed.findings import FindingKind
from pmed.risk import calculate
from pmed.risk.from_record import vkorc1_genotype
from tests.risk.builders import warfarin_inputs


def test_pharmacogenetic_dose_is_the_square_of_the_published_sum() -> None:
    # 58-year-old (decade 5), 170 cm, 70 kg, Asian, VKORC1 A/A, CYP2C9 *1/*3, on amiodarone
    root = (5.6044 - 0.2614 * 5 + 0.0087 * 170 + 0.0128 * 70 - 1.6974 - 0.9357 - 0.1092
            - 0.5503)  # fmt: skip
    finding = calculate("warfarin-iwpc", warfarin_inputs(
        age=58, height_cm=170, weight_kg=70, race="asian", vkorc1="A/A", cyp2c9="*1/*3",
        amiodarone=True))  # fmt: skip
    assert finding.kind == FindingKind.DOSE
    assert finding.value == pytest.approx(root**2, abs=1e-3)
    assert finding.details["algorithm"] == "pharmacogenetic"
    assert finding.details["mg_per_day"] == pytest.approx(root**2 / 7, abs=1e-3)


def test_clinical_algorithm_is_used_without_genotypes() -> None:
    # 72-year-old (decade 7), 160 cm, 60 kg, Black, on an enzyme inducer
    root = 4.0376 - 0.2546 * 7 + 0.0118 * 160 + 0.0134 * 60 + 0.4060 + 1.2799
    finding = calculate("warfarin-iwpc", warfarin_inputs(
        age=72, height_cm=160, weight_kg=60, race="black", enzyme_inducer=True))  # fmt: skip
    assert finding.details["algorithm"] == "clinical"
    assert finding.value == pytest.approx(root**2, abs=1e-3)


def test_one_known_genotype_uses_the_unknown_coefficient_for_the_other() -> None:
    root = 5.6044 - 0.2614 * 5 + 0.0087 * 175 + 0.0128 * 80 - 0.8677 - 0.2188
    finding = calculate("warfarin-iwpc", warfarin_inputs(vkorc1="G/A"))
    assert finding.value == pytest.approx(root**2, abs=1e-3)
    assert finding.details["cyp2c9"] is None and finding.details["vkorc1"] == "A/G"


@pytest.mark.parametrize(("age", "decades"), [(18, 1), (29, 2), (30, 3), (89, 8), (95, 9)])
def test_age_enters_as_iwpc_decade_category(age: int, decades: int) -> None:
    finding = calculate("warfarin-iwpc", warfarin_inputs(age=age, cyp2c9="*1/*1"))
    assert finding.details["age_decades"] == decades


def test_cyp2c9_order_does_not_matter_and_unmodelled_alleles_are_refused() -> None:
    a = calculate("warfarin-iwpc", warfarin_inputs(cyp2c9="*3/*1"))
    b = calculate("warfarin-iwpc", warfarin_inputs(cyp2c9="*1/*3"))
    assert a.value == b.value
    with pytest.raises(InputError, match="cyp2c9"):
        calculate("warfarin-iwpc", warfarin_inputs(cyp2c9="*1/*8"))


def test_explanation_terms_sum_to_the_square_root_of_the_weekly_dose() -> None:
    finding = calculate("warfarin-iwpc", warfarin_inputs(vkorc1="A/G", cyp2c9="*2/*3"))
    total = sum(c.contribution for c in finding.explanation.contributions)
    assert total**2 == pytest.approx(finding.value, rel=1e-6)


@pytest.mark.parametrize(
    ("diplotype", "genotype"),
    [
        ("rs9923231 reference (C)/rs9923231 reference (C)", "G/G"),
        ("rs9923231 reference (C)/rs9923231 variant (T)", "A/G"),
        ("rs9923231 variant (T)/rs9923231 variant (T)", "A/A"),
        ("G/A", "A/G"),
        ("something else", None),
    ],
)
def test_vkorc1_genotype_from_a_pharmcat_diplotype(diplotype: str, genotype: str | None) -> None:
    assert vkorc1_genotype(diplotype) == genotype
