"""Governance settings, read once from the environment at the edge and passed in.

- `PMED_AUTH`: `on` (default), or `off` to run **without authentication** for development
  only: every request then acts as an admin named `dev` (the ledger still records it).
  Never the default; `pmed serve` warns loudly when it is off.
- `PMED_AUTH_ISSUER`, `PMED_AUTH_AUDIENCE`: the `iss` and `aud` tokens must carry
  (default `PMED_BASE_URL`).
- `PMED_AUTH_JWKS_URL`: an external identity provider's JWK Set. When set, its keys verify
  tokens and the built-in issuer's keys are no longer trusted (unless `PMED_AUTH_TRUST_LOCAL=1`).
- `PMED_AUTH_ALGORITHMS`: accepted JWS algorithms, asymmetric only (default `EdDSA,ES256,RS256`).
- `PMED_AUTH_LEEWAY`: clock skew allowed on exp/nbf/iat, seconds (default 30).
- `PMED_LEDGER`: `on` (default); `off` stops recording accesses (benchmarks only).
- `PMED_LEDGER_SYNC`: `1` writes each access's ledger entry inside the request; by default a
  background writer appends queued entries every 50 ms (flushed before the ledger is read and
  at shutdown), which keeps the ledger off the request path.
- `PMED_LEDGER_CHECKPOINT_EVERY`: entries between signed checkpoints (default 1000).
- `PMED_MASTER_KEY` (base64 of 32 bytes) or `PMED_MASTER_KEY_FILE`: the master key that wraps
  patient data keys; default the file `PMED_HOME/keys/master.key`, created on first use.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from pmed.config import Settings
from pmed.errors import InputError

__all__ = ["GovernanceConfig"]

_ASYMMETRIC = frozenset({"EdDSA", "ES256", "ES384", "RS256", "RS384", "RS512", "PS256", "PS384"})


class GovernanceConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    home: Path = Path(".pmed")
    auth_enabled: bool = True
    issuer: str = "http://localhost:8000"
    audience: str = "http://localhost:8000"
    jwks_url: str | None = None
    trust_local_keys: bool = True
    algorithms: tuple[str, ...] = ("EdDSA", "ES256", "RS256")
    leeway: int = 30
    ledger_enabled: bool = True
    ledger_sync: bool = False
    checkpoint_every: int = 1000
    master_key: str | None = None
    master_key_file: Path | None = None

    @classmethod
    def from_env(
        cls, settings: Settings, environ: dict[str, str] | None = None
    ) -> GovernanceConfig:
        env = os.environ if environ is None else environ
        auth = env.get("PMED_AUTH", "on").strip().lower()
        if auth not in ("on", "off"):
            raise InputError(f"PMED_AUTH must be 'on' or 'off', not {auth!r}", field="PMED_AUTH")
        algs = tuple(
            a.strip()
            for a in env.get("PMED_AUTH_ALGORITHMS", "EdDSA,ES256,RS256").split(",")
            if a.strip()
        )
        bad = [a for a in algs if a not in _ASYMMETRIC]
        if bad:
            raise InputError(
                f"PMED_AUTH_ALGORITHMS may list only asymmetric algorithms, not {', '.join(bad)}",
                field="PMED_AUTH_ALGORITHMS",
            )
        jwks_url = env.get("PMED_AUTH_JWKS_URL") or None
        key_file = env.get("PMED_MASTER_KEY_FILE")
        return cls(
            home=settings.home,
            auth_enabled=auth == "on",
            issuer=env.get("PMED_AUTH_ISSUER", settings.base_url),
            audience=env.get("PMED_AUTH_AUDIENCE", settings.base_url),
            jwks_url=jwks_url,
            trust_local_keys=jwks_url is None or env.get("PMED_AUTH_TRUST_LOCAL") == "1",
            algorithms=algs,
            leeway=int(env.get("PMED_AUTH_LEEWAY", "30")),
            ledger_enabled=env.get("PMED_LEDGER", "on").lower() != "off",
            ledger_sync=env.get("PMED_LEDGER_SYNC") == "1",
            checkpoint_every=int(env.get("PMED_LEDGER_CHECKPOINT_EVERY", "1000")),
            master_key=env.get("PMED_MASTER_KEY") or None,
            master_key_file=Path(key_file) if key_file else None,
        )
