"""The access ledger detects and locates every edit, deletion, insertion and reordering made
directly in the database, and serves proofs an outside party can check."""

from __future__ import annotations

import base64

import pytest
import sqlalchemy as sa

from pmed.config import Settings
from pmed.errors import InputError
from pmed.governance import ledger_verify, merkle, tables
from pmed.governance.keys import KeyRing
from pmed.governance.ledger import Ledger, audit_event, verify_checkpoint
from pmed.governance.ledger_verify import verify_ledger
from pmed.record.store import Store

E = tables.ledger_entries


@pytest.fixture(
    autouse=True, params=[1 << 17, 4, 2], ids=["one-chunk", "chunks-of-4", "chunks-of-2"]
)
def chunk_size(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    """Verification splits the log into aligned chunks scanned in parallel; every test runs
    with one chunk and with several, so the chunk-folding of tree heads is checked too."""
    monkeypatch.setattr(ledger_verify, "CHUNK", request.param)
    return int(request.param)


@pytest.fixture
def ledger(settings: Settings) -> Ledger:
    """Ten entries, checkpoints at 4, 8 and 10; on SQLite and on PostgreSQL."""
    store = Store.open(settings)
    led = Ledger.open(store.engine, settings.home, checkpoint_every=4)
    for i in range(10):
        led.record(
            "read",
            agent=f"dr-{i}",
            role="clinician",
            patient_id=f"p{i % 3}",
            entities=[f"Observation/o{i}"],
        )
    led.close()
    return led


def kinds(led: Ledger) -> list[tuple[str, int]]:
    report = verify_ledger(led.engine, led.keyring)
    return sorted({(p.kind, p.seq) for p in report.problems})


def sql(led: Ledger, statement: str, **params: object) -> None:
    with led.engine.begin() as conn:
        conn.execute(sa.text(statement), params)


def test_an_untouched_ledger_verifies_with_all_its_checkpoints(ledger: Ledger) -> None:
    report = verify_ledger(ledger.engine, ledger.keyring)
    assert report.ok, report.problems
    assert report.entries == 10
    assert report.checkpoints == 3  # at 4, 8 and the final one at 10
    assert report.root == ledger.root().hex()


def test_entries_are_audit_events_listing_who_accessed_a_patient(ledger: Ledger) -> None:
    entries = ledger.entries_for_patient("p1")
    assert [e["id"] for e in entries] == ["7", "4", "1"]
    first = entries[-1]
    assert first["resourceType"] == "AuditEvent"
    assert first["agent"][0]["who"]["identifier"]["value"] == "dr-1"
    assert {"what": {"reference": "Patient/p1"}} in first["entity"]


def test_editing_an_entry_is_located(ledger: Ledger) -> None:
    content = ledger.entry(5)
    content["agent"][0]["who"]["identifier"]["value"] = "nobody"
    import orjson

    sql(
        ledger,
        "UPDATE gov_ledger_entries SET content=:c WHERE seq=5",
        c=orjson.dumps(content, option=orjson.OPT_SORT_KEYS).decode(),
    )
    assert ("edited", 5) in kinds(ledger)
    assert ("checkpoint-mismatch", 8) in kinds(ledger)


def test_editing_an_entry_and_recomputing_its_hash_is_located(ledger: Ledger) -> None:
    with ledger.engine.connect() as conn:
        content = conn.execute(sa.select(E.c.content).where(E.c.seq == 2)).scalar_one()
    forged = content.replace("dr-2", "dr-X")
    sql(
        ledger,
        "UPDATE gov_ledger_entries SET content=:c, leaf_hash=:h WHERE seq=2",
        c=forged,
        h=merkle.leaf_hash(forged.encode()).hex(),
    )
    found = kinds(ledger)
    assert ("forged", 2) in found
    assert ("checkpoint-mismatch", 4) in found


def test_deleting_an_entry_is_located(ledger: Ledger) -> None:
    sql(ledger, "DELETE FROM gov_ledger_entries WHERE seq=6")
    assert ("missing", 6) in kinds(ledger)


def test_deleting_an_entry_and_renumbering_the_rest_is_located(ledger: Ledger) -> None:
    sql(ledger, "DELETE FROM gov_ledger_entries WHERE seq=6")
    for seq in range(7, 10):
        sql(ledger, "UPDATE gov_ledger_entries SET seq=:n WHERE seq=:o", n=seq - 1, o=seq)
    found = kinds(ledger)
    assert ("deleted", 6) in found
    assert ("truncated", 10) in found


def test_truncating_the_tail_is_detected(ledger: Ledger) -> None:
    sql(ledger, "DELETE FROM gov_ledger_entries WHERE seq>=9")
    assert ("truncated", 10) in kinds(ledger)


def test_inserting_an_entry_at_the_end_is_located(ledger: Ledger) -> None:
    forged = audit_event("read", agent="intruder", patient_id="p0")
    forged["id"] = "10"
    import orjson

    data = orjson.dumps(forged, option=orjson.OPT_SORT_KEYS)
    sql(
        ledger,
        "INSERT INTO gov_ledger_entries"
        " (seq, recorded, patient_id, action, leaf_hash, mac, content) "
        "VALUES (10, 'x', 'p0', 'read', :h, :m, :c)",
        h=merkle.leaf_hash(data).hex(),
        m="00" * 32,
        c=data.decode(),
    )
    assert ("forged", 10) in kinds(ledger)


def test_inserting_an_entry_in_the_middle_is_located(ledger: Ledger) -> None:
    for seq in range(9, 2, -1):
        sql(ledger, "UPDATE gov_ledger_entries SET seq=:n WHERE seq=:o", n=seq + 1, o=seq)
    sql(
        ledger,
        "INSERT INTO gov_ledger_entries"
        " (seq, recorded, patient_id, action, leaf_hash, mac, content) "
        "VALUES (3, 'x', 'p0', 'read', :h, :m, '{\"id\":\"3\"}')",
        h=merkle.leaf_hash(b'{"id":"3"}').hex(),
        m="00" * 32,
    )
    found = kinds(ledger)
    assert ("inserted", 3) in found


def test_reordering_two_entries_is_located(ledger: Ledger) -> None:
    with ledger.engine.connect() as conn:
        rows = {r.seq: r for r in conn.execute(sa.select(E).where(E.c.seq.in_([3, 4])))}
    for seq, other in ((3, 4), (4, 3)):
        sql(
            ledger,
            "UPDATE gov_ledger_entries SET content=:c, leaf_hash=:h, mac=:m WHERE seq=:s",
            c=rows[other].content,
            h=rows[other].leaf_hash,
            m=rows[other].mac,
            s=seq,
        )
    found = kinds(ledger)
    assert ("reordered", 3) in found
    assert ("moved", 3) in found and ("moved", 4) in found


def test_a_forged_checkpoint_signature_is_detected(ledger: Ledger) -> None:
    sql(ledger, "UPDATE gov_ledger_checkpoints SET root=:r WHERE size=8", r="ab" * 32)
    found = kinds(ledger)
    assert ("bad-signature", 8) in found


def test_checkpoints_are_ed25519_signatures_over_size_and_root(ledger: Ledger) -> None:
    cp = ledger.latest_checkpoint()
    assert cp is not None and cp.size == 10 and cp.root == ledger.root().hex()
    assert verify_checkpoint(cp, ledger.public_key)
    assert not verify_checkpoint(
        type(cp)(cp.size + 1, cp.root, cp.recorded, cp.key_id, cp.signature), ledger.public_key
    )
    assert len(base64.b64decode(cp.signature)) == 64


def test_an_outside_party_with_an_old_checkpoint_can_check_consistency(ledger: Ledger) -> None:
    old = ledger.checkpoints()[0]
    ledger.record("search", agent="dr-z", patient_id="p2")
    proof = ledger.consistency_proof(old.size)
    assert proof["firstRoot"] == old.root
    assert merkle.verify_consistency(
        old.size,
        proof["second"],
        [bytes.fromhex(h) for h in proof["proof"]],
        bytes.fromhex(old.root),
        ledger.root(),
    )


def test_inclusion_proof_of_an_entry_verifies_against_the_signed_head(ledger: Ledger) -> None:
    cp = ledger.latest_checkpoint()
    assert cp is not None
    p = ledger.inclusion_proof(7, cp.size)
    leaf = merkle.leaf_hash(
        __import__("orjson").dumps(ledger.entry(7), option=__import__("orjson").OPT_SORT_KEYS)
    )
    assert p["leafHash"] == leaf.hex()
    assert merkle.verify_inclusion(
        7, cp.size, leaf, [bytes.fromhex(h) for h in p["proof"]], bytes.fromhex(cp.root)
    )
    with pytest.raises(InputError):
        ledger.inclusion_proof(10, 10)
    with pytest.raises(InputError):
        ledger.consistency_proof(0)


def test_a_reopened_ledger_resumes_the_same_tree(ledger: Ledger, settings: Settings) -> None:
    ledger.record("read", agent="a", patient_id="p0")  # after the last checkpoint
    again = Ledger(ledger.engine, KeyRing(settings.home), checkpoint_every=4)
    assert again.size == 11 and again.root() == ledger.root()
    again.record("read", agent="b", patient_id="p0")
    again.close()
    assert verify_ledger(again.engine, again.keyring).ok


def test_two_ledgers_on_one_database_never_overwrite_each_other(sqlite_settings: Settings) -> None:
    store = Store.open(sqlite_settings)
    a = Ledger.open(store.engine, sqlite_settings.home)
    b = Ledger.open(store.engine, sqlite_settings.home)
    a.record("read", agent="a")
    b.record("read", agent="b")  # b's view is stale: it must catch up, not collide
    a.record("read", agent="a2")
    a.close()
    report = verify_ledger(store.engine, a.keyring)
    assert report.ok and report.entries == 3


def test_the_buffered_writer_loses_nothing_from_concurrent_requests(
    sqlite_settings: Settings,
) -> None:
    import threading

    from pmed.governance.ledger import BufferedLedger

    store = Store.open(sqlite_settings)
    writer = BufferedLedger(Ledger.open(store.engine, sqlite_settings.home, checkpoint_every=50))

    def work(n: int) -> None:
        for i in range(100):
            writer.append(
                audit_event("read", agent=f"t{n}", patient_id=f"p{i}"), patient_id=f"p{i}"
            )

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    writer.flush()
    assert writer.ledger.size == 800
    assert len(writer.ledger.entries_for_patient("p7", limit=100)) == 8
    writer.close()
    report = verify_ledger(store.engine, writer.ledger.keyring)
    assert report.ok and report.entries == 800 and report.checkpoints >= 16
