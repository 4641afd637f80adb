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

from collections.abc import Collection, Sequence
from datetime import date, datetime, timedelta
from typing import Any

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
            rtype: str
            if path.startswith("index_event") and definition.index_event is not None:
                rtype = definition.index_event.resource
                param = "type" if rtype == "Encounter" else "code"
            else:
                rtype = "Observation" if ".observations" in path else "Condition"
                param = "code"
            if queries.codes_present(conn, ref, [rtype], param) == 0:
                raise InputError(
                    f"unknown codes: {ref.label} occur in no {rtype} in the store "
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


def _index_frame(
    conn: Connection,
    definition: CohortDefinition,
    refs: dict[str, CodeRef],
    people: pl.DataFrame,
    index_date: date | None,
) -> pl.DataFrame:
    """patient_id → index_day (a date) for every patient with an index."""
    ev = definition.index_event
    if index_date is not None or ev is None:
        day = index_date or definition.index_date
        return people.select("patient_id", pl.lit(day, dtype=pl.Date).alias("index_day"))
    ids = people["patient_id"].to_list() if people.height < 1000 else None
    first = queries.first_event(
        conn,
        ev.resource,
        refs.get("index_event.codes"),
        (_start_of(ev.start), _end_of(ev.end)),
        ids,
    )
    return first.select(
        "patient_id", pl.col("index_at").str.slice(0, 10).str.to_date().alias("index_day")
    )


def _age_band(edges: list[int], labels: list[str]) -> pl.Expr:
    """Age bands closed on the left: `<40`, `40-49`, …, `80+` (null age → 'unknown')."""
    expr: Any = pl.when(pl.col("age").is_null()).then(pl.lit("unknown"))
    for edge, label in zip(edges, labels, strict=False):
        expr = expr.when(pl.col("age") < edge).then(pl.lit(label))
    return expr.otherwise(pl.lit(labels[-1]))


def _fmt_instant(expr: pl.Expr, end_of_day: bool) -> pl.Expr:
    return expr.dt.strftime("%Y-%m-%d") + ("T23:59:59.999999" if end_of_day else "T00:00:00.000000")


def extract_cohort(
    store: Store,
    definition: CohortDefinition,
    *,
    index_date: date | None = None,
    patient_ids: Sequence[str] | None = None,
    for_training: bool = True,
    exclude_patients: Collection[str] = (),
) -> FeatureSet:
    """Extract the cohort and its features.

    `for_training=True` applies the target population and exclusions, labels the outcome and
    refuses unusable definitions. `for_training=False` (scoring patients with a registered model)
    keeps every requested patient, adds `in_target` and `target_note` columns, and skips outcome
    labelling; the index date is then `index_date`, default today.

    `exclude_patients` are left out before anything else (an attrition step says how many):
    the CLI passes the patients whose consent opts out of research use
    (`pmed.governance.consent.ConsentEngine.research_opted_out`) when it extracts a cohort to
    train or validate a model; population does not import governance (layering).
    """
    if not for_training and index_date is None:
        index_date = date.today()
    refs = definition.code_refs()
    if for_training:
        _check_codes_occur(store, definition, refs)
    notes: list[str] = []
    attrition: list[dict[str, object]] = []
    lookback = timedelta(days=definition.lookback_days)
    horizon = timedelta(days=definition.outcome.horizon_days)

    with store.engine.connect() as conn:
        people = queries.patient_rows(conn, patient_ids)
        attrition.append({"step": "patients in the store", "patients": people.height})
        if exclude_patients:
            people = people.filter(~pl.col("patient_id").is_in(list(exclude_patients)))
            attrition.append({"step": "research use permitted", "patients": people.height})
        index = _index_frame(conn, definition, refs, people, index_date)
        frame = people.join(index, on="patient_id", how="inner" if for_training else "left")
        if definition.index_event is not None and index_date is None:
            attrition.append({"step": "with an index event", "patients": frame.height})
        frame = frame.with_columns(pl.col("index_day").fill_null(date.today()))
        frame = frame.with_columns(
            _fmt_instant(pl.col("index_day"), True).alias("_idx_end"),
            _fmt_instant(pl.col("index_day") - lookback, False).alias("_win_start"),
            _fmt_instant(pl.col("index_day") + horizon, True).alias("_hz_end"),
        )
        queries.cohort_table(
            conn,
            [
                {"pid": a, "idx_end": b, "win_start": c, "hz_end": d}
                for a, b, c, d in frame.select(
                    "patient_id", "_idx_end", "_win_start", "_hz_end"
                ).iter_rows()
            ],
        )
        try:
            frame, specs = _select(conn, definition, refs, frame, for_training, attrition, notes)
        finally:
            queries.drop_cohort_table(conn)

    edges = definition.audit.age_bands
    labels = age_band_labels(edges)
    frame = frame.with_columns(
        _age_band(edges, labels).alias("age_band"),
        pl.col("sex").fill_null("unknown"),
        pl.col("race").fill_null("unknown"),
        pl.col("ethnicity").fill_null("unknown"),
        pl.col("index_day").cast(pl.Utf8).alias("index_date"),
        pl.when(pl.col("ethnicity") == "hispanic")
        .then(pl.lit("hispanic"))
        .otherwise(pl.col("race").fill_null("unknown"))
        .alias("race_ethnicity"),
    )
    head = ["patient_id", "index_date"]
    head += ["outcome", "outcome_date"] if for_training else ["in_target", "target_note"]
    head += ["sex", "race", "ethnicity", "race_ethnicity", "age_band"]
    frame = frame.select([*head, *[s.name for s in specs]]).sort("patient_id")
    return FeatureSet(definition, frame, specs, attrition, notes)


def _select(
    conn: Connection,
    definition: CohortDefinition,
    refs: dict[str, CodeRef],
    frame: pl.DataFrame,
    for_training: bool,
    attrition: list[dict[str, object]],
    notes: list[str],
) -> tuple[pl.DataFrame, list[FeatureSpec]]:
    """Target population, exclusions, outcome labels and features, inside the cohort table."""
    frame = frame.join(queries.encounter_stats(conn), on="patient_id", how="left")
    birth = pl.col("birth_date").str.slice(0, 10).str.to_date(strict=False)
    frame = frame.with_columns(
        ((pl.col("index_day") - birth).dt.total_days() / 365.25).alias("age")
    )
    lo, hi = definition.target.age
    reasons: list[tuple[str, pl.Expr]] = [
        (
            "alive at index",
            pl.col("death_date").is_null()
            | (pl.col("death_date") > pl.col("index_day").cast(pl.Utf8)),
        ),
        (f"age {lo}-{hi} at index", pl.col("age").is_between(lo, hi + 1, closed="left")),
    ]
    if definition.target.sex:
        reasons.append((f"sex {definition.target.sex}", pl.col("sex") == definition.target.sex))
    days = definition.target.min_prior_observation_days
    if days:
        need = _fmt_instant(pl.col("index_day") - timedelta(days=days), False)
        reasons.append(
            (
                f"≥{days} days in the record",
                pl.col("first_seen").is_not_null() & (pl.col("first_seen") <= need),
            )
        )
    if "target.require_conditions" in refs:
        req = queries.condition_dates(conn, refs["target.require_conditions"])
        have = req.filter(pl.col("first_before").is_not_null())["patient_id"]
        reasons.append(("has a required condition", pl.col("patient_id").is_in(have.implode())))
    if "exclusions.conditions" in refs:
        exc = queries.condition_dates(conn, refs["exclusions.conditions"])
        bad = exc.filter(pl.col("first_before").is_not_null())["patient_id"]
        reasons.append(("no excluding condition", ~pl.col("patient_id").is_in(bad.implode())))
    frame = frame.join(_outcome_dates(conn, definition, refs, frame), on="patient_id", how="left")
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
            pl.col("first_after").is_not_null().cast(pl.Int8).alias("outcome"),
            pl.col("first_after").str.slice(0, 10).alias("outcome_date"),
        )
        n_events = int(frame["outcome"].sum())
        attrition.append({"step": "with the outcome within the horizon", "patients": n_events})
        if n_events == 0:
            raise InputError(
                f"the outcome was never observed within {definition.outcome.horizon_days} days "
                f"after index among {frame.height} patients",
                field="outcome",
            )
        if n_events == frame.height:
            raise InputError(
                f"every one of the {frame.height} patients has the outcome: a single class "
                "cannot be learned",
                field="outcome",
            )
    else:
        oks = [f"_ok{i}" for i in range(len(reasons))]
        frame = frame.with_columns(
            [e.fill_null(False).alias(o) for o, (_, e) in zip(oks, reasons, strict=True)]
        )
        notes_expr = pl.concat_str(
            [
                pl.when(~pl.col(o)).then(pl.lit(f"not {label}; ")).otherwise(pl.lit(""))
                for o, (label, _) in zip(oks, reasons, strict=True)
            ]
        )
        frame = frame.with_columns(
            pl.all_horizontal([pl.col(o) for o in oks]).alias("in_target"),
            notes_expr.str.strip_chars("; ").alias("target_note"),
        ).drop(oks)
    return _add_features(conn, definition, refs, frame, notes)


def _outcome_dates(
    conn: Connection,
    definition: CohortDefinition,
    refs: dict[str, CodeRef],
    frame: pl.DataFrame,
) -> pl.DataFrame:
    """Per patient: first outcome on/before index (`prior_outcome`) and in the horizon
    (`first_after`)."""
    parts: list[pl.DataFrame] = []
    if "outcome.conditions" in refs:
        cond = queries.condition_dates(conn, refs["outcome.conditions"])
        parts.append(cond.rename({"first_before": "prior_outcome"}))
    bounds = frame.select("patient_id", "_idx_end", "_hz_end")
    for i, obs in enumerate(definition.outcome.observations):
        ref = refs[f"outcome.observations[{i}].code"]
        values = queries.observation_values(conn, ref, lookback=False)
        hit = pl.lit(True)
        if obs.min is not None:
            hit = hit & (pl.col("value") >= obs.min)
        if obs.max is not None:
            hit = hit & (pl.col("value") <= obs.max)
        values = values.filter(hit).join(bounds, on="patient_id")
        before = pl.col("date") <= pl.col("_idx_end")
        within = (pl.col("date") > pl.col("_idx_end")) & (pl.col("date") <= pl.col("_hz_end"))
        parts.append(
            values.group_by("patient_id").agg(
                pl.col("date").filter(before).min().alias("prior_outcome"),
                pl.col("date").filter(within).min().alias("first_after"),
            )
        )
    if definition.outcome.death:
        dead = pl.col("death_date") + "T00:00:00.000000"
        parts.append(
            frame.filter(pl.col("death_date").is_not_null()).select(
                "patient_id",
                pl.when(dead <= pl.col("_idx_end")).then(dead).alias("prior_outcome"),
                pl.when((dead > pl.col("_idx_end")) & (dead <= pl.col("_hz_end")))
                .then(dead)
                .alias("first_after"),
            )
        )
    empty = {"patient_id": pl.Utf8, "prior_outcome": pl.Utf8, "first_after": pl.Utf8}
    if not parts:
        return pl.DataFrame(schema=empty)
    return (
        pl.concat([p.select(list(empty)).cast(empty) for p in parts])  # type: ignore[arg-type]
        .group_by("patient_id")
        .agg(pl.col("prior_outcome").min(), pl.col("first_after").min())
    )


def _add_features(
    conn: Connection,
    definition: CohortDefinition,
    refs: dict[str, CodeRef],
    frame: pl.DataFrame,
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
        found = queries.condition_dates(conn, ref)
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
        have = queries.medication_flags(conn, ref)["patient_id"]
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
        values = _unit_converted(queries.observation_values(conn, ref), feat.unit, notes, name)
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
    for name, coded in feats.coded_observations.items():
        path = f"features.coded_observations.{name}"
        values = queries.observation_concepts(conn, refs[path + ".code"])
        wanted = refs[path + ".values"]
        latest = (
            values.with_columns(
                (pl.col("system").fill_null("") + "|" + pl.col("value_code"))
                .is_in([f"{sy}|{co}" for sy, co in sorted(wanted.exact)])
                .alias("_hit")
            )
            .group_by("patient_id", "date")
            .agg(pl.col("_hit").any())
            .sort("date")
            .group_by("patient_id")
            .agg(pl.col("_hit").last().cast(pl.Int8).alias(name))
        )
        frame = frame.join(latest, on="patient_id", how="left")
        specs.append(
            FeatureSpec(
                name,
                coded.label or name.replace("_", " ").capitalize(),
                "observation",
                f"latest coded value {lookback} is one of the listed codes",
                codes=f"{coded.code} = {', '.join(coded.values)}",
                missing="null when not recorded in the window",
            )
        )
    if feats.encounters:
        frame = frame.with_columns(pl.col("n_window").fill_null(0).alias("encounters"))
        specs.append(
            FeatureSpec("encounters", "Encounters", "utilisation", f"encounters {lookback}")
        )
    return frame, specs
