"""Bearer tokens: the built-in issuer's tokens verify; every known attack is refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from pmed.config import Settings
from pmed.governance.config import GovernanceConfig
from pmed.governance.keys import KeyRing
from pmed.governance.tokens import AuthenticationError, TokenIssuer, TokenVerifier
from pmed.record.store import Store

AUD = ISS = "http://localhost:8000"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.fixture
def config(tmp_path: Path) -> GovernanceConfig:
    return GovernanceConfig(home=tmp_path / "home", issuer=ISS, audience=AUD)


@pytest.fixture
def issuer(config: GovernanceConfig) -> TokenIssuer:
    return TokenIssuer.from_config(config)


@pytest.fixture
def verifier(config: GovernanceConfig, tmp_path: Path) -> TokenVerifier:
    store = Store.open(Settings(home=config.home))
    return TokenVerifier(config, engine=store.engine)


def clinician(issuer: TokenIssuer, **kw: object) -> str:
    args: dict = {
        "subject": "u1",
        "role": "clinician",
        "scope": "user/*.rs",
        "fhir_user": "Practitioner/p1",
    }
    args.update(kw)
    return issuer.issue(**args)


@pytest.mark.parametrize("alg", ["EdDSA", "ES256", "RS256"])
def test_a_built_in_token_verifies_with_each_algorithm(
    issuer: TokenIssuer, config: GovernanceConfig, alg: str
) -> None:
    token = clinician(issuer, alg=alg)
    claims = TokenVerifier(config).verify(token)
    assert claims.subject == "u1" and claims.role == "clinician"
    assert claims.fhir_user == "Practitioner/p1"
    assert claims.scopes.permits("Observation", "r", {"user"})


def test_alg_none_is_refused(issuer: TokenIssuer, verifier: TokenVerifier) -> None:
    good = clinician(issuer)
    header = json.loads(base64.urlsafe_b64decode(good.split(".")[0] + "=="))
    payload = good.split(".")[1]
    for alg in ("none", "None", "NONE"):
        forged = (
            b64(json.dumps({"alg": alg, "kid": header["kid"], "typ": "JWT"}).encode())
            + "."
            + payload
            + "."
        )
        with pytest.raises(AuthenticationError, match="algorithm"):
            verifier.verify(forged)


def test_hmac_signed_with_the_public_key_is_refused(
    issuer: TokenIssuer, verifier: TokenVerifier, config: GovernanceConfig
) -> None:
    good = clinician(issuer)
    kid = json.loads(base64.urlsafe_b64decode(good.split(".")[0] + "=="))["kid"]
    public = KeyRing(config.home).issuer_key("EdDSA").public_key()
    for secret in (
        public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw),
    ):
        signing_input = (
            b64(json.dumps({"alg": "HS256", "kid": kid}).encode()) + "." + good.split(".")[1]
        )
        sig = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        with pytest.raises(AuthenticationError, match="algorithm"):
            verifier.verify(signing_input + "." + b64(sig))


def test_an_algorithm_that_does_not_match_the_key_is_refused(
    issuer: TokenIssuer, verifier: TokenVerifier
) -> None:
    good = clinician(issuer)  # EdDSA key's kid
    h, p, s = good.split(".")
    header = json.loads(base64.urlsafe_b64decode(h + "=="))
    header["alg"] = "ES256"
    with pytest.raises(AuthenticationError, match="does not match"):
        verifier.verify(b64(json.dumps(header).encode()) + "." + p + "." + s)


def test_expired_token_is_refused(issuer: TokenIssuer, verifier: TokenVerifier) -> None:
    now = int(time.time())
    token = clinician(issuer, extra={"exp": now - 120, "iat": now - 600})
    with pytest.raises(AuthenticationError, match="expired"):
        verifier.verify(token)


def test_token_not_yet_valid_is_refused(issuer: TokenIssuer, verifier: TokenVerifier) -> None:
    token = clinician(issuer, not_before=int(time.time()) + 3600)
    with pytest.raises(AuthenticationError, match="not valid yet"):
        verifier.verify(token)


def test_wrong_issuer_is_refused(issuer: TokenIssuer, config: GovernanceConfig) -> None:
    other = TokenVerifier(config.model_copy(update={"issuer": "https://elsewhere"}))
    with pytest.raises(AuthenticationError, match="issuer"):
        other.verify(clinician(issuer))


def test_wrong_audience_is_refused(issuer: TokenIssuer, config: GovernanceConfig) -> None:
    other = TokenVerifier(config.model_copy(update={"audience": "https://other-api"}))
    with pytest.raises(AuthenticationError, match="audience"):
        other.verify(clinician(issuer))


def test_unknown_kid_is_refused(verifier: TokenVerifier, tmp_path: Path) -> None:
    stranger = TokenIssuer(KeyRing(tmp_path / "stranger"), issuer=ISS, audience=AUD)
    with pytest.raises(AuthenticationError, match="unknown key"):
        verifier.verify(clinician(stranger))


def test_a_known_kid_with_a_foreign_signature_is_refused(
    issuer: TokenIssuer, verifier: TokenVerifier, tmp_path: Path
) -> None:
    good = clinician(issuer)
    stranger = TokenIssuer(KeyRing(tmp_path / "stranger"), issuer=ISS, audience=AUD)
    foreign = clinician(stranger, role="admin", scope="system/*.cruds")
    h = good.split(".")[0]
    with pytest.raises(AuthenticationError):
        verifier.verify(h + "." + foreign.split(".")[1] + "." + foreign.split(".")[2])


def test_a_tampered_payload_is_refused(issuer: TokenIssuer, verifier: TokenVerifier) -> None:
    h, p, s = clinician(issuer).split(".")
    claims = json.loads(base64.urlsafe_b64decode(p + "=="))
    claims["role"] = "admin"
    with pytest.raises(AuthenticationError):
        verifier.verify(h + "." + b64(json.dumps(claims).encode()) + "." + s)


def test_a_replayed_one_time_token_is_refused(issuer: TokenIssuer, verifier: TokenVerifier) -> None:
    token = clinician(issuer, jti="once-123")
    assert verifier.verify(token, one_time=True).token_id == "once-123"
    assert verifier.seen_jti("once-123")
    with pytest.raises(AuthenticationError, match="replay"):
        verifier.verify(token, one_time=True)


def test_garbage_and_unknown_roles_are_refused(
    issuer: TokenIssuer, verifier: TokenVerifier
) -> None:
    for junk in ("", "abc", "a.b.c", "x" * 5000):
        with pytest.raises(AuthenticationError):
            verifier.verify(junk)
    with pytest.raises(AuthenticationError, match="role"):
        verifier.verify(clinician(issuer, extra={"role": "superuser"}))


def test_external_identity_provider_keys_from_a_jwks_url(
    config: GovernanceConfig, issuer: TokenIssuer, tmp_path: Path
) -> None:
    idp_ring = KeyRing(tmp_path / "idp")
    idp = TokenIssuer(idp_ring, issuer="https://idp.example", audience=AUD)
    calls: list[str] = []

    def fetch(url: str) -> dict:
        calls.append(url)
        return idp_ring.issuer_jwks(("ES256", "RS256"))

    external = config.model_copy(
        update={
            "jwks_url": "https://idp.example/jwks",
            "issuer": "https://idp.example",
            "trust_local_keys": False,
        }
    )
    v = TokenVerifier(external, fetch_jwks=fetch)
    for alg in ("ES256", "RS256"):
        assert v.verify(clinician(idp, alg=alg)).subject == "u1"
    assert calls == ["https://idp.example/jwks"]  # cached, not fetched per token
    with pytest.raises(AuthenticationError, match="unknown key"):
        v.verify(clinician(issuer))  # the local issuer is not trusted when an IdP is configured
