"""`pmed export --deidentify safe-harbor|limited-dataset --out DIR`: research extracts.

Writes one NDJSON file per resource type plus `deidentification.json` (method and counts).
Patients who opted out of research are left out; resources their consent withholds are too.
The export itself is recorded in the access ledger.
"""

from __future__ import annotations

from pathlib import Path

import click

from pmed.cli._output import console, print_json

__all__ = ["command"]


@click.command("export")
@click.option(
    "--deidentify",
    "mode",
    required=True,
    type=click.Choice(["safe-harbor", "limited-dataset"]),
    help="HIPAA Safe Harbor, or a limited data set with per-patient date shifts.",
)
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def command(mode: str, out: Path, as_json: bool) -> None:
    """Export the store de-identified, as NDJSON, for research."""
    import getpass

    from rich.progress import Progress

    from pmed.cli._store import open_store
    from pmed.config import Settings
    from pmed.governance.deidentify import export_deidentified
    from pmed.governance.ledger import Ledger

    settings = Settings.from_env()
    store = open_store(settings)
    total = store.counts().get("Patient", 0)
    with Progress(console=console, transient=True, disable=as_json) as bar:
        task = bar.add_task("de-identifying patients", total=total)
        summary = export_deidentified(store, out, mode, progress=lambda n: bar.advance(task, n))
    ledger = Ledger.open(store.engine, settings.home)
    ledger.record(
        "export",
        agent=f"cli:{getpass.getuser()}",
        role="admin",
        purpose="HRESCH",
        reason=f"de-identified export ({mode}) to {out}",
        outcome="success",
    )
    ledger.close()
    if as_json:
        print_json(summary.as_dict())
        return
    console.print(
        f"{summary.patients} patients de-identified ({mode}) into {out}; "
        f"{summary.excluded_opted_out} opted out of research, "
        f"{summary.withheld_by_consent} resources withheld by consent"
    )
    for rtype, n in sorted(summary.resources.items()):
        console.print(f"  {rtype}: {n}")
