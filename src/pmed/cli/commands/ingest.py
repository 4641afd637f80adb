"""`pmed ingest PATH...`: load FHIR files, NDJSON, directories (and VCFs with --patient)."""

from __future__ import annotations

from pathlib import Path

import click
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

from pmed.cli._output import console, err_console, print_json
from pmed.cli._store import open_store
from pmed.record.ingest import FileResult, ingest_paths, iter_input_files


@click.command("ingest")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--patient", help="Patient id a VCF belongs to (its calls are stored in that record)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--no-progress", is_flag=True, help="Do not draw a progress bar.")
def command(paths: tuple[Path, ...], patient: str | None, as_json: bool, no_progress: bool) -> None:
    """Load FHIR R4 data into the store, one transaction per file.

    \b
    Accepts transaction, batch and collection Bundles (Synthea's urn:uuid and conditional
    references are resolved), single resources, NDJSON bulk files and directories of these.
    Every resource is validated; a bad file is reported and leaves the store unchanged, the
    other files still load. Loading the same file again changes nothing.

    \b
    Examples:
      pmed ingest synthea/fhir/
      pmed ingest export/Observation.ndjson --json
      pmed ingest sample.vcf.gz --patient 123
    """
    files = list(iter_input_files(paths))
    store = open_store()
    total_bytes = sum(f.stat().st_size for f in files)
    show = not (as_json or no_progress) and console.is_terminal
    with Progress(
        TextColumn("[bold]ingest"),
        BarColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.description}"),
        console=err_console,
        disable=not show,
    ) as progress:
        task = progress.add_task("", total=total_bytes)

        def done(path: Path, result: FileResult) -> None:
            progress.update(task, advance=path.stat().st_size, description=path.name)
            if not result.ok and not as_json:
                err_console.print(f"[red]✗[/red] {result.error}")

        summary = ingest_paths(store, files, patient=patient, on_file_done=done)
    report = summary.as_dict()
    if as_json:
        print_json(report)
    else:
        console.print(
            f"{report['files'] - report['files_failed']}/{report['files']} files loaded: "
            f"{report['created']} created, {report['updated']} updated, "
            f"{report['unchanged']} unchanged"
        )
        for rtype, count in report["by_type"].items():
            console.print(f"  {rtype:<28} {count:>8}")
    if summary.failed:
        raise SystemExit(2)
