"""CDS Hooks client JWTs (CDS Hooks 2.0 "Trusting CDS Clients"): what is accepted, what is not."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from pmed.api.cds_jwt import CdsClient, CdsJwtVerifier
from pmed.api.problem import ApiProblem

ISS = "https://ehr.example.org"
AUD = "https://pmed.example.org/cds-services/pmed-care-plan"
EC_KEY = ec.generate_private_key(ec.SECP384R1())
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_EC = ec.generate_private_key(ec.SECP384R1())


def _jwk(key: Any, kid: str, alg: str) -> dict[str, Any]:
    algo = ECAlgorithm if alg.startswith("ES") else RSAAlgorithm
    out = algo.to_jwk(key.public_key(), as_dict=True)
    return {**out, "kid": kid, "alg": alg, "use": "sig"}


JWKS = {"keys": [_jwk(EC_KEY, "ec-1", "ES384"), _jwk(RSA_KEY, "rsa-1", "RS384")]}


def token(
    *,
    key: Any = EC_KEY,
    alg: str = "ES384",
    kid: str | None = "ec-1",
    headers: dict[str, Any] | None = None,
    drop: tuple[str, ...] = (),
    **claims: Any,
) -> str:
    now = int(time.time())
    payload = {"iss": ISS, "sub": "ehr-client", "aud": AUD, "iat": now, "exp": now + 240,
               "jti": str(uuid.uuid4()), **claims}  # fmt: skip
    for name in drop:
        payload.pop(name, None)
    head = dict(headers or {})
    if kid is not None:
        head["kid"] = kid
    return jwt.encode(payload, key, algorithm=alg, headers=head)


def verifier(**client: Any) -> CdsJwtVerifier:
    spec = {"jwks": JWKS, **client}
    return CdsJwtVerifier(clients={ISS: CdsClient(iss=ISS, **spec)})


def rejected(v: CdsJwtVerifier, tok: str | None, match: str) -> None:
    with pytest.raises(ApiProblem) as info:
        v.verify(None if tok is None else f"Bearer {tok}", AUD)
    assert info.value.status == 401 and match in info.value.message, info.value.message


def test_es384_and_rs384_tokens_are_accepted():
    v = verifier()
    assert v.verify(f"Bearer {token()}", AUD)["sub"] == "ehr-client"
    assert v.verify(f"Bearer {token(key=RSA_KEY, alg='RS384', kid='rsa-1')}", AUD)["iss"] == ISS


def test_audience_may_be_any_of_the_service_urls():
    assert verifier().verify(f"Bearer {token()}", ["http://other/x", AUD]) is not None


def _unsigned() -> str:
    def b64(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    now = int(time.time())
    claims = {"iss": ISS, "sub": "x", "aud": AUD, "iat": now, "exp": now + 60, "jti": "n"}
    return f"{b64({'alg': 'none', 'kid': 'ec-1'})}.{b64(claims)}."


def _hmac_with_public_key() -> str:
    """The key-confusion attack: HS256 keyed with the server's public key (built by hand,
    since PyJWT refuses to)."""

    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    now = int(time.time())
    claims = {"iss": ISS, "sub": "x", "aud": AUD, "iat": now, "exp": now + 60, "jti": "h"}
    signing = f"{b64(json.dumps({'alg': 'HS256', 'kid': 'ec-1'}).encode())}." + b64(
        json.dumps(claims).encode()
    )
    mac = hmac.new(PUBLIC_PEM, signing.encode(), hashlib.sha256).digest()
    return f"{signing}.{b64(mac)}"


PUBLIC_PEM = EC_KEY.public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
)
REJECTED = {
    "no token": (lambda: None, "missing Authorization"),
    "alg none": (_unsigned, "alg 'none' is not allowed"),
    "HS256 signed with the public key": (_hmac_with_public_key, "alg 'HS256' is not allowed"),
    "ES256": (lambda: token(key=ec.generate_private_key(ec.SECP256R1()), alg="ES256"),
              "alg 'ES256' is not allowed"),
    "RS256": (lambda: token(key=RSA_KEY, alg="RS256", kid="rsa-1"), "alg 'RS256' is not allowed"),
    "no kid": (lambda: token(kid=None), "no kid"),
    "unknown kid": (lambda: token(kid="ec-9"), "unknown kid"),
    "untrusted issuer": (lambda: token(iss="https://evil.example"), "not trusted"),
    "wrong audience": (lambda: token(aud="https://pmed.example.org/cds-services/other"),
                       "aud must be"),
    "expired": (lambda: token(iat=int(time.time()) - 900, exp=int(time.time()) - 600),
                "expired"),
    "exp more than 5 minutes ahead": (lambda: token(exp=int(time.time()) + 3600),
                                      "more than 5 minutes"),
    "no jti": (lambda: token(drop=("jti",)), "jti"),
    "no sub": (lambda: token(drop=("sub",)), "sub"),
    "bad signature": (lambda: token(key=OTHER_EC), "Signature verification failed"),
    "key of the wrong type for alg": (lambda: token(key=RSA_KEY, alg="RS384", kid="ec-1"),
                                      "not usable with RS384"),
    "jku not on the allow-list": (lambda: token(headers={"jku": "https://evil.example/jwks"}),
                                  "jku"),
    "malformed": (lambda: "not.a.jwt", "malformed"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(REJECTED))
def test_rejected(case):
    make, match = REJECTED[case]
    rejected(verifier(), make(), match)


def test_replayed_jti_is_rejected():
    v = verifier()
    tok = token()
    v.verify(f"Bearer {tok}", AUD)
    rejected(v, tok, "replay")


def test_nothing_is_trusted_without_an_allow_list_and_dev_mode_is_explicit():
    rejected(CdsJwtVerifier(), token(), "no CDS clients are trusted")
    assert CdsJwtVerifier(development=True).verify(None, AUD) is None


def test_allow_list_and_development_mode_from_the_environment(tmp_path: Path):
    path = tmp_path / "clients.json"
    path.write_text(json.dumps({"clients": [{"iss": ISS, "jwks": JWKS}]}))
    v = CdsJwtVerifier.from_env(tmp_path, {"PMED_CDS_CLIENTS": str(path)})
    assert not v.development and v.verify(f"Bearer {token()}", AUD) is not None
    assert CdsJwtVerifier.from_env(tmp_path, {}).clients == {}  # none configured: deny all
    assert CdsJwtVerifier.from_env(tmp_path, {"PMED_CDS_DEV": "1"}).development


@pytest.fixture
def jwks_server() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps(JWKS).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
    server.shutdown()


def test_keys_are_fetched_from_an_allowed_jku(jwks_server: str):
    v = CdsJwtVerifier(clients={ISS: CdsClient(iss=ISS, jku=(jwks_server,))})
    assert v.verify(f"Bearer {token(headers={'jku': jwks_server})}", AUD) is not None
    v2 = CdsJwtVerifier(clients={ISS: CdsClient(iss=ISS, jwks_url=jwks_server)})
    assert v2.verify(f"Bearer {token()}", AUD) is not None


# ------------------------------------------------------------------------------ over HTTP
def test_strict_mode_over_http(cds):
    strict = CdsJwtVerifier(clients={ISS: CdsClient(iss=ISS, jwks=JWKS)})
    saved = cds.app.state.cds_jwt
    cds.app.state.cds_jwt = strict
    body = {"hook": "patient-view", "hookInstance": str(uuid.uuid4()),
            "context": {"userId": "Practitioner/dr", "patientId": "p1"}}  # fmt: skip
    url = f"{cds.base}/cds-services/pmed-care-plan"
    try:
        r = cds.client.post("/cds-services/pmed-care-plan", json=body)
        assert r.status_code == 401 and r.json()["resourceType"] == "OperationOutcome"
        ok = cds.client.post("/cds-services/pmed-care-plan", json=body,
                             headers={"Authorization": f"Bearer {token(aud=url)}"})  # fmt: skip
        assert ok.status_code == 200, ok.text
        other = token(aud=f"{cds.base}/cds-services/pmed-order-sign")
        wrong = cds.client.post("/cds-services/pmed-care-plan", json=body,
                                headers={"Authorization": f"Bearer {other}"})  # fmt: skip
        assert wrong.status_code == 401 and "aud" in wrong.text
        feedback = {"feedback": [{"card": "c", "outcome": "overridden",
                                  "outcomeTimestamp": "2020-12-11T00:00:00Z"}]}  # fmt: skip
        assert cds.client.post("/cds-services/pmed-care-plan/feedback",
                               json=feedback).status_code == 401  # fmt: skip
    finally:
        cds.app.state.cds_jwt = saved
