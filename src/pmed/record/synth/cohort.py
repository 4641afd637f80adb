"""`generate_cohort`: demographics → risk factors → outcomes (→ genotypes), reproducible by seed.

Each stage draws from its own child of `numpy.random.SeedSequence(seed)`, so the same seed gives
the same patients whatever the options: turning on outcome under-recording, or genetics off,
changes only what those options touch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from pmed.errors import InputError
from pmed.record.synth.clinical import sample_clinical
from pmed.record.synth.demographics import GROUPS, sample_demographics
from pmed.record.synth.genetics import Genotypes, population_for_groups, sample_genotypes
from pmed.record.synth.outcomes import FEATURES, OUTCOMES, simulate_events, true_risk

__all__ = ["SynthCohort", "UnderRecord", "generate_cohort", "parse_under_record"]


@dataclass(frozen=True)
class UnderRecord:
    """Outcome events of patients in `group` go unrecorded with probability `fraction`."""

    group: str  # a race/ethnicity group (white, black, hispanic, asian, other) or female/male
    fraction: float


def parse_under_record(text: str) -> UnderRecord:
    """`GROUP:FRACTION`, e.g. `black:0.5` or `female:0.3`."""
    group, sep, value = text.rpartition(":")
    group = group.strip().lower().removeprefix("race=").removeprefix("sex=")
    try:
        fraction = float(value)
    except ValueError:
        fraction = -1.0
    if not sep or group not in (*GROUPS, "female", "male") or not 0.0 <= fraction <= 1.0:
        raise InputError(
            f"--under-record expects GROUP:FRACTION with GROUP one of "
            f"{', '.join((*GROUPS, 'female', 'male'))} and FRACTION in [0, 1]; got {text!r}"
        )
    return UnderRecord(group, fraction)


@dataclass
class SynthCohort:
    """A generated cohort: per-patient arrays, the outcome truth, and (optionally) genotypes."""

    seed: int
    horizon: float
    demographics: dict[str, Any]
    clinical: dict[str, np.ndarray]
    events: dict[str, np.ndarray]  # {outcome}_years (inf = none), ascvd_type
    recorded: dict[str, np.ndarray]  # outcome -> bool, after any under-recording
    under_record: UnderRecord | None = None
    genotypes: Genotypes | None = None
    _features: pl.DataFrame | None = field(default=None, repr=False)

    @property
    def size(self) -> int:
        return len(self.demographics["id"])

    def features(self) -> pl.DataFrame:
        """The per-patient features the true risk uses (plus `id`), as written in the record."""
        if self._features is None:
            columns: dict[str, Any] = {"id": self.demographics["id"]}
            group = self.demographics["group"]
            for name in FEATURES:
                if name in ("black", "hispanic", "asian"):
                    columns[name] = (group == name).astype(np.int8)
                elif name in ("age", "female"):
                    columns[name] = np.asarray(self.demographics[name], dtype=np.int64)
                else:
                    columns[name] = self.clinical[name]
            self._features = pl.DataFrame(columns)
        return self._features

    def true_risk(self, outcome: str = "ascvd") -> np.ndarray:
        return true_risk(self.features(), outcome, self.horizon)

    def truth(self) -> pl.DataFrame:
        """Features, demographics, each outcome's true risk, true event, recorded event and
        event time, and the drawn diplotypes — one row per patient (the oracle's table)."""
        frame = self.features().with_columns(
            pl.Series("sex", self.demographics["sex"].tolist()),
            pl.Series("group", self.demographics["group"].tolist()),
            pl.Series("index_date", self.demographics["index_date"]),
        )
        extra = []
        for outcome in OUTCOMES:
            years = self.events[f"{outcome}_years"]
            extra += [
                pl.Series(f"risk_{outcome}", self.true_risk(outcome)),
                pl.Series(f"event_{outcome}", np.isfinite(years)),
                pl.Series(f"recorded_{outcome}", self.recorded[outcome]),
                pl.Series(f"years_{outcome}", years).replace(float("inf"), None),
            ]
        if self.genotypes is not None:
            for model in self.genotypes.models:
                extra.append(pl.Series(f"pgx_{model.gene}", self.genotypes.diplotypes(model.gene)))
        return frame.with_columns(extra)


def generate_cohort(
    n: int,
    seed: int = 0,
    *,
    horizon: float = 10.0,
    under_record: UnderRecord | None = None,
    genetics: bool = True,
    genes: list[str] | None = None,
) -> SynthCohort:
    """Generate `n` patients reproducibly from `seed` (vectorised; ~10^5 patients/s)."""
    if n < 1:
        raise InputError(f"the cohort needs at least one patient (got {n})")
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(5)]
    demo = sample_demographics(streams[0], n)
    clinical = sample_clinical(streams[1], demo)
    cohort = SynthCohort(
        seed=seed,
        horizon=horizon,
        demographics=demo,
        clinical=clinical,
        events={},
        recorded={},
        under_record=under_record,
    )
    cohort.events = simulate_events(streams[2], cohort.features(), horizon)
    drop_draw = streams[3].random((len(OUTCOMES), n))
    if under_record is not None:
        column = "sex" if under_record.group in ("female", "male") else "group"
        member = np.asarray(demo[column] == under_record.group)
    for k, outcome in enumerate(OUTCOMES):
        happened = np.isfinite(cohort.events[f"{outcome}_years"])
        if under_record is not None:
            happened = happened & ~(member & (drop_draw[k] < under_record.fraction))
        cohort.recorded[outcome] = happened
    if genetics:
        cohort.genotypes = sample_genotypes(
            streams[4], demo["id"], population_for_groups(demo["group"]), genes
        )
    return cohort
