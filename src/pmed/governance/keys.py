"""Key material kept under `PMED_HOME/keys/`: token-issuer keys, the ledger's checkpoint key and
MAC key. Keys are created on first use with mode 0600 and never leave the directory in private
form; public keys are published as a JWK Set (RFC 7517) and identified by a `kid` that is the
RFC 7638 JWK thumbprint.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import secrets
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from pmed.errors import InputError

__all__ = [
    "ALGORITHMS",
    "KeyRing",
    "PrivateKey",
    "PublicKey",
    "b64url",
    "public_jwk",
    "write_private",
]

PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey

#: Signing algorithms of the built-in issuer (JWS names, RFC 7518 / RFC 8037).
ALGORITHMS = ("EdDSA", "ES256", "RS256")
_FILES = {"EdDSA": "issuer-ed25519.pem", "ES256": "issuer-es256.pem", "RS256": "issuer-rs256.pem"}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _int_b64(value: int) -> str:
    return b64url(value.to_bytes((value.bit_length() + 7) // 8 or 1, "big"))


def public_jwk(key: PublicKey, alg: str) -> dict[str, str]:
    """The public JWK of a key, with `kid` = its RFC 7638 thumbprint and `alg`, `use: sig`."""
    if isinstance(key, ed25519.Ed25519PublicKey):
        raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        members = {"crv": "Ed25519", "kty": "OKP", "x": b64url(raw)}
    elif isinstance(key, ec.EllipticCurvePublicKey):
        nums = key.public_numbers()
        members = {
            "crv": "P-256",
            "kty": "EC",
            "x": b64url(nums.x.to_bytes(32, "big")),
            "y": b64url(nums.y.to_bytes(32, "big")),
        }
    else:
        rnums = key.public_numbers()
        members = {"e": _int_b64(rnums.e), "kty": "RSA", "n": _int_b64(rnums.n)}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    kid = b64url(hashlib.sha256(canonical).digest())
    return {**members, "kid": kid, "alg": alg, "use": "sig"}


def _generate(alg: str) -> PrivateKey:
    if alg == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    if alg == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    if alg == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    raise InputError(f"unsupported signing algorithm {alg!r}; use one of {', '.join(ALGORITHMS)}")


def write_private(path: Path, data: bytes) -> None:
    """Create `path` (mode 0600) atomically: readers never see a half-written key, and of two
    processes creating it at once one wins (FileExistsError for the other)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


class KeyRing:
    """The keys under one `PMED_HOME`; each is created on first use."""

    def __init__(self, home: Path) -> None:
        self.dir = Path(home) / "keys"
        self._cache: dict[str, Any] = {}

    def _pem_key(self, name: str, alg: str) -> PrivateKey:
        if name in self._cache:
            cached: PrivateKey = self._cache[name]
            return cached
        path = self.dir / name
        if not path.exists():
            key = _generate(alg)
            pem = key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            with contextlib.suppress(FileExistsError):  # another process made it first
                write_private(path, pem)
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(
            loaded, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
        ):
            raise InputError(f"{path} is not an Ed25519, EC or RSA private key")
        self._cache[name] = loaded
        return loaded

    def issuer_key(self, alg: str = "EdDSA") -> PrivateKey:
        """The built-in token issuer's private key for `alg` (EdDSA, ES256 or RS256)."""
        if alg not in _FILES:
            raise InputError(
                f"unsupported signing algorithm {alg!r}; use one of {', '.join(ALGORITHMS)}"
            )
        return self._pem_key(_FILES[alg], alg)

    def issuer_jwks(self, algs: tuple[str, ...] | None = None) -> dict[str, list[dict[str, str]]]:
        """The JWK Set of the issuer keys that exist (or of `algs`, creating them)."""
        wanted = algs or tuple(a for a in ALGORITHMS if (self.dir / _FILES[a]).exists())
        return {"keys": [public_jwk(self.issuer_key(a).public_key(), a) for a in wanted]}

    def ledger_key(self) -> ed25519.Ed25519PrivateKey:
        key = self._pem_key("ledger-ed25519.pem", "EdDSA")
        assert isinstance(key, ed25519.Ed25519PrivateKey)
        return key

    def ledger_mac_key(self) -> bytes:
        if "mac" not in self._cache:
            path = self.dir / "ledger-mac.key"
            if not path.exists():
                with contextlib.suppress(FileExistsError):
                    write_private(path, secrets.token_hex(32).encode())
            self._cache["mac"] = bytes.fromhex(path.read_text().strip())
        mac: bytes = self._cache["mac"]
        return mac
