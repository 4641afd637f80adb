"""IWPC warfarin maintenance dose: pharmacogenetic and clinical algorithms.

International Warfarin Pharmacogenetics Consortium. Estimation of the warfarin dose with clinical
and pharmacogenetic data. N Engl J Med 2009;360:753-764, Supplementary Appendix (S1e: the
pharmacogenetic and clinical dosing algorithms). Both give the square root of the weekly dose:
dose (mg/week) = (β0 + Σβx)². Age enters in IWPC decade categories (1 = 10–19 years, ...,
9 = 90+). VKORC1 is the −1639G>A (rs9923231) genotype; CYP2C9 the *1/*2/*3 diplotype.

The pharmacogenetic algorithm is used when either genotype is known (the other then takes the
algorithm's "unknown" coefficient); with neither, the clinical algorithm. Genotypes come from the
record's PGx results when present, or are given directly. pmed.dosing builds on pmed.risk's
calculator framework (declared inputs, explanation, columns).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from pmed.errors import InputError
from pmed.findings import Code, Evidence, FindingKind, Severity
from pmed.knowledge import load
from pmed.risk import input_catalog as ic
from pmed.risk.bands import item
from pmed.risk.calculator import Calculator, Evaluation
from pmed.risk.inputs import flag, number, option

__all__ = ["WarfarinIwpc", "normalise_cyp2c9", "normalise_vkorc1"]

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
_CYP2C9 = ("*1/*1", "*1/*2", "*1/*3", "*2/*2", "*2/*3", "*3/*3")
_VKORC1 = ("g/g", "a/g", "a/a")


def normalise_cyp2c9(text: str) -> str:
    """`*3/*1` → `*1/*3`; refuses alleles the IWPC algorithm does not model."""
    alleles = sorted(a.strip() for a in str(text).split("/"))
    key = "/".join(alleles)
    if key not in _CYP2C9:
        raise InputError(
            f"cyp2c9 {text!r} is not modelled by IWPC (only *1, *2, *3: {', '.join(_CYP2C9)})",
            field="cyp2c9",
        )
    return key


def normalise_vkorc1(text: str) -> str:
    """`g/a` → `A/G` (VKORC1 −1639G>A, rs9923231)."""
    key = "/".join(sorted(a.strip().upper() for a in str(text).split("/")))
    if key.lower() not in _VKORC1:
        raise InputError(f"vkorc1 must be G/G, A/G or A/A, got {text!r}", field="vkorc1")
    return key


def age_decades(age: Any) -> Any:
    """IWPC decade category: 1 for 10–19 years ... 9 for 90 and over."""
    return np.minimum(np.floor(np.asarray(age, dtype=float) / 10.0), 9.0)


class WarfarinIwpc(Calculator):
    """IWPC warfarin dose (NEJM 2009, Appendix S1e)."""

    name = "warfarin-iwpc"
    title = "Warfarin maintenance dose (IWPC 2009)"
    unit = "mg/week"
    kind = FindingKind.DOSE
    code = Code(system=RXNORM, code="11289", display="warfarin")
    inputs = (
        ic.AGE,
        number("height_cm", "height", "cm", 100, 230, "LOINC 8302-2"),
        number("weight_kg", "body weight", "kg", 30, 250, "LOINC 29463-7"),
        ic.RACE,
        option(
            "vkorc1",
            "VKORC1 -1639G>A (rs9923231) genotype",
            (*_VKORC1, "g/a"),
            "PGx Observation VKORC1 (Genomics Reporting IG) or given",
            optional=True,
        ),
        option(
            "cyp2c9",
            "CYP2C9 diplotype (*1, *2, *3)",
            (*_CYP2C9, "*2/*1", "*3/*1", "*3/*2"),
            "PGx Observation CYP2C9 diplotype (Genomics Reporting IG) or given",
            optional=True,
        ),
        flag(
            "enzyme_inducer",
            "on carbamazepine, phenytoin, rifampin or rifampicin",
            "codeset enzyme_inducers (RxNorm 2002, 8183, 9384)",
        ),
        flag("amiodarone", "on amiodarone", "codeset amiodarone (RxNorm 703)"),
    )
    evidence = (
        Evidence(
            title="International Warfarin Pharmacogenetics Consortium. Estimation of the warfarin "
            "dose with clinical and pharmacogenetic data. N Engl J Med 2009;360:753-764, "
            "Supplementary Appendix S1e",
            url="https://doi.org/10.1056/NEJMoa0809329",
        ),
    )
    knowledge = ("dosing/warfarin_iwpc",)

    def evaluate(self, x: Mapping[str, Any], **options: Any) -> Evaluation:
        k = load("dosing/warfarin_iwpc").data
        vkorc1 = normalise_vkorc1(x["vkorc1"]) if "vkorc1" in x else None
        cyp2c9 = normalise_cyp2c9(x["cyp2c9"]) if "cyp2c9" in x else None
        algorithm = "pharmacogenetic" if (vkorc1 or cyp2c9) else "clinical"
        c = k[algorithm]
        decades = float(age_decades(x["age"]))
        items = [
            item("intercept", None, c["intercept"]),
            item("age_decades", decades, c["age_decades"] * decades),
            item("height_cm", x["height_cm"], c["height_cm"] * x["height_cm"]),
            item("weight_kg", x["weight_kg"], c["weight_kg"] * x["weight_kg"]),
            item("race", x["race"], c["race"][x["race"]]),
        ]
        if algorithm == "pharmacogenetic":
            items.append(item("vkorc1", vkorc1 or "unknown", c["vkorc1"][vkorc1 or "unknown"]))
            items.append(item("cyp2c9", cyp2c9 or "unknown", c["cyp2c9"][cyp2c9 or "unknown"]))
        items.append(
            item(
                "enzyme_inducer",
                x["enzyme_inducer"],
                c["enzyme_inducer"] if x["enzyme_inducer"] else 0.0,
            )
        )
        items.append(
            item("amiodarone", x["amiodarone"], c["amiodarone"] if x["amiodarone"] else 0.0)
        )
        items = [t.model_copy(update={"unit": "sqrt(mg/week)"}) for t in items]
        root = sum(t.contribution for t in items)
        weekly = max(root, 0.0) ** 2
        daily = weekly / 7.0
        return Evaluation(
            value=weekly,
            terms=items,
            summary=f"Warfarin {weekly:.1f} mg/week (about {daily:.1f} mg/day), IWPC "
            f"{algorithm} algorithm"
            + (
                f"; VKORC1 {vkorc1 or 'unknown'}, CYP2C9 {cyp2c9 or 'unknown'}"
                if algorithm == "pharmacogenetic"
                else "; no genotype available"
            ),
            severity=Severity.INFO,
            band=algorithm,
            details={
                "algorithm": algorithm,
                "mg_per_day": daily,
                "sqrt_weekly_dose": root,
                "age_decades": decades,
                "vkorc1": vkorc1,
                "cyp2c9": cyp2c9,
            },
        )

    def evaluate_columns(self, cols: Mapping[str, np.ndarray], **options: Any) -> np.ndarray:
        k = load("dosing/warfarin_iwpc").data
        n = cols["age"].shape[0]
        blank = np.full(n, "", dtype=object)
        vk = np.char.upper(np.asarray(cols.get("vkorc1", blank)).astype(str))
        vk = np.where(vk == "G/A", "A/G", vk)
        cy = np.asarray(cols.get("cyp2c9", blank)).astype(str)
        for swapped, canonical in (("*2/*1", "*1/*2"), ("*3/*1", "*1/*3"), ("*3/*2", "*2/*3")):
            cy = np.where(cy == swapped, canonical, cy)
        known_vk = np.isin(vk, ["G/G", "A/G", "A/A"])
        known_cy = np.isin(cy, list(_CYP2C9))
        pgx = known_vk | known_cy
        decades = age_decades(cols["age"])
        out = np.zeros(n)
        for algorithm, mask in (("pharmacogenetic", pgx), ("clinical", ~pgx)):
            c = k[algorithm]
            root = (
                c["intercept"]
                + c["age_decades"] * decades
                + c["height_cm"] * cols["height_cm"]
                + c["weight_kg"] * cols["weight_kg"]
                + c["enzyme_inducer"] * cols["enzyme_inducer"]
                + c["amiodarone"] * cols["amiodarone"]
            )
            race = np.full(n, np.nan)
            for level, coef in c["race"].items():
                race = np.where(cols["race"] == level, coef, race)
            root = root + race
            if algorithm == "pharmacogenetic":
                vk_term = np.full(n, c["vkorc1"]["unknown"])
                for level, coef in c["vkorc1"].items():
                    vk_term = np.where(vk == level, coef, vk_term)
                cy_term = np.full(n, c["cyp2c9"]["unknown"])
                for level, coef in c["cyp2c9"].items():
                    cy_term = np.where(cy == level, coef, cy_term)
                root = root + vk_term + cy_term
            out = np.where(mask, np.maximum(root, 0.0) ** 2, out)
        return out
