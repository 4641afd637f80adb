"""`pmed report PATIENT`: the patient's care report as one self-contained HTML page."""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["command"]


@click.command("report")
@click.argument("patient")
@click.option(
    "--audience",
    type=click.Choice(["clinician", "patient"]),
    default="clinician",
    show_default=True,
    help="clinician: full detail with evidence; patient: plain language.",
)
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the HTML (default report-PATIENT-AUDIENCE.html).",
)
def command(patient: str, audience: str, out: Path | None) -> None:
    """Write PATIENT's care report (HTML: banner, PGx table, risk scores with factor and what-if
    charts, recommendations with evidence, data provenance) and print a short summary."""
    from pmed.care.plan import build_plan
    from pmed.care.report import render_report, terminal_summary
    from pmed.cli._output import console
    from pmed.cli._store import open_store
    from pmed.record.patient import PatientRecord

    store = open_store()
    try:
        record = PatientRecord.load(store, patient)
        plan = build_plan(record)
    finally:
        store.close()
    path = out or Path(f"report-{patient}-{audience}.html")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_report(plan, record, audience=audience), encoding="utf-8")
    for line in terminal_summary(plan):
        console.print(line, highlight=False, markup=False)
    console.print(f"wrote {path}", highlight=False, markup=False, soft_wrap=True)
