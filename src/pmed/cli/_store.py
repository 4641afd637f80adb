"""Opening the store from the environment, for every command that needs one."""

from __future__ import annotations

from pmed.config import Settings
from pmed.record.store import Store

__all__ = ["open_store"]


def open_store(settings: Settings | None = None) -> Store:
    return Store.open(settings or Settings.from_env())
