"""The one door between HTTP routes and the store: `AccessContext`, one per request.

Every route receives its `AccessContext` from the single dependency `get_access` and calls only
its methods (read, search, everything, export, create, update, delete, transaction, …); no route
touches the store directly. Today the context is a pass-through. Governance (authentication, SMART
scopes, consent filtering, the audit ledger) plugs in here, in one place: give `create_app` an
`access_factory` that builds a richer context from the request, and, because `get_access` is a
generator dependency, code after its `yield` runs once the response is decided (ledgering).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request

from pmed.config import Settings
from pmed.record.store import SearchPage, Store

__all__ = ["AccessContext", "AccessFactory", "get_access"]


@dataclass
class AccessContext:
    """What one request may do, and the operations it does through it.

    `principal` is who is asking (None until governance adds authentication); `purpose` is the
    declared purpose of use. Subclasses override the methods to authorize, filter and record.
    """

    store: Store
    settings: Settings
    principal: str | None = None
    purpose: str | None = None
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def requires_token(self) -> bool:
        """Whether requests need a bearer token (so a Bulk Data manifest says so)."""
        return False

    # ---- reads ----------------------------------------------------------------------------
    def read(self, rtype: str, rid: str) -> dict[str, Any]:
        return self.store.read(rtype, rid)

    def vread(self, rtype: str, rid: str, version_id: str) -> dict[str, Any]:
        return self.store.vread(rtype, rid, version_id)

    def history(self, rtype: str, rid: str) -> list[dict[str, Any]]:
        return self.store.history(rtype, rid)

    def search(
        self,
        rtype: str,
        params: Sequence[tuple[str, str]],
        *,
        count: int,
        offset: int,
        sort: str | None,
        summary_count: bool,
        total: bool = True,
    ) -> SearchPage:
        """A page of matches; `total=False` lets the store skip counting (`_total=none`)."""
        return self.store.search(
            rtype,
            params,
            count=count,
            offset=offset,
            sort=sort,
            summary_count=summary_count,
            total=total,
        )

    def everything(
        self, patient_id: str, types: Sequence[str] | None = None
    ) -> Iterator[dict[str, Any]]:
        """The patient's compartment, Patient first, streamed. NotFound/Gone if no such patient."""
        self.store.read("Patient", patient_id)
        return self.store.patient_resources(patient_id, types)

    def export(
        self,
        rtype: str | None = None,
        since: str | None = None,
        patient_ids: Sequence[str] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Resources for a bulk export; runs in the export's worker thread, not the request."""
        return self.store.iter_resources(rtype, since, patient_ids)

    def may_see_export(self, owner: str | None) -> bool:
        """Whether this caller may poll, download or cancel an export kicked off by `owner`."""
        return True

    # ---- writes ---------------------------------------------------------------------------
    def create(self, resource: dict[str, Any]) -> dict[str, Any]:
        return self.store.create(resource)

    def update(
        self, resource: dict[str, Any], if_match: str | None = None
    ) -> tuple[dict[str, Any], bool]:
        return self.store.update(resource, if_match=if_match)

    def delete(self, rtype: str, rid: str) -> None:
        self.store.delete(rtype, rid)

    def transaction(
        self,
        bundle: dict[str, Any],
        validate: Callable[[dict[str, Any], int], None] | None = None,
    ) -> dict[str, Any]:
        """Apply a transaction or batch Bundle; the transaction-/batch-response Bundle."""
        from pmed.record.transaction import apply_bundle

        return apply_bundle(self.store, bundle, validate=validate).response


AccessFactory = Callable[[Request, Store, Settings], AccessContext]


def default_access(request: Request, store: Store, settings: Settings) -> AccessContext:
    return AccessContext(store=store, settings=settings)


def get_access(request: Request) -> Iterator[AccessContext]:
    """The single dependency every route uses to reach the record."""
    state = request.app.state
    factory: AccessFactory = state.access_factory
    context = factory(request, state.store, state.settings)
    yield context
