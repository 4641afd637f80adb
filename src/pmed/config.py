"""Settings: read once from the environment at the edge, then passed in (DESIGN.md convention 5)."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict

__all__ = ["Settings"]


class Settings(BaseModel):
    """Where pmed keeps its data and how it reaches its store.

    `home` holds the embedded SQLite file, models, keys and exports. `database_url`, when set,
    points at PostgreSQL (`postgresql://…`) or another SQLite file (`sqlite:///…`).
    """

    model_config = ConfigDict(frozen=True)

    home: Path = Path(".pmed")
    database_url: str | None = None
    base_url: str = "http://localhost:8000"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        return cls(
            home=Path(env.get("PMED_HOME", ".pmed")),
            database_url=env.get("PMED_DATABASE_URL") or None,
            base_url=env.get("PMED_BASE_URL", "http://localhost:8000"),
        )

    @property
    def resolved_database_url(self) -> str:
        """The SQLAlchemy URL of the store; the SQLite file under `home` by default."""
        url = self.database_url or f"sqlite:///{(self.home / 'pmed.sqlite').resolve()}"
        if url.startswith("postgresql://") or url.startswith("postgres://"):
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        return url
