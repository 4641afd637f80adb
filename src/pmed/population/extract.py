"""Cohort and feature extraction from the store: definition in, `FeatureSet` out.

The steps follow OHDSI PatientLevelPrediction (Reps et al., JAMIA 2018): target population at a
fixed index date (alive, age range, time in the record, required conditions), exclusions (prior
outcome, excluding conditions), outcome = first event in (index, index + horizon], and
covariates from the lookback window [index − lookback, index]. Attrition is recorded at each
step. All heavy work is SQL over the index tables (`pmed.population.queries`); joins and
summaries run in Polars. Before anything is returned for training, a definition that cannot
work (codes that occur nowhere, an empty cohort, an outcome never observed, a single class) is
refused with an `InputError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

import polars as pl
from sqlalchemy.engine import Connection

from pmed.errors import InputError
from pmed.population import queries
from pmed.population.cohort import CodeRef, CohortDefinition
from pmed.population.features import FeatureSet, FeatureSpec, age_band_labels
from pmed.record.store import Store
from pmed.record.units import analyte_for, convert, normalize_unit, related_codes

__all__ = ["extract_cohort"]

_RACES = ("white", "black", "asian", "other")


def _end_of(day: date) -> str:
    return datetime(day.year, day.month, day.day, 23, 59, 59, 999999).strftime(
        "%Y-%m-%dT%H:%M:%S.%f"
    )


def _start_of(day: date) -> str:
    return datetime(day.year, day.month, day.day).strftime("%Y-%m-%dT%H:%M:%S.%f")


def _check_codes_occur(
    store: Store, definition: CohortDefinition, refs: dict[str, CodeRef]
) -> None:
    """Explicit codes (not shipped code sets) in the population/outcome fields must occur."""
    with store.engine.connect() as conn:
        for path, ref in refs.items():
            if ref.from_codeset or path.startswith("features."):
                continue
            rtypes = ["Observation"] if ".observations" in path else ["Condition"]
            if queries.codes_present(conn, ref, rtypes) == 0:
                raise InputError(
                    f"unknown codes: {ref.label} occur in no {rtypes[0]} in the store "
                    "(check the system and code)",
                    field=path,
                )


def _unit_converted(
    values: pl.DataFrame, unit: str | None, notes: list[str], name: str
) -> pl.DataFrame:
    """Convert every value to `unit` (pmed.record.units); values in unknown units are dropped."""
    if unit is None or values.is_empty():
        return values
    target = normalize_unit(unit) or unit
    pairs = values.select("code", "unit").unique().rows()
    factors = []
    dropped = 0
    for code, src in pairs:
        try:
            a = convert(0.0, src, target, code=code)
            b = convert(1.0, src, target, code=code) - a
        except InputError:
            dropped += values.filter(
                (pl.col("code") == code) & (pl.col("unit").eq_missing(src))
            ).height
            continue
        factors.append((code, src, b, a))
    if dropped:
        notes.append(
            f"{name}: {dropped} values in units that cannot be converted to {unit} dropped"
        )
    table = pl.DataFrame(
        factors,
        schema={"code": pl.Utf8, "unit": pl.Utf8, "_b": pl.Float64, "_a": pl.Float64},
        orient="row",
    )
    return (
        values.join(table, on=["code", "unit"], how="inner", nulls_equal=True)
        .with_columns((pl.col("value") * pl.col("_b") + pl.col("_a")).alias("value"))
        .drop("_b", "_a")
    )


def _observation_ref(ref: CodeRef, unit: str | None) -> CodeRef:
    """With a target unit, also match the analyte's codes in other units (14647-2 for 2093-3)."""
    if unit is None:
        return ref
    extra = {
        ("http://loinc.org", c)
        for s, code in ref.exact
        if analyte_for(code)
        for c in related_codes(code)
    }
    return CodeRef(ref.label, ref.exact | extra, ref.icd10_prefixes, ref.from_codeset)


def extract_cohort(
    store: Store,
    definition: CohortDefinition,
    *,
    index_date: date | None = None,
    patient_ids: Sequence[str] | None = None,
    for_training: bool = True,
) -> FeatureSet:
    """Extract the cohort and its features.

    `for_training=True` applies the target population and exclusions, labels the outcome and
    refuses unusable definitions. `for_training=False` (scoring patients with a registered model)
    keeps every requested patient, adds `in_target` and `target_note` columns, and skips outcome
    labelling; `index_date` then defaults to today.
    """
    index_day = index_date or (definition.index_date if for_training else date.today())
    index_end = _end_of(index_day)
    window = (_start_of(index_day - timedelta(days=definition.lookback_days)), index_end)
    horizon_end = _end_of(index_day + timedelta(days=definition.outcome.horizon_days))
    refs = definition.code_refs()
    if for_training:
        _check_codes_occur(store, definition, refs)
    notes: list[str] = []
    attrition: list[dict[str, object]] = []

    with store.engine.connect() as conn:
        people = queries.patient_rows(conn, patient_ids)
        encounters = queries.encounter_stats(conn, window, patient_ids)
        frame = people.join(encounters, on="patient_id", how="left")
        attrition.append({"step": "patients in the store", "patients": frame.height})

        birth = pl.col("birth_date").str.slice(0, 10).str.to_date(strict=False)
        frame = frame.with_columns(
            ((pl.lit(index_day) - birth).dt.total_days() / 365.25).alias("age"),
            pl.lit(index_day.isoformat()).alias("index_date"),
        )
        reasons: list[tuple[str, pl.Expr]] = [
            (
                "alive at index",
                pl.col("death_date").is_null() | (pl.col("death_date") > index_day.isoformat()),
            ),
            (
                f"age {definition.target.age[0]}-{definition.target.age[1]} at index",
                pl.col("age").is_between(
                    definition.target.age[0], definition.target.age[1] + 1, closed="left"
                ),
            ),
        ]
        if definition.target.sex:
            reasons.append((f"sex {definition.target.sex}", pl.col("sex") == definition.target.sex))
        if definition.target.min_prior_observation_days:
            need = _start_of(
                index_day - timedelta(days=definition.target.min_prior_observation_days)
            )
            reasons.append(
                (
                    f"≥{definition.target.min_prior_observation_days} days in the record",
                    pl.col("first_seen").is_not_null() & (pl.col("first_seen") <= need),
                )
            )
        if "target.require_conditions" in refs:
            req = queries.condition_dates(
                conn, refs["target.require_conditions"], index_end, patient_ids
            )
            have = req.filter(pl.col("first_before").is_not_null())["patient_id"]
            reasons.append(("has a required condition", pl.col("patient_id").is_in(have.implode())))
        if "exclusions.conditions" in refs:
            exc = queries.condition_dates(
                conn, refs["exclusions.conditions"], index_end, patient_ids
            )
            bad = exc.filter(pl.col("first_before").is_not_null())["patient_id"]
            reasons.append(("no excluding condition", ~pl.col("patient_id").is_in(bad.implode())))

        outcome = _outcome_dates(conn, definition, refs, index_end, patient_ids)
        frame = frame.join(outcome, on="patient_id", how="left")
        if definition.exclusions.prior_outcome:
            reasons.append(("no outcome on or before index", pl.col("prior_outcome").is_null()))

        if for_training:
            for label, expr in reasons:
                frame = frame.filter(expr)
                attrition.append({"step": label, "patients": frame.height})
            if frame.is_empty():
                steps = "; ".join(f"{a['step']}: {a['patients']}" for a in attrition)
                raise InputError(f"the cohort is empty (attrition: {steps})", field="target")
            frame = frame.with_columns(
                (pl.col("first_after").is_not_null() & (pl.col("first_after") <= horizon_end))
                .cast(pl.Int8)
                .alias("outcome"),
                pl.when(pl.col("first_after") <= horizon_end)
                .then(pl.col("first_after").str.slice(0, 10))
                .alias("outcome_date"),
            )
            n_events = int(frame["outcome"].sum())
            attrition.append({"step": "with the outcome within the horizon", "patients": n_events})
            if n_events == 0:
                raise InputError(
                    f"the outcome was never observed within {definition.outcome.horizon_days} days "
                    f"after {index_day} among {frame.height} patients",
                    field="outcome",
                )
            if n_events == frame.height:
                raise InputError(
                    f"every one of the {frame.height} patients has the outcome: a single class "
                    "cannot be learned",
                    field="outcome",
                )
        else:
            flags = [expr.alias(f"_ok{i}") for i, (_, expr) in enumerate(reasons)]
            frame = frame.with_columns(flags)
            notes_expr = pl.concat_str(
                [
                    pl.when(~pl.col(f"_ok{i}").fill_null(False))
                    .then(pl.lit(f"not {label}; "))
                    .otherwise(pl.lit(""))
                    for i, (label, _) in enumerate(reasons)
                ]
            )
            frame = frame.with_columns(
                pl.all_horizontal(
                    [pl.col(f"_ok{i}").fill_null(False) for i in range(len(reasons))]
                ).alias("in_target"),
                notes_expr.str.strip_chars("; ").alias("target_note"),
            ).drop([f"_ok{i}" for i in range(len(reasons))])

        ids = frame["patient_id"].to_list() if patient_ids is not None else None
        frame, specs = _add_features(conn, definition, refs, frame, window, index_end, ids, notes)

    edges = definition.audit.age_bands
    labels = age_band_labels(edges)
    frame = frame.with_columns(
        pl.col("age").cut(edges, labels=labels, left_closed=True).cast(pl.Utf8).alias("age_band"),
        pl.col("sex").fill_null("unknown"),
        pl.col("race").fill_null("unknown"),
        pl.col("ethnicity").fill_null("unknown"),
    )
    head = ["patient_id", "index_date"]
    if for_training:
        head += ["outcome", "outcome_date"]
    else:
        head += ["in_target", "target_note"]
    head += ["sex", "race", "ethnicity", "age_band"]
    frame = frame.select([*head, *[s.name for s in specs]]).sort("patient_id")
    return FeatureSet(definition, frame, specs, attrition, notes)


def _outcome_dates(
    conn: Connection,
    definition: CohortDefinition,
    refs: dict[str, CodeRef],
    index_end: str,
    patient_ids: Sequence[str] | None,
) -> pl.DataFrame:
    """Per patient: first outcome on/before index (`prior_outcome`) and after (`first_after`)."""
    parts: list[pl.DataFrame] = []
    if "outcome.conditions" in refs:
        cond = queries.condition_dates(conn, refs["outcome.conditions"], index_end, patient_ids)
        parts.append(cond.rename({"first_before": "prior_outcome"}))
    for i, obs in enumerate(definition.outcome.observations):
        ref = refs[f"outcome.observations[{i}].code"]
        values = queries.observation_values(conn, ref, ("0001", "9999"), patient_ids)
        hit = pl.lit(True)
        if obs.min is not None:
            hit = hit & (pl.col("value") >= obs.min)
        if obs.max is not None:
            hit = hit & (pl.col("value") <= obs.max)
        values = values.filter(hit)
        parts.append(
            values.group_by("patient_id").agg(
                pl.col("date").filter(pl.col("date") <= index_end).min().alias("prior_outcome"),
                pl.col("date").filter(pl.col("date") > index_end).min().alias("first_after"),
            )
        )
    if definition.outcome.death:
        people = queries.patient_rows(conn, patient_ids).filter(pl.col("death_date").is_not_null())
        dead = pl.col("death_date") + "T00:00:00.000000"
        parts.append(
            people.select(
                "patient_id",
                pl.when(dead <= index_end).then(dead).alias("prior_outcome"),
                pl.when(dead > index_end).then(dead).alias("first_after"),
            )
        )
    if not parts:
        return pl.DataFrame(
            schema={"patient_id": pl.Utf8, "prior_outcome": pl.Utf8, "first_after": pl.Utf8}
        )
    return (
        pl.concat([p.select("patient_id", "prior_outcome", "first_after") for p in parts])
        .group_by("patient_id")
        .agg(pl.col("prior_outcome").min(), pl.col("first_after").min())
    )


def _add_features(
    conn: Connection,
    definition: CohortDefinition,
    refs: dict[str, CodeRef],
    frame: pl.DataFrame,
    window: tuple[str, str],
    index_end: str,
    ids: list[str] | None,
    notes: list[str],
) -> tuple[pl.DataFrame, list[FeatureSpec]]:
    """Join every requested feature onto `frame`; returns (frame, specs)."""
    feats = definition.features
    specs: list[FeatureSpec] = []
    lookback = f"in the {definition.lookback_days} days before index"
    if "age" in feats.demographics:
        specs.append(
            FeatureSpec(
                "age",
                "Age",
                "demographic",
                "age at index",
                unit="years",
                missing="null when birth date is unknown",
            )
        )
    if "sex" in feats.demographics:
        frame = frame.with_columns(
            pl.when(pl.col("sex").is_in(["female", "male"]))
            .then((pl.col("sex") == "female").cast(pl.Int8))
            .alias("sex_female")
        )
        specs.append(
            FeatureSpec(
                "sex_female",
                "Female sex",
                "demographic",
                "administrative gender is female (1) or male (0)",
                missing="null for other/unknown gender",
            )
        )
    if "race" in feats.demographics:
        for race in _RACES[1:]:
            col = f"race_{race}"
            frame = frame.with_columns(
                (pl.col("race") == race).fill_null(False).cast(pl.Int8).alias(col)
            )
            specs.append(
                FeatureSpec(
                    col,
                    f"Race: {race}",
                    "demographic",
                    f"US Core race category is {race} (reference: white)",
                )
            )
    if "ethnicity" in feats.demographics:
        frame = frame.with_columns(
            (pl.col("ethnicity") == "hispanic")
            .fill_null(False)
            .cast(pl.Int8)
            .alias("ethnicity_hispanic")
        )
        specs.append(
            FeatureSpec(
                "ethnicity_hispanic",
                "Hispanic or Latino",
                "demographic",
                "US Core ethnicity is Hispanic or Latino",
            )
        )
    for name, _codes in feats.conditions.items():
        ref = refs[f"features.conditions.{name}"]
        found = queries.condition_dates(conn, ref, index_end, ids)
        have = found.filter(pl.col("first_before").is_not_null())["patient_id"]
        frame = frame.with_columns(
            pl.col("patient_id").is_in(have.implode()).cast(pl.Int8).alias(name)
        )
        specs.append(
            FeatureSpec(
                name,
                name.replace("_", " ").capitalize(),
                "condition",
                "condition recorded (onset) on or before index",
                codes=ref.label,
            )
        )
    for name, _codes in feats.medications.items():
        ref = refs[f"features.medications.{name}"]
        have = queries.medication_flags(conn, ref, window, ids)["patient_id"]
        frame = frame.with_columns(
            pl.col("patient_id").is_in(have.implode()).cast(pl.Int8).alias(name)
        )
        specs.append(
            FeatureSpec(
                name,
                name.replace("_", " ").capitalize(),
                "medication",
                f"medication requested or taken {lookback}",
                codes=ref.label,
            )
        )
    for name, feat in feats.observations.items():
        ref = _observation_ref(refs[f"features.observations.{name}.code"], feat.unit)
        values = _unit_converted(
            queries.observation_values(conn, ref, window, ids), feat.unit, notes, name
        )
        aggs = {
            "latest": pl.col("value").sort_by("date").last(),
            "mean": pl.col("value").mean(),
            "min": pl.col("value").min(),
            "max": pl.col("value").max(),
            "count": pl.col("value").count(),
        }
        multi = len(feat.summaries) > 1
        cols = {s: (f"{name}_{s}" if multi or s != "latest" else name) for s in feat.summaries}
        summary = values.group_by("patient_id").agg(
            [aggs[s].alias(cols[s]) for s in feat.summaries]
        )
        frame = frame.join(summary, on="patient_id", how="left")
        label = feat.label or name.replace("_", " ").capitalize()
        for s in feat.summaries:
            if s == "count":
                frame = frame.with_columns(pl.col(cols[s]).fill_null(0))
            specs.append(
                FeatureSpec(
                    cols[s],
                    f"{label} ({s})" if multi else label,
                    "observation",
                    f"{s} value {lookback}",
                    unit=None if s == "count" else feat.unit,
                    codes=ref.label,
                    missing="0 when absent"
                    if s == "count"
                    else "null when not measured in the window",
                )
            )
    if feats.encounters:
        frame = frame.with_columns(pl.col("n_window").fill_null(0).alias("encounters"))
        specs.append(
            FeatureSpec("encounters", "Encounters", "utilisation", f"encounters {lookback}")
        )
    return frame, specs
