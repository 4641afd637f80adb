"""Verifying the JWT a CDS Client sends with each CDS Hooks call (CDS Hooks 2.0, "Trusting CDS
Clients", https://cds-hooks.hl7.org/2.0/#trusting-cds-clients).

Rules enforced (each failure → 401 with an OperationOutcome naming the rule):
* `Authorization: Bearer <JWT>` present;
* header `alg` ES384 or RS384 only (so `none`, HS256 and the rest are refused), `kid` present;
* `iss` on the allow-list; a header `jku`, if present, on that issuer's allow-list (it is the
  only URL keys are ever fetched from besides the issuer's configured `jwks_url`);
* the key named by `kid` found in the issuer's JWKS and valid for `alg`; signature verified;
* `aud` equal to the URL of the service called; `exp` present, not passed, and at most five
  minutes ahead (the spec's ceiling); `iat`, `sub` and `jti` present;
* `jti` not seen before within its token's lifetime (replay).

Configuration: the allow-list is JSON at `$PMED_CDS_CLIENTS` (default
`$PMED_HOME/cds_clients.json`):

    {"clients": [{"iss": "https://ehr.example.org",
                  "jwks": {"keys": [...]},                        # inline keys, or
                  "jwks_url": "https://ehr.example.org/jwks.json", # fetched, cached 5 minutes
                  "jku": ["https://ehr.example.org/jwks.json"]}]} # allowed header jku values

With no allow-list every call is refused. Development mode, `PMED_CDS_DEV=1`, accepts calls with
no token or an unverified one (logged as a warning at start-up): for local testing only, never
the default.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt

from pmed.api.problem import ApiProblem

__all__ = ["ALLOWED_ALGORITHMS", "MAX_LIFETIME_S", "CdsClient", "CdsJwtVerifier"]

log = logging.getLogger("pmed.api.cds")
ALLOWED_ALGORITHMS = ("ES384", "RS384")
MAX_LIFETIME_S = 300
LEEWAY_S = 30
_JWKS_TTL_S = 300.0


@dataclass(frozen=True)
class CdsClient:
    iss: str
    jwks: Mapping[str, Any] | None = None
    jwks_url: str | None = None
    jku: tuple[str, ...] = ()


def _reject(reason: str) -> ApiProblem:
    return ApiProblem(
        401, f"CDS client JWT rejected: {reason}", code="login",
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )  # fmt: skip


@dataclass
class CdsJwtVerifier:
    clients: dict[str, CdsClient] = field(default_factory=dict)
    development: bool = False
    _seen: dict[str, float] = field(default_factory=dict)
    _jwks: dict[str, tuple[float, Mapping[str, Any]]] = field(default_factory=dict)
    _parsed: dict[tuple[str, str], Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def from_env(cls, home: Path, environ: Mapping[str, str] | None = None) -> CdsJwtVerifier:
        env = os.environ if environ is None else environ
        development = env.get("PMED_CDS_DEV", "").strip().lower() in ("1", "true", "yes")
        path = Path(env.get("PMED_CDS_CLIENTS") or home / "cds_clients.json")
        clients: dict[str, CdsClient] = {}
        if path.is_file():
            try:
                raw = json.loads(path.read_text(encoding="utf-8"))
                for c in raw.get("clients") or ():
                    clients[c["iss"]] = CdsClient(
                        iss=c["iss"],
                        jwks=c.get("jwks"),
                        jwks_url=c.get("jwks_url"),
                        jku=tuple(c.get("jku") or ()),
                    )
            except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
                log.error("CDS client allow-list %s is unreadable: %s; refusing all", path, exc)
                clients = {}
        if development:
            log.warning("CDS Hooks development mode (PMED_CDS_DEV): client JWTs NOT verified")
        return cls(clients=clients, development=development)

    # ------------------------------------------------------------------------------ keys
    def _fetch(self, url: str) -> Mapping[str, Any]:
        now = time.monotonic()
        cached = self._jwks.get(url)
        if cached and now - cached[0] < _JWKS_TTL_S:
            return cached[1]
        try:
            response = httpx.get(url, timeout=2.0)
            response.raise_for_status()
            keys = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise _reject(f"could not fetch the JWKS at {url}: {exc}") from exc
        if not isinstance(keys, Mapping):
            raise _reject(f"the JWKS at {url} is not a JSON object")
        self._jwks[url] = (now, keys)
        return keys

    def _key(self, client: CdsClient, header: Mapping[str, Any], alg: str) -> Any:
        jku = header.get("jku")
        if jku is not None:
            if jku not in client.jku:
                raise _reject(f"jku {jku!r} is not on the allow-list for {client.iss}")
            jwks = self._fetch(str(jku))
        elif client.jwks is not None:
            jwks = client.jwks
        elif client.jwks_url:
            jwks = self._fetch(client.jwks_url)
        else:
            raise _reject(f"no keys configured for {client.iss}")
        kid = header["kid"]
        for jwk in jwks.get("keys") or ():
            if isinstance(jwk, Mapping) and jwk.get("kid") == kid:
                cache_key = (alg, json.dumps(jwk, sort_keys=True))  # the key material itself
                key = self._parsed.get(cache_key)
                if key is None:
                    try:
                        key = jwt.PyJWK(dict(jwk), algorithm=alg).key
                    except (jwt.PyJWKError, jwt.InvalidKeyError) as exc:
                        raise _reject(f"key {kid!r} is not usable with {alg}: {exc}") from exc
                    self._parsed[cache_key] = key
                return key
        raise _reject(f"unknown kid {kid!r} for {client.iss}")

    # ---------------------------------------------------------------------------- verify
    def verify(
        self, authorization: str | None, audience: str | Sequence[str]
    ) -> dict[str, Any] | None:
        """The verified claims, or None in development mode without a token."""
        if self.development:
            return None
        if not self.clients:
            raise _reject(
                "no CDS clients are trusted (configure $PMED_HOME/cds_clients.json; "
                "PMED_CDS_DEV=1 relaxes this for development only)"
            )
        if not authorization or not authorization.lower().startswith("bearer "):
            raise _reject("missing Authorization: Bearer <JWT>")
        token = authorization.split(" ", 1)[1].strip()
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise _reject(f"malformed JWT: {exc}") from exc
        alg = header.get("alg")
        if alg not in ALLOWED_ALGORITHMS:
            raise _reject(f"alg {alg!r} is not allowed (ES384 or RS384 only)")
        if not header.get("kid"):
            raise _reject("the JWT header has no kid")
        client = self.clients.get(str(unverified.get("iss")))
        if client is None:
            raise _reject(f"issuer {unverified.get('iss')!r} is not trusted")
        key = self._key(client, header, str(alg))
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[str(alg)],
                audience=audience,
                issuer=client.iss,
                leeway=LEEWAY_S,
                options={"require": ["exp", "iat", "iss", "aud", "sub", "jti"]},
            )
        except jwt.InvalidAudienceError as exc:
            shown = audience if isinstance(audience, str) else " or ".join(audience)
            raise _reject(f"aud must be the service URL {shown}") from exc
        except jwt.PyJWTError as exc:
            raise _reject(str(exc)) from exc
        now = time.time()
        if float(claims["exp"]) > now + MAX_LIFETIME_S + LEEWAY_S:
            raise _reject("exp is more than 5 minutes in the future")
        self._remember(str(claims["jti"]), float(claims["exp"]), now)
        return dict(claims)

    def _remember(self, jti: str, exp: float, now: float) -> None:
        with self._lock:
            if len(self._seen) > 10_000:
                self._seen = {j: e for j, e in self._seen.items() if e + LEEWAY_S > now}
            if jti in self._seen and self._seen[jti] + LEEWAY_S > now:
                raise _reject(f"jti {jti!r} was already used (replay)")
            self._seen[jti] = exp
