"""Helpers for tests and benchmarks that talk to a governed API: bearer-token headers signed by
the built-in issuer of the server's `PMED_HOME`."""

from __future__ import annotations

from typing import Any

from pmed.config import Settings
from pmed.governance.config import GovernanceConfig
from pmed.governance.tokens import TokenIssuer

__all__ = ["admin_headers", "bearer_headers"]


def bearer_headers(
    settings: Settings,
    *,
    role: str,
    scope: str,
    subject: str | None = None,
    patient: str | None = None,
    fhir_user: str | None = None,
    ttl: int = 86400,
    extra: dict[str, Any] | None = None,
) -> dict[str, str]:
    """`Authorization: Bearer …` for a token the server built on `settings` accepts."""
    issuer = TokenIssuer.from_config(GovernanceConfig.from_env(settings))
    token = issuer.issue(
        subject=subject or f"test-{role}",
        role=role,
        scope=scope,
        patient=patient,
        fhir_user=fhir_user,
        ttl=ttl,
        extra=extra,
    )
    return {"Authorization": f"Bearer {token}"}


def admin_headers(settings: Settings) -> dict[str, str]:
    """An administrator with every interaction on every type (the API's own test suite)."""
    return bearer_headers(settings, role="admin", scope="user/*.cruds system/*.cruds")
