"""Synthetic demographics: age, sex, race/ethnicity group, index date, names, addresses, ids.

Proportions approximate the US adult population aged 30-79 (Census 2020: ~60% non-Hispanic
White, ~12% non-Hispanic Black, ~18% Hispanic, ~6% non-Hispanic Asian, ~4% other); ages follow a
flat distribution to 64 that tapers to 60% by 79. Names and places are drawn from short fixed
lists and are fictitious.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np

__all__ = ["GROUPS", "OMB", "sample_demographics"]

GROUPS = ("white", "black", "hispanic", "asian", "other")
GROUP_PROBS = (0.60, 0.12, 0.18, 0.06, 0.04)

# group -> (OMB race code, display) and whether Hispanic or Latino (CDC Race & Ethnicity codes)
OMB: dict[str, tuple[str, str, bool]] = {
    "white": ("2106-3", "White", False),
    "black": ("2054-5", "Black or African American", False),
    "hispanic": ("2106-3", "White", True),
    "asian": ("2028-9", "Asian", False),
    "other": ("2131-1", "Other Race", False),
}

_GIVEN_F = ("Mary", "Linda", "Maria", "Aisha", "Mei", "Sofia", "Emma", "Grace", "Priya", "Rosa",
            "Keisha", "Hannah", "Yuki", "Elena", "Fatima", "Olivia")  # fmt: skip
_GIVEN_M = ("James", "Robert", "Jose", "Malik", "Wei", "Luis", "Noah", "David", "Arjun", "Carlos",
            "Andre", "Samuel", "Kenji", "Omar", "Ethan", "Daniel")  # fmt: skip
_FAMILY = ("Smith", "Johnson", "Garcia", "Williams", "Nguyen", "Brown", "Martinez", "Chen",
           "Jones", "Lopez", "Patel", "Davis", "Kim", "Robinson", "Hernandez", "Walker", "Lee",
           "Clark", "Rivera", "Young")  # fmt: skip
_PLACES = (
    ("Springfield", "IL", "62701"), ("Columbus", "OH", "43215"), ("Austin", "TX", "78701"),
    ("Denver", "CO", "80202"), ("Raleigh", "NC", "27601"), ("Sacramento", "CA", "95814"),
    ("Boston", "MA", "02108"), ("Atlanta", "GA", "30303"), ("Phoenix", "AZ", "85003"),
    ("Seattle", "WA", "98104"), ("Miami", "FL", "33130"), ("Detroit", "MI", "48226"),
)  # fmt: skip
_STREETS = ("Main St", "Oak Ave", "Maple Dr", "Cedar Ln", "Elm St", "Pine Rd", "Lake View Blvd")


def _ages(rng: np.random.Generator, n: int) -> np.ndarray:
    ages = np.arange(30, 80)
    weight = np.where(ages <= 64, 1.0, 1.0 - 0.4 * (ages - 64) / 15.0)
    return rng.choice(ages, size=n, p=weight / weight.sum())


def _ids(rng: np.random.Generator, n: int) -> list[str]:
    """Deterministic UUID-form ids (version-4 layout) from the generator."""
    raw = rng.integers(0, 2**63, size=(n, 2), dtype=np.int64)
    out = []
    for hi, lo in raw.tolist():
        h = f"{hi:016x}{lo:016x}"
        out.append(
            f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) % 4]}{h[17:20]}-{h[20:32]}"
        )
    return out


def _whole_years(born: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Age in whole years (birthday counts from its day), vectorised over datetime64[D]."""
    by, bm, bd = _ymd(born)
    ay, am, ad = _ymd(at)
    before = (am < bm) | ((am == bm) & (ad < bd))
    return ay - by - before.astype(np.int64)


def _ymd(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    years = days.astype("datetime64[Y]")
    months = days.astype("datetime64[M]")
    y = years.astype(np.int64) + 1970
    m = (months - years.astype("datetime64[M]")).astype(np.int64) + 1
    d = (days - months.astype("datetime64[D]")).astype(np.int64) + 1
    return y, m, d


def sample_demographics(
    rng: np.random.Generator,
    n: int,
    *,
    index_start: date = date(2014, 1, 1),
    index_span_days: int = 730,
) -> dict[str, Any]:
    """Arrays (length n) of the patients' demographics; ages are whole years at the index date.

    Keys: id, mrn, age, female (0/1), sex, group, hispanic, index_date, birth_date (datetime64[D]),
    given, family, city, state, postal, line.
    """
    age_target = _ages(rng, n)
    female = (rng.random(n) < 0.52).astype(np.int8)
    group = np.asarray(GROUPS, dtype=object)[rng.choice(len(GROUPS), size=n, p=GROUP_PROBS)]
    index = np.datetime64(index_start, "D") + rng.integers(0, index_span_days, size=n)
    # a birth date that makes the whole-year age at the index date equal the target
    offset = np.floor((age_target + rng.uniform(0.01, 0.99, size=n)) * 365.2425).astype(np.int64)
    born = index - offset
    age = _whole_years(born, index)
    given_f = np.asarray(_GIVEN_F, dtype=object)[rng.integers(0, len(_GIVEN_F), n)]
    given_m = np.asarray(_GIVEN_M, dtype=object)[rng.integers(0, len(_GIVEN_M), n)]
    places = rng.integers(0, len(_PLACES), n)
    house = rng.integers(1, 9999, n)
    street = np.asarray(_STREETS, dtype=object)[rng.integers(0, len(_STREETS), n)]
    ids = _ids(rng, n)
    return {
        "id": ids,
        "mrn": [f"SYN{i:08d}" for i in range(n)],
        "age": age,
        "female": female,
        "sex": np.where(female == 1, "female", "male").astype(object),
        "group": group,
        "hispanic": np.asarray([OMB[g][2] for g in group.tolist()]),
        "index_date": index,
        "birth_date": born,
        "given": np.where(female == 1, given_f, given_m),
        "family": np.asarray(_FAMILY, dtype=object)[rng.integers(0, len(_FAMILY), n)],
        "city": [_PLACES[p][0] for p in places.tolist()],
        "state": [_PLACES[p][1] for p in places.tolist()],
        "postal": [_PLACES[p][2] for p in places.tolist()],
        "line": [f"{h} {s}" for h, s in zip(house.tolist(), street.tolist(), strict=True)],
    }
