"""An ASGI entry point for process managers and `--reload`: `uvicorn pmed.api.asgi:app`.

Settings come from the environment (`PMED_HOME`, `PMED_DATABASE_URL`) when this is imported.
"""

from __future__ import annotations

from pmed.api.app import create_app
from pmed.config import Settings

__all__ = ["app"]

app = create_app(Settings.from_env())
