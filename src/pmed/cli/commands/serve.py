"""`pmed serve`: run the FHIR R4 API over the store with uvicorn."""

from __future__ import annotations

import click

__all__ = ["command"]


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--reload", is_flag=True, help="Restart when the code changes (development).")
def command(host: str, port: int, reload: bool) -> None:
    """Serve the record as a FHIR R4 API (OpenAPI docs at /docs).

    The store is the one $PMED_HOME / $PMED_DATABASE_URL point at. Behind a proxy, links follow
    the Host and X-Forwarded-* headers.
    """
    import uvicorn

    from pmed.config import Settings

    settings = Settings.from_env()
    click.echo(f"pmed FHIR API on http://{host}:{port} (docs at /docs); Ctrl-C stops it", err=True)
    if reload:
        uvicorn.run(
            "pmed.api.asgi:app", host=host, port=port, reload=True, proxy_headers=True,
            factory=False,
        )  # fmt: skip
        return
    from pmed.api.app import create_app

    uvicorn.run(create_app(settings), host=host, port=port, proxy_headers=True)
