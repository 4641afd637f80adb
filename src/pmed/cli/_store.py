"""Opening the store from the environment, for every command that needs one.

When a master key is configured (`PMED_MASTER_KEY`, `PMED_MASTER_KEY_FILE`, or the key file
under `PMED_HOME/keys`), the store seals genomic data and free-text notes at rest with the
patient's data key (`pmed.governance.sealing`) and opens them again on read.
"""

from __future__ import annotations

from pmed.config import Settings
from pmed.record.store import Store

__all__ = ["open_store"]


def open_store(settings: Settings | None = None) -> Store:
    from pmed.governance.sealing import attach_sealer  # cryptography only when needed

    settings = settings or Settings.from_env()
    return attach_sealer(Store.open(settings), settings)
