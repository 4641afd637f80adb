"""The FHIR R4 REST API (FastAPI): `create_app(settings)`; run it with `pmed serve`."""

from __future__ import annotations

from pmed.api.access import AccessContext, get_access
from pmed.api.app import create_app

__all__ = ["AccessContext", "create_app", "get_access"]
