"""Governance: who may see what. Auth (SMART scopes), consent, the tamper-evident access
ledger, encryption at rest and de-identification. Each idea is one module; import from it."""

from __future__ import annotations

__all__: list[str] = []
