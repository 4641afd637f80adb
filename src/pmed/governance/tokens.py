"""Bearer tokens: the built-in issuer (`pmed auth token`) and the verifier every request uses.

Tokens are JWTs (RFC 7519) signed with an asymmetric key (EdDSA, ES256 or RS256). The verifier
takes the algorithm from its trusted JWK, never from the token alone: the header's `alg` must
be one the configuration allows *and* match the key type of the JWK named by `kid`, so
`alg: none` and "HMAC signed with the public key" (CVE-2015-9235 class) tokens are refused. It
checks signature, `exp`, `nbf`, `iat`, `iss`, `aud`, requires a known `kid`, and refuses a
replayed `jti` wherever a one-time token is required (SMART backend-services client assertions,
break-the-glass grants). Keys come from `PMED_HOME/keys` (built-in issuer) and/or an external
identity provider's JWK Set URL.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from pmed.errors import AccessDenied, InputError
from pmed.governance import tables
from pmed.governance.config import GovernanceConfig
from pmed.governance.keys import KeyRing, public_jwk
from pmed.governance.roles import ROLES
from pmed.governance.scopes import ScopeSet

__all__ = ["AuthenticationError", "Claims", "TokenIssuer", "TokenVerifier"]

_KTY_ALGS = {
    "OKP": {"EdDSA"},
    "EC": {"ES256", "ES384"},
    "RSA": {"RS256", "RS384", "RS512", "PS256", "PS384"},
}


class AuthenticationError(AccessDenied):
    """No valid credentials: the API answers 401 with `WWW-Authenticate: Bearer`."""

    http_status = 401
    issue_code = "login"


@dataclass(frozen=True)
class Claims:
    """A verified token: who (subject, role, fhirUser), what (scopes), in which context."""

    subject: str
    role: str
    scopes: ScopeSet
    patient: str | None = None
    fhir_user: str | None = None
    token_id: str | None = None
    expires: int | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)


class TokenIssuer:
    """The built-in issuer: signs tokens with the keys under `PMED_HOME/keys`."""

    def __init__(self, keyring: KeyRing, *, issuer: str, audience: str) -> None:
        self.keyring, self.issuer, self.audience = keyring, issuer, audience

    @classmethod
    def from_config(cls, config: GovernanceConfig) -> TokenIssuer:
        return cls(KeyRing(config.home), issuer=config.issuer, audience=config.audience)

    def issue(
        self,
        *,
        subject: str,
        role: str,
        scope: str,
        patient: str | None = None,
        fhir_user: str | None = None,
        ttl: int = 3600,
        alg: str = "EdDSA",
        jti: str | None = None,
        not_before: int | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> str:
        if role not in ROLES:
            raise InputError(f"unknown role {role!r}; use one of {', '.join(ROLES)}", field="role")
        if ttl <= 0 or ttl > 86400 * 30:
            raise InputError("token lifetime must be between 1 second and 30 days", field="ttl")
        ScopeSet(scope)  # malformed scopes fail here, not at first use
        if role == "patient" and not patient:
            raise InputError(
                "a patient token needs --patient (the patient's own id)", field="patient"
            )
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": subject,
            "aud": self.audience,
            "iat": now,
            "nbf": now if not_before is None else not_before,
            "exp": now + ttl,
            "jti": jti or uuid.uuid4().hex,
            "scope": scope,
            "role": role,
        }
        if patient:
            claims["patient"] = patient
        if fhir_user:
            claims["fhirUser"] = fhir_user
        claims.update(extra or {})
        key = self.keyring.issuer_key(alg)
        kid = public_jwk(key.public_key(), alg)["kid"]
        return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid, "typ": "JWT"})


class TokenVerifier:
    """Verifies bearer tokens against trusted keys, issuer and audience; thread-safe."""

    def __init__(
        self,
        config: GovernanceConfig,
        *,
        engine: Engine | None = None,
        fetch_jwks: Callable[[str], Mapping[str, Any]] | None = None,
        jwks_ttl: float = 300.0,
    ) -> None:
        self.config = config
        self.engine = engine
        self._fetch = fetch_jwks or _http_jwks
        self._ttl = jwks_ttl
        self._lock = threading.Lock()
        self._remote: dict[str, dict[str, Any]] = {}
        self._fetched_at = 0.0
        self._local: dict[str, dict[str, Any]] = {}
        if config.trust_local_keys:
            ring = KeyRing(config.home)
            ring.issuer_key("EdDSA")  # the default issuer key always exists once auth is on
            self._local = {k["kid"]: k for k in ring.issuer_jwks()["keys"]}
        self._cache: dict[str, Claims] = {}
        if engine is not None:
            tables.create_all(engine)

    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        """The public keys this server trusts (published at `/.well-known/jwks.json`)."""
        return {"keys": [*self._local.values(), *self._remote.values()]}

    def _refresh(self, force: bool) -> None:
        if not self.config.jwks_url:
            return
        with self._lock:
            now = time.monotonic()
            if not force and now - self._fetched_at < self._ttl:
                return
            if force and now - self._fetched_at < 10:  # unknown kids must not hammer the IdP
                return
            try:
                keys = self._fetch(self.config.jwks_url).get("keys", [])
            except Exception as exc:
                raise AuthenticationError(
                    f"cannot fetch the identity provider's keys: {exc}"
                ) from exc
            self._remote = {k["kid"]: dict(k) for k in keys if isinstance(k, dict) and "kid" in k}
            self._fetched_at = now

    def _key_for(self, kid: str) -> dict[str, Any] | None:
        if kid in self._local:
            return self._local[kid]
        self._refresh(force=False)
        if kid not in self._remote:
            self._refresh(force=True)
        return self._remote.get(kid)

    def verify(self, token: str, *, one_time: bool = False) -> Claims:
        """The token's claims, or AuthenticationError saying why it is refused."""
        if not one_time:
            cached = self._cache.get(token)
            if cached is not None and (cached.expires or 0) > time.time():
                return cached
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise AuthenticationError(f"malformed bearer token: {exc}") from exc
        alg, kid = header.get("alg"), header.get("kid")
        if not isinstance(alg, str) or alg not in self.config.algorithms:
            raise AuthenticationError(f"token algorithm {alg!r} is not accepted")
        if not isinstance(kid, str):
            raise AuthenticationError("token has no key id (kid)")
        jwk = self._key_for(kid)
        if jwk is None:
            raise AuthenticationError(f"token is signed with an unknown key (kid {kid!r})")
        if alg not in _KTY_ALGS.get(str(jwk.get("kty")), set()) or jwk.get("alg", alg) != alg:
            raise AuthenticationError(f"token algorithm {alg} does not match its key")
        try:
            key = jwt.PyJWK(jwk, algorithm=alg).key
            claims = jwt.decode(
                token,
                key,
                algorithms=[alg],
                audience=self.config.audience,
                issuer=self.config.issuer,
                leeway=self.config.leeway,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise AuthenticationError("token has expired") from exc
        except jwt.ImmatureSignatureError as exc:
            raise AuthenticationError("token is not valid yet (nbf/iat in the future)") from exc
        except jwt.InvalidAudienceError as exc:
            raise AuthenticationError("token is for another audience") from exc
        except jwt.InvalidIssuerError as exc:
            raise AuthenticationError("token is from an untrusted issuer") from exc
        except jwt.PyJWTError as exc:
            raise AuthenticationError(f"invalid token: {exc}") from exc
        result = _claims(claims)
        if one_time:
            self._consume_jti(claims)
        else:
            if len(self._cache) > 10000:
                self._cache.clear()
            self._cache[token] = result
        return result

    def _consume_jti(self, claims: Mapping[str, Any]) -> None:
        jti = claims.get("jti")
        if not isinstance(jti, str) or not jti:
            raise AuthenticationError("this token must carry a jti (it may be used once)")
        if self.engine is None:
            raise AuthenticationError("one-time tokens need the store to remember used ids")
        now = int(time.time())
        try:
            with self.engine.begin() as conn:
                conn.execute(tables.token_jti.delete().where(tables.token_jti.c.expires_at < now))
                conn.execute(
                    tables.token_jti.insert(),
                    [{"jti": jti, "expires_at": int(claims.get("exp", now)) + self.config.leeway}],
                )
        except IntegrityError as exc:
            raise AuthenticationError(f"token id {jti!r} was already used (replay)") from exc

    def seen_jti(self, jti: str) -> bool:
        if self.engine is None:
            return False
        with self.engine.connect() as conn:
            return (
                conn.execute(
                    sa.select(tables.token_jti.c.jti).where(tables.token_jti.c.jti == jti)
                ).first()
                is not None
            )


def _claims(claims: Mapping[str, Any]) -> Claims:
    role = claims.get("role")
    if role not in ROLES:
        raise AuthenticationError(f"token carries no known role (got {role!r})")
    scope = claims.get("scope", "")
    if not isinstance(scope, str):
        raise AuthenticationError("token scope must be a space-separated string")
    try:
        scopes = ScopeSet(scope)
    except InputError as exc:
        raise AuthenticationError(f"token scope is malformed: {exc}") from exc
    patient = claims.get("patient")
    if role == "patient" and not isinstance(patient, str):
        raise AuthenticationError("a patient token must name its patient")
    return Claims(
        subject=str(claims["sub"]),
        role=str(role),
        scopes=scopes,
        patient=patient if isinstance(patient, str) else None,
        fhir_user=claims.get("fhirUser") if isinstance(claims.get("fhirUser"), str) else None,
        token_id=claims.get("jti") if isinstance(claims.get("jti"), str) else None,
        expires=int(claims["exp"]),
        raw=dict(claims),
    )


def _http_jwks(url: str) -> Mapping[str, Any]:
    import httpx

    response = httpx.get(url, timeout=10.0, follow_redirects=False)
    response.raise_for_status()
    data = response.json()
    if not isinstance(data, dict):
        raise ValueError("JWK Set is not a JSON object")
    return data
