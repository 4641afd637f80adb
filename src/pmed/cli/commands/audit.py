"""`pmed audit verify|log|checkpoint|prove`: the tamper-evident access ledger.

`verify` recomputes every entry's hash and the Merkle tree, checks every signed checkpoint and
every entry's seal, and names each edited, deleted, inserted or reordered entry; it exits 1 when
anything is wrong.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from pmed.cli._output import console, print_json

if TYPE_CHECKING:
    from pmed.governance.ledger import Ledger

__all__ = ["command"]


@click.group("audit")
def command() -> None:
    """Check and read the access ledger."""


def _ledger() -> Ledger:
    from pmed.cli._store import open_store
    from pmed.config import Settings
    from pmed.governance.ledger import Ledger

    settings = Settings.from_env()
    store = open_store(settings)
    return Ledger.open(store.engine, settings.home)


@command.command("verify")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def verify(as_json: bool) -> None:
    """Verify the whole ledger; exit 1 and locate the damage if it was tampered with."""
    import time

    from pmed.cli._store import open_store
    from pmed.config import Settings
    from pmed.governance.keys import KeyRing
    from pmed.governance.ledger_verify import verify_ledger

    settings = Settings.from_env()
    store = open_store(settings)
    started = time.perf_counter()
    report = verify_ledger(store.engine, KeyRing(settings.home))
    seconds = time.perf_counter() - started
    if as_json:
        print_json({**report.as_dict(), "seconds": round(seconds, 3)})
    else:
        status = "[green]intact[/green]" if report.ok else "[red]TAMPERED[/red]"
        console.print(
            f"ledger {status}: {report.entries} entries, {report.checkpoints} signed checkpoints, "
            f"root {report.root[:16]}… ({seconds:.2f} s)"
        )
        for p in report.problems:
            console.print(f"  entry {p.seq}: [bold]{p.kind}[/bold] — {p.detail}")
    if not report.ok:
        raise SystemExit(1)


@command.command("log")
@click.option("--patient", required=True, help="Patient id whose accesses to list.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10000))
@click.option("--json", "as_json", is_flag=True, help="Print AuditEvents as JSON.")
def log(patient: str, limit: int, as_json: bool) -> None:
    """Who accessed a patient's record, when, and why (newest first)."""
    entries = _ledger().entries_for_patient(patient, limit=limit)
    if as_json:
        print_json(entries)
        return
    for e in entries:
        who = e["agent"][0]["who"]["identifier"]["value"]
        action = e["subtype"][0]["code"]
        purpose = (e.get("purposeOfEvent") or [{}])[0]
        why = purpose.get("coding", [{}])[0].get("code", "")
        reason = f" ({purpose['text']})" if "text" in purpose else ""
        outcome = "" if e["outcome"] == "0" else " [denied]"
        console.print(f"#{e['id']} {e['recorded']} {who} {action} {why}{reason}{outcome}")


@command.command("checkpoint")
def checkpoint() -> None:
    """Sign a checkpoint of the ledger as it is now."""
    ledger = _ledger()
    cp = ledger.checkpoint() or ledger.latest_checkpoint()
    print_json(cp.as_dict() if cp else {"size": 0})


@command.command("prove")
@click.option("--index", type=int, default=None, help="Inclusion proof for this entry.")
@click.option("--first", type=int, default=None, help="Consistency proof from this tree size.")
@click.option("--size", type=int, default=None, help="Tree size to prove against (default: all).")
def prove(index: int | None, first: int | None, size: int | None) -> None:
    """Print an RFC 6962 inclusion or consistency proof."""
    if (index is None) == (first is None):
        raise click.UsageError("give exactly one of --index or --first")
    ledger = _ledger()
    if index is not None:
        print_json(ledger.inclusion_proof(index, size))
    else:
        assert first is not None
        print_json(ledger.consistency_proof(first, size))
