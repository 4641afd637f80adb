"""`pmed record list|show`: the patients in the store, and one patient's record at a glance."""

from __future__ import annotations

from typing import Any

import click
from rich.table import Table

from pmed.cli._output import console, print_json
from pmed.cli._store import open_store
from pmed.record.patient import PatientRecord
from pmed.record.store import Store

# LOINC codes shown in the record summary, in reading order.
_LABS = [
    ("2093-3", "Total cholesterol", "mg/dL"),
    ("2085-9", "HDL cholesterol", "mg/dL"),
    ("18262-6", "LDL cholesterol", "mg/dL"),
    ("4548-4", "HbA1c", "%"),
    ("2160-0", "Creatinine", "mg/dL"),
    ("39156-5", "BMI", "kg/m2"),
]


@click.group("record")
def command() -> None:
    """Browse the patient records in the store."""


@command.command("list")
@click.option("--limit", default=20, show_default=True, help="How many patients to list.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_patients(limit: int, as_json: bool) -> None:
    """List patients (id, name, birth date, sex)."""
    store = open_store()
    page = store.search("Patient", [], count=limit, sort="family")
    rows = [_patient_row(p) for p in page.resources]
    if as_json:
        print_json({"total": page.total, "patients": rows})
        return
    table = Table(title=f"{page.total} patients (first {len(rows)})")
    for column in ("id", "name", "birth date", "sex"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["id"], row["name"], row["birth_date"] or "", row["sex"] or "")
    console.print(table)


def _patient_row(resource: dict[str, Any]) -> dict[str, Any]:
    names = resource.get("name") or [{}]
    name = " ".join([*names[0].get("given", []), names[0].get("family", "")]).strip()
    return {
        "id": resource["id"],
        "name": name,
        "birth_date": resource.get("birthDate"),
        "sex": resource.get("gender"),
    }


def record_summary(store: Store, patient_id: str) -> dict[str, Any]:
    """The facts engines read from this patient's record, with the resource each came from."""
    record = PatientRecord.load(store, patient_id)
    labs = {}
    for code, label, unit in _LABS:
        measurement = record.latest(code, unit=unit)
        if measurement is not None:
            labs[label] = {
                "value": round(measurement.value, 2),
                "unit": measurement.unit,
                "date": measurement.date.date().isoformat() if measurement.date else None,
                "source": measurement.reference,
            }
    bp = record.blood_pressure()
    smoking = record.smoking_status
    return {
        "id": record.id,
        "age": record.age(),
        "sex": record.sex,
        "race": record.race.text if record.race else None,
        "ethnicity": record.ethnicity.text if record.ethnicity else None,
        "blood_pressure": (
            f"{bp.systolic.value:.0f}/{bp.diastolic.value:.0f} mmHg"
            if bp and bp.diastolic
            else None
        ),
        "smoking": smoking.status if smoking else None,
        "labs": labs,
        "conditions": sorted(
            {c.text or c.code.display or str(c.code.code) for c in record.conditions()}
        ),
        "medications": sorted(
            {m.text or m.code.display or str(m.code.code) for m in record.medications()}
        ),
        "genomics": [
            {"gene": g.gene, "diplotype": g.diplotype, "phenotype": g.phenotype}
            for g in record.genomic_results()
        ],
    }


@command.command("show")
@click.argument("patient_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def show(patient_id: str, as_json: bool) -> None:
    """Show one patient's record as the engines see it: demographics, latest labs and vitals,
    smoking, active conditions and medications, pharmacogenomic results."""
    summary = record_summary(open_store(), patient_id)
    if as_json:
        print_json(summary)
        return
    print_summary(summary)


def print_summary(summary: dict[str, Any]) -> None:
    console.print(
        f"[bold]Patient {summary['id']}[/bold]: {summary['age']} y, {summary['sex']}, "
        f"{summary['race'] or 'race not recorded'}"
    )
    if summary["blood_pressure"]:
        console.print(f"  Blood pressure     {summary['blood_pressure']}")
    console.print(f"  Smoking            {summary['smoking'] or 'not recorded'}")
    for label, lab in summary["labs"].items():
        console.print(f"  {label:<19}{lab['value']} {lab['unit']}  ({lab['date']})")
    if summary["conditions"]:
        console.print("  Active conditions: " + "; ".join(summary["conditions"]))
    if summary["medications"]:
        console.print("  Active medications: " + "; ".join(summary["medications"]))
    for gene in summary["genomics"]:
        console.print(f"  {gene['gene']:<10}{gene['diplotype'] or ''}  {gene['phenotype'] or ''}")
