"""`pmed auth token|jwks`: the built-in token issuer, for local use and tests.

Keys live under $PMED_HOME/keys (created on first use, mode 0600). Tokens are signed JWTs that
`pmed serve` accepts as `Authorization: Bearer <token>`.
"""

from __future__ import annotations

import click

from pmed.cli._output import print_json

__all__ = ["command"]


@click.group("auth")
def command() -> None:
    """Issue access tokens and show the public keys that verify them."""


@command.command("token")
@click.option(
    "--role",
    required=True,
    type=click.Choice(["patient", "clinician", "researcher", "admin"]),
    help="Who the token speaks for.",
)
@click.option("--user", "user", required=True, help="The subject (user id).")
@click.option(
    "--scope",
    default=None,
    help="SMART scopes, space-separated (default by role: patient/*.rs + patient/Consent.cu, "
    "user/*.rs, system/*.rs, user/*.cruds).",
)
@click.option(
    "--patient", default=None, help="Patient id: the launch context, or the patient's own."
)
@click.option(
    "--fhir-user", default=None, help="FHIR reference of the user, e.g. Practitioner/123."
)
@click.option("--ttl", default=3600, show_default=True, type=click.IntRange(1, 30 * 86400))
@click.option(
    "--alg", default="EdDSA", show_default=True, type=click.Choice(["EdDSA", "ES256", "RS256"])
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON with the token and its claims.")
def token(
    role: str,
    user: str,
    scope: str | None,
    patient: str | None,
    fhir_user: str | None,
    ttl: int,
    alg: str,
    as_json: bool,
) -> None:
    """Print a signed access token."""
    from pmed.config import Settings
    from pmed.governance.config import GovernanceConfig
    from pmed.governance.tokens import TokenIssuer

    defaults = {
        "patient": "launch/patient patient/*.rs patient/Consent.cu",
        "clinician": "openid fhirUser user/*.rs",
        "researcher": "system/*.rs",
        "admin": "user/*.cruds system/*.cruds",
    }
    config = GovernanceConfig.from_env(Settings.from_env())
    issuer = TokenIssuer.from_config(config)
    if role == "patient" and patient is None:
        raise click.UsageError("--patient is required for a patient token (their own id)")
    if role == "patient" and fhir_user is None:
        fhir_user = f"Patient/{patient}"
    text = issuer.issue(
        subject=user,
        role=role,
        scope=scope or defaults[role],
        patient=patient,
        fhir_user=fhir_user,
        ttl=ttl,
        alg=alg,
    )
    if as_json:
        import jwt

        print_json({"access_token": text, "token_type": "Bearer", "expires_in": ttl,
                    "claims": jwt.decode(text, options={"verify_signature": False})})  # fmt: skip
    else:
        click.echo(text)


@command.command("jwks")
def jwks() -> None:
    """Print the built-in issuer's public keys (a JWK Set)."""
    from pmed.config import Settings
    from pmed.governance.keys import KeyRing

    ring = KeyRing(Settings.from_env().home)
    ring.issuer_key("EdDSA")
    print_json(ring.issuer_jwks())


@command.command("rotate-master-key")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def rotate_master_key(as_json: bool) -> None:
    """Re-wrap every patient data key under a new master key, then retire the old one.

    With the key in a file ($PMED_MASTER_KEY_FILE or $PMED_HOME/keys/master.key) the new key is
    written beside it first (master.key.new), the data keys are re-wrapped in one transaction,
    and the new file replaces the old. With $PMED_MASTER_KEY, the new key is printed: set it in
    the environment before the next start. Destroying the old key also defeats old backups of
    shredded patients' wrapped keys.
    """
    import os
    from pathlib import Path

    from pmed.cli._store import open_store
    from pmed.config import Settings
    from pmed.governance.config import GovernanceConfig
    from pmed.governance.encryption import MasterKey, PatientKeys, load_master_key
    from pmed.governance.keys import write_private

    settings = Settings.from_env()
    config = GovernanceConfig.from_env(settings)
    keys = PatientKeys(open_store(settings).engine, load_master_key(config))
    new = MasterKey.generate()
    path = (
        None
        if config.master_key
        else (config.master_key_file or Path(config.home) / "keys" / "master.key")
    )
    staged = None
    if path is not None:
        staged = path.with_name(path.name + ".new")
        staged.unlink(missing_ok=True)
        write_private(staged, (new.encoded() + "\n").encode())
    count = keys.rotate_master(new)
    if path is not None and staged is not None:
        os.replace(staged, path)
    result = {"rewrapped": count, "master_key_id": new.key_id}
    if path is None:
        result["PMED_MASTER_KEY"] = new.encoded()
    if as_json:
        print_json(result)
    else:
        click.echo(f"re-wrapped {count} patient data keys under master key {new.key_id}")
        if path is None:
            click.echo(f"set PMED_MASTER_KEY={new.encoded()} before the next start")
