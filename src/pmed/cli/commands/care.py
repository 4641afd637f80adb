"""`pmed care plan PATIENT`: the patient's personalized care plan."""

from __future__ import annotations

import click

__all__ = ["command"]


@click.group("care")
def command() -> None:
    """Personalized care plan: drug–gene, statins, antithrombotics, kidney, diabetes screening."""


@command.command("plan")
@click.argument("patient")
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
def plan(patient: str, as_json: bool) -> None:
    """Build PATIENT's care plan from the record (recommendations with evidence)."""
    from pmed.care.plan import build_plan
    from pmed.care.report import terminal_summary
    from pmed.cli._output import console, print_json
    from pmed.cli._store import open_store
    from pmed.record.patient import PatientRecord

    store = open_store()
    try:
        result = build_plan(PatientRecord.load(store, patient))
    finally:
        store.close()
    if as_json:
        print_json(result.model_dump(mode="json"))
        return
    for line in terminal_summary(result):
        console.print(line, highlight=False, markup=False)
