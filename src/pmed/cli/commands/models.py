"""`pmed models …`: learn a risk model from the store, evaluate, audit, explain, deploy.

pmed models train COHORT.yaml [--algorithm logistic|lightgbm] [--mitigate] [--json]
pmed models evaluate MODEL [--json]
pmed models audit MODEL [--calibration-bound B] [--eo-bound B] [--json]
pmed models card MODEL [--format md|html|json]
pmed models list [--json]
pmed models predict MODEL --patient ID [--at DATE] [--json]
"""

from __future__ import annotations

from datetime import date
from typing import Any

import click
from rich.table import Table

from pmed.cli._output import console, err_console, print_json
from pmed.config import Settings
from pmed.errors import InputError, NotFoundError

__all__ = ["command"]

_JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


@click.group(name="models")
def command() -> None:
    """Learned risk models: train on a cohort from the store, evaluate (AUROC with CI,
    calibration, decision curve), audit for bias, explain with SHAP, register, and predict."""


def _groups(audit: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    keep = (
        "group",
        "n",
        "events",
        "observed_rate",
        "expected_rate",
        "oe_ratio",
        "tpr",
        "fpr",
        "auroc",
        "equalised_odds_gap",
        "flags",
        "disparities",
    )
    return {
        attr: [{k: g.get(k) for k in keep} for g in info["groups"]]
        for attr, info in audit.get("attributes", {}).items()
    }


def _summary(reg: Any) -> dict[str, Any]:
    m = reg.meta
    met = m["metrics"]
    return {
        "model_id": reg.id,
        "algorithm": m["algorithm"],
        "cohort": m["cohort_name"],
        "auroc": met["auroc"],
        "auroc_ci": met["auroc_ci"],
        "auroc_ci_method": met["auroc_ci_method"],
        "auprc": met["auprc"],
        "brier": met["brier"],
        "calibration_slope": met["calibration_slope"],
        "calibration_intercept": met["calibration_intercept"],
        "calibration_in_the_large": met["calibration_in_the_large"],
        "observed_expected_ratio": met["observed_expected_ratio"],
        "test_patients": m["split"]["test_patients"],
        "test_events": m["split"]["test_events"],
        "baselines": m.get("baselines", {}),
        "groups": _groups(m.get("audit", {})),
        "fairness_flags": m.get("audit", {}).get("flags", []),
        "disparities": m.get("audit", {}).get("disparities", []),
        "mitigation": m.get("mitigation", {}),
        "fit_seconds": m.get("fit_seconds"),
        "path": str(reg.path),
        "files": {k: str(reg.file(v)) for k, v in m.get("files", {}).items()},
    }


def _print_summary(s: dict[str, Any]) -> None:
    ci = s["auroc_ci"]
    console.print(f"[bold]{s['model_id']}[/bold] ({s['algorithm']}, cohort {s['cohort']})")
    console.print(
        f"  AUROC {s['auroc']:.3f} (95% CI {ci[0]:.3f}–{ci[1]:.3f}, DeLong)  AUPRC "
        f"{s['auprc']:.3f}  Brier {s['brier']:.4f}\n  calibration slope "
        f"{s['calibration_slope']:.2f}, intercept {s['calibration_intercept']:+.2f}, O/E "
        f"{s['observed_expected_ratio']:.2f}  on {s['test_patients']} held-out patients "
        f"({s['test_events']} events)"
    )
    for name, b in s["baselines"].items():
        console.print(
            f"  vs {name}: AUROC {b['auroc']:.3f} vs model {b['model_auroc_same_patients']:.3f} "
            f"on {b['n']} patients (DeLong p={b['delong_p_value']:.3g})"
        )
    flags = s["fairness_flags"]
    if flags:
        for f in flags:
            console.print(
                f"  [red]fairness flag[/red]: {f['attribute']}={f['group']} ({f['metric']})"
            )
    else:
        console.print("  fairness audit: no group flagged")
    for f in s["disparities"]:
        console.print(f"  disparity: {f['attribute']}={f['group']} ({f['metric']})")
    if s["files"]:
        console.print(f"  report: {s['files'].get('evaluation_html', '')}")


@command.command("train")
@click.argument("cohort", type=click.Path(dir_okay=False))
@click.option(
    "--algorithm",
    type=click.Choice(["logistic", "lightgbm"]),
    default="lightgbm",
    show_default=True,
)
@click.option("--mitigate", is_flag=True, help="Also fit group thresholds (fairlearn).")
@_JSON
def train_command(cohort: str, algorithm: str, mitigate: bool, as_json: bool) -> None:
    """Extract COHORT (YAML/JSON definition) from the store, train, evaluate, audit, register."""
    from pmed.cli._store import open_store
    from pmed.models import develop
    from pmed.population import extract_cohort, load_definition, to_training_data

    settings = Settings.from_env()
    definition = load_definition(cohort)
    store = open_store(settings)
    with err_console.status("extracting the cohort from the store…"):
        features = extract_cohort(store, definition, exclude_patients=_research_opt_outs(store))
    data = to_training_data(features)
    with err_console.status(f"training {algorithm} on {features.n} patients…"):
        reg = develop(
            data, algorithm, settings.home, mitigate=mitigate or definition.audit.mitigate
        )
    summary = _summary(reg)
    summary["attrition"] = features.attrition
    if as_json:
        print_json(summary)
    else:
        _print_summary(summary)


def _research_opt_outs(store: Any) -> frozenset[str]:
    """Patients whose consent forbids research use: left out of training and validation
    cohorts (scoring one patient for their own care with `predict` is not research use)."""
    from pmed.governance.consent import ConsentEngine

    return ConsentEngine(store).research_opted_out()


def _load(model: str) -> Any:
    from pmed.models import load_model

    return load_model(Settings.from_env().home, model)


@command.command("evaluate")
@click.argument("model")
@click.option(
    "--cohort",
    type=click.Path(dir_okay=False),
    help="External validation: extract this definition (default: the model's own) "
    "from the current store and score every patient in it.",
)
@click.option(
    "--external",
    is_flag=True,
    help="Validate on the current store with the model's own cohort definition.",
)
@_JSON
def evaluate_command(model: str, cohort: str | None, external: bool, as_json: bool) -> None:
    """Held-out performance of MODEL (discrimination, calibration, baselines, report files), or
    its external validation on the current store with --external / --cohort."""
    reg = _load(model)
    if not (cohort or external):
        summary = _summary(reg)
        if as_json:
            print_json(summary)
        else:
            _print_summary(summary)
        return
    from pmed.cli._store import open_store
    from pmed.models.pipeline import external_validation
    from pmed.population import (
        CohortDefinition,
        extract_cohort,
        load_definition,
        to_training_data,
    )

    definition = (
        load_definition(cohort) if cohort else CohortDefinition.model_validate(reg.meta["cohort"])
    )
    store = open_store(Settings.from_env())
    with err_console.status("extracting the validation cohort…"):
        data = to_training_data(
            extract_cohort(store, definition, exclude_patients=_research_opt_outs(store))
        )
    result = external_validation(reg, data)
    if as_json:
        print_json(result)
        return
    m = result["metrics"]
    ci = m["auroc_ci"]
    console.print(
        f"[bold]{reg.id}[/bold] on {result['patients']} patients: AUROC {m['auroc']:.3f} "
        f"(95% CI {ci[0]:.3f}–{ci[1]:.3f}), calibration slope {m['calibration_slope']:.2f}, "
        f"O/E {m['observed_expected_ratio']:.2f}, Brier {m['brier']:.4f}"
    )
    for f in result["audit"]["flags"]:
        console.print(f"  [red]fairness flag[/red]: {f['attribute']}={f['group']} ({f['metric']})")
    console.print(f"  report: {result['files']['evaluation_html']}")


@command.command("audit")
@click.argument("model")
@click.option("--calibration-bound", type=float, help="Flag O/E outside [1/(1+B), 1+B].")
@click.option("--eo-bound", type=float, help="Bound on |TPR| or |FPR| gaps.")
@click.option("--auroc-bound", type=float, help="Flag AUROC this far below the rest.")
@click.option("--threshold", type=float, help="Decision threshold (risk, 0–1).")
@_JSON
def audit_command(
    model: str,
    calibration_bound: float | None,
    eo_bound: float | None,
    auroc_bound: float | None,
    threshold: float | None,
    as_json: bool,
) -> None:
    """Fairness audit of MODEL by sex, race/ethnicity and age band (recomputed from its stored
    test predictions, optionally with other bounds)."""
    from pmed.models import recompute_audit

    reg = _load(model)
    audit = recompute_audit(
        reg,
        calibration_bound=calibration_bound,
        equalised_odds_bound=eo_bound,
        auroc_bound=auroc_bound,
        threshold=threshold,
    )
    if as_json:
        print_json({"model_id": reg.id, **audit, "mitigation": reg.meta.get("mitigation", {})})
        return
    for attr, info in audit["attributes"].items():
        table = Table(title=f"{reg.id}: {attr}", title_justify="left")
        for col in ("group", "n", "events", "O/E", "TPR", "FPR", "AUROC", "flags"):
            table.add_column(col)
        for g in info["groups"]:
            table.add_row(
                g["group"],
                str(g["n"]),
                str(g["events"]),
                f"{g['oe_ratio']:.2f}",
                f"{g['tpr']:.2f}",
                f"{g['fpr']:.2f}",
                f"{g['auroc']:.3f}",
                ", ".join(g["flags"] + [f"({d})" for d in g["disparities"]]),
            )
        console.print(table)
    console.print(
        "flags: "
        + (
            ", ".join(f"{f['attribute']}={f['group']} ({f['metric']})" for f in audit["flags"])
            or "none"
        )
    )


@command.command("card")
@click.argument("model")
@click.option(
    "--format", "fmt", type=click.Choice(["md", "html", "json"]), default="md", show_default=True
)
def card_command(model: str, fmt: str) -> None:
    """Print MODEL's model card (Markdown, HTML or JSON)."""
    reg = _load(model)
    path = reg.file({"md": "card.md", "html": "card.html", "json": "card.json"}[fmt])
    if not path.is_file():
        from pmed.models.card import write_card

        write_card(reg)
    click.echo(path.read_text(encoding="utf-8"))


@command.command("list")
@_JSON
def list_command(as_json: bool) -> None:
    """Registered models, newest first."""
    from pmed.models import list_models

    rows = [
        {
            "model_id": m.id,
            "cohort": m.meta.get("cohort_name"),
            "algorithm": m.meta.get("algorithm"),
            "created": m.meta.get("created"),
            "auroc": m.meta.get("metrics", {}).get("auroc"),
            "calibration_slope": m.meta.get("metrics", {}).get("calibration_slope"),
            "flags": len(m.meta.get("audit", {}).get("flags", [])),
        }
        for m in list_models(Settings.from_env().home)
    ]
    if as_json:
        print_json(rows)
        return
    table = Table(title="registered models", title_justify="left")
    for col in ("model", "algorithm", "created", "AUROC", "cal. slope", "flags"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r["model_id"],
            r["algorithm"],
            r["created"],
            f"{r['auroc']:.3f}",
            f"{r['calibration_slope']:.2f}",
            str(r["flags"]),
        )
    console.print(table)


@command.command("predict")
@click.argument("model")
@click.option("--patient", "patient_id", required=True, help="Patient id in the store.")
@click.option("--at", "at", help="Index date (YYYY-MM-DD); default today.")
@_JSON
def predict_command(model: str, patient_id: str, at: str | None, as_json: bool) -> None:
    """Score one patient with MODEL: risk, top contributors in words, provenance."""
    from pmed.cli._store import open_store
    from pmed.models import predict
    from pmed.population import CohortDefinition, extract_cohort

    reg = _load(model)
    try:
        index = date.fromisoformat(at) if at else date.today()
    except ValueError:
        raise InputError(f"--at {at!r} is not a date (YYYY-MM-DD)", field="--at") from None
    store = open_store(Settings.from_env())
    if not store.exists("Patient", patient_id):
        raise NotFoundError(f"Patient/{patient_id} is not in the store")
    definition = CohortDefinition.model_validate(reg.meta["cohort"])
    fs = extract_cohort(
        store, definition, index_date=index, patient_ids=[patient_id], for_training=False
    )
    row = fs.frame.row(0, named=True)
    inputs = [
        f"{r['resourceType']}/{r['id']}"
        for r in store.patient_resources(
            patient_id,
            types=[
                "Patient",
                "Condition",
                "Observation",
                "MedicationRequest",
                "MedicationStatement",
                "Encounter",
            ],
        )
    ]
    finding = predict(
        reg,
        {n: row[n] for n in fs.feature_names},
        subject=f"Patient/{patient_id}",
        inputs=inputs,
        in_target=bool(row["in_target"]),
        target_note=row["target_note"] or "",
    )
    if as_json:
        print_json(finding.model_dump(mode="json"))
        return
    console.print(f"[bold]{finding.summary}[/bold]  (severity {finding.severity.value})")
    for c in finding.explanation.contributions if finding.explanation else []:
        console.print(f"  • {c.source}")
    console.print(f"  evidence: {finding.evidence[0].detail}")
