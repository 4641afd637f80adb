"""`pmed risk …`: validated risk and dose calculators, for given inputs or a patient's record.

pmed risk list [--json]
pmed risk calc NAME --input '{"age": 55, ...}' [--horizon 10|30] [--json | --fhir PATIENT]
pmed risk score PATIENT [--calculator NAME]... [--at DATE] [--horizon 10|30] [--json|--fhir]
pmed risk what-if PATIENT --set smoker=false --set sbp=120 [--calculator NAME]... [--json]
"""

from __future__ import annotations

import json
import sys
from datetime import date
from typing import Any

import click
from rich.table import Table

from pmed.cli._output import console, print_json
from pmed.errors import InputError

__all__ = ["command"]


@click.group(name="risk")
def command() -> None:
    """Risk scores and doses: PCE, PREVENT, Framingham, FINDRISC, CHA2DS2-VASc, HAS-BLED,
    CKD-EPI eGFR, NEWS2, qSOFA, IWPC warfarin — explained, with what-if."""


_HORIZON = click.option("--horizon", type=click.Choice(["10", "30"]), default=None,
                        help="PREVENT horizon in years (default 10).")  # fmt: skip


def _options(horizon: str | None) -> dict[str, Any]:
    return {"horizon": int(horizon)} if horizon else {}


@command.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_command(as_json: bool) -> None:
    """List the calculators and their declared inputs (unit, valid range, record source)."""
    from pmed.risk import calculator_names, get_calculator

    rows: list[dict[str, Any]] = []
    for name in calculator_names():
        calc = get_calculator(name)
        rows.append({
            "name": name,
            "title": calc.title,
            "unit": calc.unit,
            "inputs": [
                {"name": s.name, "description": s.description, "unit": s.unit,
                 "range": s.range_text(), "optional": s.optional, "source": s.source}
                for s in calc.inputs
            ],
            "evidence": [e.title for e in calc.evidence],
        })  # fmt: skip
    if as_json:
        print_json(rows)
        return
    for row in rows:
        table = Table(title=f"{row['name']}: {row['title']}", title_justify="left")
        for column in ("input", "unit", "valid", "source"):
            table.add_column(column)
        for i in row["inputs"]:
            label = i["name"] + (" (optional)" if i["optional"] else "")
            table.add_row(label, i["unit"] or "", i["range"], i["source"])
        console.print(table)


def _finding_json(finding: Any) -> dict[str, Any]:
    """The machine form of one finding: value and unit first, then how it was reached."""
    details = finding.details
    out: dict[str, Any] = {
        "calculator": details.get("calculator"),
        "kind": finding.kind.value,
        "value": finding.value,
        "unit": finding.unit,
        "summary": finding.summary,
        "severity": finding.severity.value,
    }
    for key in ("band", "model", "horizon", "endpoints", "algorithm", "mg_per_day", "missing",
                "reason", "applicable", "record_notes", "ten_year_risk",
                "stroke_rate_percent_per_year", "bleeds_per_100_patient_years", "response",
                "kdigo_stage"):  # fmt: skip
        if key in details and details[key] is not None:
            out[key] = details[key]
    if finding.explanation is not None:
        out["contributions"] = [
            c.model_dump(exclude_none=True) for c in finding.explanation.contributions
        ]
        out["what_ifs"] = [w.model_dump(exclude_none=True) for w in finding.explanation.what_ifs]
        out["explanation"] = finding.explanation.text
    out["inputs"] = details.get("inputs", {})
    out["sources"] = details.get("sources", {})
    out["evidence"] = [e.model_dump(exclude_none=True) for e in finding.evidence]
    out["provenance"] = finding.provenance.model_dump(mode="json")
    return out


def _print_finding(finding: Any) -> None:
    colour = {"critical": "red", "high": "red", "moderate": "yellow"}.get(
        finding.severity.value, "green"
    )
    console.print(f"[bold {colour}]{finding.summary}[/]")
    if finding.explanation is None:
        return
    contributions = finding.explanation.contributions
    terms = [c for c in contributions if not (c.unit and "points" in c.unit)]
    points = [c for c in contributions if c.unit and "points" in c.unit]
    if terms:
        unit = terms[0].unit or ""
        text = ", ".join(f"{c.factor} {c.contribution:+.3f}" for c in terms if c.contribution)
        console.print(f"  [dim]equation terms ({unit}): {text}[/]")
    if points:
        table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
        for column in ("factor", "value", points[0].unit or "points", "source"):
            table.add_column(column)
        for c in points:
            value = (
                ""
                if c.value is None
                else f"{c.value:g}"
                if isinstance(c.value, float)
                else (str(c.value))
            )
            table.add_row(c.factor, value, f"{c.contribution:+.2f}", c.source or "")
        console.print(table)
    for w in finding.explanation.what_ifs:
        _print_what_if(w)


def _print_what_if(w: Any) -> None:
    changes = ", ".join(f"{k}={v}" for k, v in w.changes.items())
    relative = "" if w.relative_change is None else f", {w.relative_change:+.0%}"
    label = "estimate" if w.estimate else "equation"
    console.print(f"  what if {changes}: {w.value:.2f} ({w.absolute_change:+.2f}{relative}; "
                  f"{label})")  # fmt: skip
    if w.estimate and w.note:
        console.print(f"    [dim]{w.note}[/]")


@command.command("calc")
@click.argument("name")
@click.option("--input", "input_json", required=True,
              help="Inputs as a JSON object, e.g. '{\"age\": 55, \"sex\": \"female\"}'; "
                   "'-' reads it from stdin.")  # fmt: skip
@_HORIZON
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option(
    "--fhir",
    "fhir_subject",
    metavar="PATIENT",
    help="Print the FHIR resource (RiskAssessment, MedicationRequest) for PATIENT.",
)
def calc_command(name: str, input_json: str, horizon: str | None, as_json: bool,
                 fhir_subject: str | None) -> None:  # fmt: skip
    """Run calculator NAME on the given inputs (`pmed risk list` shows them).

    Exit status 2 when inputs are missing (they are named) or out of range (the range is given).
    """
    from pmed.findings import FindingKind
    from pmed.risk import calculate

    text = sys.stdin.read() if input_json == "-" else input_json
    try:
        inputs = json.loads(text)
    except ValueError as exc:
        raise InputError(f"--input is not valid JSON: {exc}", field="--input") from None
    if not isinstance(inputs, dict):
        raise InputError("--input must be a JSON object of input name → value", field="--input")
    finding = calculate(name, inputs, **_options(horizon))
    missing = finding.kind == FindingKind.MISSING_DATA
    if fhir_subject and not missing:
        from pmed.record.fhir_output import finding_to_fhir

        print_json(finding_to_fhir(finding, fhir_subject))
    elif as_json:
        print_json(_finding_json(finding))
    else:
        _print_finding(finding)
    if missing:
        sys.exit(2)


def _parse_at(at: str | None) -> date | None:
    if at is None:
        return None
    try:
        return date.fromisoformat(at)
    except ValueError:
        raise InputError(f"--at must be a date (YYYY-MM-DD), got {at!r}", field="--at") from None


def _load(patient: str) -> Any:
    from pmed.cli._store import open_store
    from pmed.record.patient import PatientRecord

    return PatientRecord.load(open_store(), patient)


_CALCULATORS = click.option(
    "--calculator",
    "names",
    multiple=True,
    metavar="NAME",
    help="Only these calculators (repeatable; default: all that apply).",
)
_AT = click.option("--at", help="Score the record as it stood on this date (YYYY-MM-DD).")


@command.command("score")
@click.argument("patient")
@_CALCULATORS
@_AT
@_HORIZON
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option(
    "--fhir", "as_fhir", is_flag=True, help="Print the findings as a FHIR Bundle (collection)."
)
@click.option("--save", is_flag=True, help="Store the RiskAssessments etc. in the record.")
def score_command(patient: str, names: tuple[str, ...], at: str | None, horizon: str | None,
                  as_json: bool, as_fhir: bool, save: bool) -> None:  # fmt: skip
    """Run every calculator whose inputs PATIENT's record has, with explanations and what-ifs.

    Relevant calculators that lack an input say which one and where it would come from.
    """
    from pmed.findings import FindingKind
    from pmed.risk.from_record import score_record

    record = _load(patient)
    findings = score_record(record, at=_parse_at(at), names=list(names) or None,
                            **_options(horizon))  # fmt: skip
    resources = []
    if as_fhir or save:
        from pmed.record.fhir_output import finding_to_fhir

        resources = [
            finding_to_fhir(f, record.reference)
            for f in findings
            if f.kind != FindingKind.MISSING_DATA and f.value is not None
        ]
    if save and resources:
        from pmed.cli._store import open_store

        open_store().write_batch(resources)
    if as_fhir:
        print_json({"resourceType": "Bundle", "type": "collection",
                    "entry": [{"resource": r} for r in resources]})  # fmt: skip
    elif as_json:
        print_json({"patient": record.reference, "findings": [_finding_json(f) for f in findings]})
    else:
        if not findings:
            console.print(f"No calculator applies to {record.reference} with its recorded data.")
        for finding in findings:
            _print_finding(finding)
            console.print()
        if save:
            console.print(f"Saved {len(resources)} resources to {record.reference}'s record.")


def _parse_sets(pairs: tuple[str, ...]) -> dict[str, str]:
    changes: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InputError(f"--set takes NAME=VALUE, got {pair!r}", field="--set")
        changes[key.strip()] = value.strip()
    return changes


@command.command("what-if")
@click.argument("patient")
@click.option("--set", "sets", multiple=True, required=True, metavar="NAME=VALUE",
              help="A change: an input (smoker=false, sbp=120) or a treatment "
                   "(statin=moderate|high, sbp_lowering=10, ldl_lowering=40).")  # fmt: skip
@_CALCULATORS
@_AT
@_HORIZON
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def what_if_command(patient: str, sets: tuple[str, ...], names: tuple[str, ...], at: str | None,
                    horizon: str | None, as_json: bool) -> None:  # fmt: skip
    """Recompute PATIENT's risks with changes; report absolute and relative change.

    Input changes are recomputed by the equation; treatments the equations do not contain are
    cited meta-analysis estimates and labelled so.
    """
    from pmed.risk.from_record import what_if_record

    changes = _parse_sets(sets)
    record = _load(patient)
    results = what_if_record(record, changes, at=_parse_at(at), names=list(names) or None,
                             **_options(horizon))  # fmt: skip
    if as_json:
        print_json({
            "patient": record.reference,
            "changes": changes,
            "results": [
                {"calculator": f.details.get("calculator"), "before": f.value, "unit": f.unit,
                 **w.model_dump(exclude_none=True)}
                for f, w in results
            ],
        })  # fmt: skip
        return
    if not results:
        console.print("None of the changes applies to a risk calculated from this record.")
    for finding, w in results:
        console.print(f"[bold]{finding.summary}[/]")
        _print_what_if(w)
