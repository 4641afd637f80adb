"""The `pmed` command: `pmed <noun> <verb>`.

Each command lives in its own module under `pmed.cli.commands` and exports `command` (a click
command or group); modules are imported only when their command runs, so `pmed` starts fast.
Every `PmedError` becomes a one-line message and exit code 1 (error) or 2 (bad input), never a
traceback.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from typing import Any

import click

from pmed.errors import PmedError

__all__ = ["main"]


def _command_modules() -> dict[str, str]:
    from pmed.cli import commands

    return {
        info.name.replace("_", "-"): f"pmed.cli.commands.{info.name}"
        for info in pkgutil.iter_modules(commands.__path__)
        if not info.name.startswith("_")
    }


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_command_modules())

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = _command_modules().get(cmd_name)
        if module is None:
            return None
        cmd = importlib.import_module(module).command
        assert isinstance(cmd, click.Command)
        return cmd


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="pmed")
def cli() -> None:
    """pmed: a patient's data joined into one FHIR R4 record, clinical engines over it
    (pharmacogenomics, risk equations, learned models), and explained recommendations.

    \b
    Start here:
      pmed demo                 build a small synthetic store and show a patient
      pmed ingest FILE...       load FHIR bundles, NDJSON or resources (and VCFs with --patient)
      pmed serve                run the FHIR API
    Data lives under $PMED_HOME (default ./.pmed); set PMED_DATABASE_URL=postgresql://... for
    PostgreSQL.
    """


def main(argv: list[str] | None = None) -> Any:
    """Console entry point: run the command, turning PmedError into a message and exit code."""
    try:
        return cli.main(args=argv, prog_name="pmed", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(2)
    except PmedError as exc:
        click.secho(f"error: {exc}", fg="red", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
