"""Encryption at rest, as the store sees it: an optional `Sealer` the store hands content to.

The store knows nothing of keys or of which resources are sensitive; `pmed.governance.sealing`
implements the protocol (per-patient AES-GCM data keys; genomic results and free-text notes) and
is injected where the store is opened for real use (`pmed.cli._store.open_store`, the API).

On write, `Store.write_prepared` offers every resource in a patient's compartment to
`Sealer.seal`; a non-None answer is `(sealed content, keyed hash)`: the `content` column then
holds the marked string (`pmed-sealed:…`, no plaintext) and `hash` a keyed digest of the
plaintext, so re-ingesting identical content is still a no-op but the hash reveals nothing.
On read every path (read, vread, history, search, patient compartment, bulk iteration) opens a
sealed row with `Sealer.unseal`. A sealed row read without a sealer raises `SealedContentError`
(403); once the patient's key is destroyed (crypto-shredding) `unseal` raises a `GoneError`
(410) and streamed reads (search, compartment, export) leave the row out.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.engine import Connection

from pmed.errors import AccessDenied

__all__ = [
    "SEALED_PREFIX",
    "SealedContentError",
    "Sealer",
    "is_sealed",
    "open_sealed",
    "seal_content",
]

#: Every sealed `content` value starts with this; plaintext content is a JSON object (`{`).
SEALED_PREFIX = "pmed-sealed:"


class SealedContentError(AccessDenied):
    """A resource is encrypted at rest and this store has no key to open it."""


class Sealer(Protocol):
    def seal(
        self, conn: Connection, patient_id: str, rtype: str, rid: str, content: str
    ) -> tuple[str, str] | None:
        """`(sealed content, keyed hash)` for a sensitive resource, None to store it as it is.

        `content` is the resource's serialised JSON; `conn` is the write's transaction (a new
        patient's data key is created inside it, so a failed write leaves no key behind)."""
        ...

    def unseal(self, rtype: str, rid: str, sealed: str) -> str:
        """The plaintext JSON of a sealed value (GoneError once the patient's key is gone)."""
        ...


def is_sealed(content: str | None) -> bool:
    return content is not None and content.startswith(SEALED_PREFIX)


class _Item(Protocol):  # a `pmed.record.store.PreparedResource`
    type: str
    id: str
    content: str
    hash: str
    patient_id: str | None


def seal_content(sealer: Sealer | None, conn: Connection, item: _Item) -> tuple[str, str]:
    """The `(content, hash)` to store for a prepared resource: sealed when the sealer says so."""
    if sealer is not None and item.patient_id is not None:
        sealed = sealer.seal(conn, item.patient_id, item.type, item.id, item.content)
        if sealed is not None:
            return sealed
    return item.content, item.hash


def open_sealed(sealer: Sealer | None, rtype: str, rid: str, sealed: str) -> str:
    """Stored content as plaintext JSON (unchanged when it is not sealed)."""
    if not sealed.startswith(SEALED_PREFIX):
        return sealed
    if sealer is None:
        raise SealedContentError(
            f"{rtype}/{rid} is encrypted at rest and no key is available "
            "(configure the master key: PMED_MASTER_KEY or PMED_MASTER_KEY_FILE)"
        )
    return sealer.unseal(rtype, rid, sealed)
