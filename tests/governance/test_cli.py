"""`pmed auth`, `pmed audit` and `pmed export` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from pmed.cli import cli
from pmed.config import Settings
from pmed.governance.config import GovernanceConfig
from pmed.governance.ledger import Ledger
from pmed.governance.tokens import TokenVerifier
from pmed.record.store import Store
from tests.governance import deid_corpus


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"PMED_HOME": str(tmp_path / "home")}


def run(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.output


def test_auth_token_issues_a_token_the_server_accepts(env: dict[str, str]) -> None:
    code, out = run(
        env,
        "auth",
        "token",
        "--role",
        "clinician",
        "--user",
        "u7",
        "--fhir-user",
        "Practitioner/7",
        "--scope",
        "user/Observation.rs",
    )
    assert code == 0
    claims = TokenVerifier(GovernanceConfig(home=Path(env["PMED_HOME"]))).verify(out.strip())
    assert claims.role == "clinician" and claims.fhir_user == "Practitioner/7"
    code, out = run(env, "auth", "jwks")
    assert json.loads(out)["keys"][0]["kty"] == "OKP"


def test_auth_token_for_a_patient_needs_their_id(env: dict[str, str]) -> None:
    result = CliRunner().invoke(cli, ["auth", "token", "--role", "patient", "--user", "x"], env=env)
    assert result.exit_code == 2


def test_audit_verify_passes_then_locates_tampering(env: dict[str, str]) -> None:
    settings = Settings(home=Path(env["PMED_HOME"]))
    store = Store.open(settings)
    ledger = Ledger.open(store.engine, settings.home, checkpoint_every=5)
    for i in range(12):
        ledger.record("read", agent=f"a{i}", patient_id="p1")
    ledger.close()
    code, out = run(env, "audit", "verify", "--json")
    assert code == 0 and json.loads(out)["ok"] and json.loads(out)["entries"] == 12
    code, out = run(env, "audit", "log", "--patient", "p1", "--limit", "2", "--json")
    assert [e["id"] for e in json.loads(out)] == ["11", "10"]
    with store.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM gov_ledger_entries WHERE seq = 3"))
    result = CliRunner().invoke(cli, ["audit", "verify"], env=env)
    assert result.exit_code == 1
    assert "entry 3" in result.output and "missing" in result.output
    code, out = run(env, "audit", "prove", "--first", "5")
    assert json.loads(out)["first"] == 5


def test_export_deidentified_writes_ndjson_and_ledgers_it(
    env: dict[str, str], tmp_path: Path
) -> None:
    settings = Settings(home=Path(env["PMED_HOME"]))
    store = Store.open(settings)
    store.write_batch(deid_corpus.build(3).resources)
    code, out = run(
        env, "export", "--deidentify", "safe-harbor", "--out", str(tmp_path / "x"), "--json"
    )
    assert code == 0 and json.loads(out)["patients"] == 3
    assert (tmp_path / "x" / "Patient.ndjson").read_text().count("\n") == 3
    ledger = Ledger.open(store.engine, settings.home)
    last = ledger.entry(ledger.size - 1)
    assert last["subtype"][0]["code"] == "export"


def test_rotate_master_key_rewraps_and_replaces_the_key_file(env: dict[str, str]) -> None:
    from pmed.governance.encryption import PatientKeys, load_master_key

    home = Path(env["PMED_HOME"])
    store = Store.open(Settings(home=home))
    old = load_master_key(GovernanceConfig(home=home))
    sealed = PatientKeys(store.engine, old).encrypt("p1", b"note", "x")
    code, out = run(env, "auth", "rotate-master-key", "--json")
    assert code == 0 and json.loads(out)["rewrapped"] == 1
    new = load_master_key(GovernanceConfig(home=home))
    assert new.key != old.key and not (home / "keys" / "master.key.new").exists()
    assert PatientKeys(store.engine, new).decrypt("p1", sealed, "x") == b"note"
