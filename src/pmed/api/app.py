"""`create_app(settings)`: the FastAPI application serving the store as a FHIR R4 server.

Routers, one per concern: capabilities (`/metadata`), Bulk Data export, transaction/batch at
the base, search and `$everything`, instance interactions. Literal paths are registered before
the `/{type}/{id}` patterns so `Patient/$export` is never read as an id. Every route reaches the
store through `pmed.api.access.get_access`; every error is an OperationOutcome
(`pmed.api.outcomes`). OpenAPI is published at `/openapi.json`, docs at `/docs`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from pmed.api import bulk_export, bundle_routes, capability, cds_hooks, fhir_routes, search_routes
from pmed.api.access import AccessFactory, default_access
from pmed.api.bulk_export import ExportManager
from pmed.api.outcomes import install_exception_handlers
from pmed.config import Settings
from pmed.record.store import Store

__all__ = ["create_app"]


def create_app(
    settings: Settings,
    *,
    store: Store | None = None,
    access_factory: AccessFactory | None = None,
) -> FastAPI:
    """A FHIR R4 API over the store `settings` point at (or over `store`, when given).

    `access_factory(request, store, settings)` builds each request's `AccessContext`; governance
    passes its own to authorize, filter by consent and record an audit trail.
    """
    owns_store = store is None
    the_store = store if store is not None else Store.open(settings)
    exports = ExportManager(settings.home / "exports")

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            exports.shutdown()
            if owns_store:
                the_store.close()

    app = FastAPI(
        title="pmed FHIR R4 API",
        version=capability._pmed_version(),
        description=(
            "The patient record as a FHIR R4 server: CRUD with versions, search, "
            "transaction/batch, Patient/$everything and Bulk Data $export. "
            "Requests and responses are application/fhir+json; errors are OperationOutcomes."
        ),
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.store = the_store
    app.state.exports = exports
    app.state.access_factory = access_factory or default_access
    install_exception_handlers(app)
    from pmed.governance.api_routes import install_governance  # here: it imports pmed.api

    install_governance(app, explicit_factory=access_factory is not None)  # auth, consent, ledger
    for module in (capability, cds_hooks, bulk_export, bundle_routes, search_routes, fhir_routes):
        app.include_router(module.router)
    return app
