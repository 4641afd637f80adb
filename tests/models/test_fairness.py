"""Fairness audit on simulated predictions with a known truth: a calibrated model on honest
outcomes is not flagged; under-recorded outcomes in one group flag that group and no other."""

from __future__ import annotations

import numpy as np

from pmed.models.fairness import audit, mitigate_thresholds


def _population(n: int, seed: int, under_record: float = 0.0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    race = rng.choice(["white", "black", "hispanic", "asian"], size=n, p=[0.6, 0.15, 0.18, 0.07])
    sex = rng.choice(["female", "male"], size=n)
    age = rng.integers(40, 80, n)
    lp = -3.0 + 0.06 * (age - 55) + 0.5 * (sex == "male") + rng.normal(0, 0.9, n)
    p = 1 / (1 + np.exp(-lp))
    y = (rng.random(n) < p).astype(int)
    dropped = (race == "black") & (y == 1) & (rng.random(n) < under_record)
    y_recorded = np.where(dropped, 0, y)
    band = np.where(
        age < 50, "<50", np.where(age < 60, "50-59", np.where(age < 70, "60-69", "70+"))
    )
    return {"y": y_recorded, "p": p, "race": race, "sex": sex, "age_band": band}


def _audit(pop: dict[str, np.ndarray]) -> dict:
    groups = {k: pop[k] for k in ("sex", "race", "age_band")}
    return audit(pop["y"], pop["p"], groups, threshold=0.075)


def test_calibrated_model_on_honest_outcomes_is_not_flagged() -> None:
    for seed in range(3):
        result = _audit(_population(8000, seed))
        assert result["flags"] == [], result["flags"]


def test_under_recorded_outcomes_flag_that_group_only() -> None:
    result = _audit(_population(8000, seed=1, under_record=0.5))
    flagged = {(f["attribute"], f["group"]) for f in result["flags"]}
    assert flagged == {("race", "black")}
    black = next(g for g in result["attributes"]["race"]["groups"] if g["group"] == "black")
    assert black["oe_ratio"] < 0.7 and "calibration" in black["flags"]


def test_equalised_odds_gaps_are_reported_as_disparities_unless_configured_to_flag() -> None:
    pop = _population(8000, seed=2)
    groups = {"sex": pop["sex"]}
    plain = audit(pop["y"], pop["p"], groups, threshold=0.075)
    assert plain["flags"] == []
    assert {d["metric"] for d in plain["disparities"]} == {"equalised_odds"}  # men: higher risk
    strict = audit(
        pop["y"],
        pop["p"],
        groups,
        threshold=0.075,
        flag_on=["calibration", "discrimination", "equalised_odds"],
    )
    assert {f["metric"] for f in strict["flags"]} == {"equalised_odds"}


def test_groups_below_the_minimum_size_are_reported_but_not_judged() -> None:
    pop = _population(3000, seed=4, under_record=0.9)
    result = audit(
        pop["y"], pop["p"], {"race": pop["race"]}, threshold=0.075, min_group_size=10_000
    )
    assert result["flags"] == []
    assert all("note" in g for g in result["attributes"]["race"]["groups"])


def test_group_thresholds_shrink_the_equalised_odds_difference() -> None:
    train, test = _population(8000, seed=5), _population(8000, seed=6)
    out = mitigate_thresholds(
        train["y"], train["p"], train["sex"], test["y"], test["p"], test["sex"], threshold=0.075
    )
    before = out["before"]["equalized_odds_difference"]
    after = out["after"]["equalized_odds_difference"]
    assert after < before
    assert set(out["after"]["by_group"]) == {"female", "male"}
