"""`pmed audit verify`: recompute the ledger and locate every fault.

For each entry, the RFC 6962 leaf hash is recomputed from the stored JSON and its keyed seal
checked; the tree is rebuilt and its root compared at every signed checkpoint, whose Ed25519
signature is checked too. A fault is located to the entry: a gap in positions is a deletion, a
broken seal an edit (or a forged insertion), an entry whose seal is valid for another position
was moved; runs of entries moved by one offset are explained as a deletion or insertion before
them, a pair moved into each other's place as a reordering.

The work is split into aligned chunks of 2^17 entries scanned in parallel processes. Each chunk
is a perfect subtree, so the tree head at any checkpoint is the fold of the completed chunks'
subtree hashes followed by the chunk-local frontier at that size (RFC 6962 §2.1: the tree splits
at powers of two). When entries are missing the alignment breaks and the tree is rebuilt in one
pass over the returned leaf hashes instead.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from pmed.governance import merkle, tables
from pmed.governance.keys import KeyRing, public_jwk
from pmed.governance.ledger import Checkpoint, seal, verify_checkpoint

__all__ = ["Problem", "VerifyReport", "verify_ledger"]

CHUNK = 1 << 17
# Content is fetched as bytes (no text decode and re-encode per entry).
_SQL = (
    "SELECT seq, leaf_hash, mac, {content} FROM gov_ledger_entries"
    " WHERE seq >= {a} AND seq < {b} ORDER BY seq"
)
_AS_BYTES = {"sqlite": "CAST(content AS BLOB)", "postgresql": "convert_to(content, 'UTF8')"}


@dataclass
class Problem:
    """One located fault: `kind` in missing, edited, forged, moved, inserted, deleted,
    reordered, truncated, checkpoint-mismatch, bad-signature; `seq` the position it concerns."""

    seq: int
    kind: str
    detail: str


@dataclass
class VerifyReport:
    entries: int = 0
    checkpoints: int = 0
    root: str = ""
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "checkpoints": self.checkpoints,
            "root": self.root,
            "problems": [asdict(p) for p in self.problems],
        }


@dataclass
class _Chunk:
    start: int
    end: int
    count: int = 0
    leaves: bytes = b""
    problems: list[tuple[int, str, str]] = field(default_factory=list)
    moved: list[tuple[int, int]] = field(default_factory=list)
    at_checkpoints: dict[int, list[bytes]] = field(default_factory=dict)
    frontier: list[bytes] = field(default_factory=list)


def _embedded_id(content: str) -> int | None:
    try:
        return int(orjson.loads(content).get("id"))
    except (orjson.JSONDecodeError, AttributeError, TypeError, ValueError):
        return None


def _diagnose(
    seq: int, leaf: bytes, stored_leaf: str, mac: str, content: str, mac_key: bytes
) -> tuple[str, int | None, str]:
    """Why entry `seq` fails its seal: (kind, original position if known, detail)."""
    original = _embedded_id(content)
    if original is not None and original != seq and seal(mac_key, original, leaf) == mac:
        return "moved", original, f"entry recorded at position {original} is now at {seq}"
    if stored_leaf != leaf.hex():
        return "edited", seq, "content changed after it was recorded (hash no longer matches)"
    return "forged", seq, "seal does not match: entry edited with a recomputed hash, or inserted"


def _rows(url: str, start: int, end: int) -> Iterator[tuple[Any, ...]]:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    raw = engine.raw_connection()
    try:
        driver = raw.driver_connection
        if engine.dialect.name == "postgresql":
            cur = driver.cursor(name=f"pmed_verify_{start}")  # type: ignore[union-attr]
        else:
            cur = raw.cursor()
        content = _AS_BYTES.get(engine.dialect.name, "content")
        cur.execute(_SQL.format(a=int(start), b=int(end), content=content))
        while True:
            rows = cur.fetchmany(20000)
            if not rows:
                break
            yield from rows
        cur.close()
    finally:
        raw.close()
        engine.dispose()


def _scan(args: tuple[str, int, int, bytes, Sequence[int]]) -> _Chunk:
    url, start, end, mac_key, cp_sizes = args
    chunk = _Chunk(start, end)
    sha256 = hashlib.sha256
    leaves: list[bytes] = []
    stack: list[bytes] = []
    wanted = sorted(s for s in cp_sizes if start < s <= end)
    next_cp = wanted.pop(0) if wanted else -1
    expected = start
    for seq, stored_leaf, mac, content in _rows(url, start, end):
        if seq != expected:
            chunk.problems.append(
                (expected, "missing", f"entries {expected}..{seq - 1} are missing (deleted)")
            )
            expected = seq
        if isinstance(content, str):
            content = content.encode()
        leaf = sha256(b"\x00" + content).digest()
        if (
            sha256(mac_key + seq.to_bytes(8, "big") + leaf).hexdigest() != mac
            or stored_leaf != leaf.hex()
        ):
            text = bytes(content).decode("utf-8", "replace")
            kind, original, detail = _diagnose(seq, leaf, stored_leaf, mac, text, mac_key)
            chunk.problems.append((seq, kind, detail))
            if kind == "moved" and original is not None:
                chunk.moved.append((seq, original))
        leaves.append(leaf)
        h, n = leaf, chunk.count
        while n & 1:
            h = sha256(b"\x01" + stack.pop() + h).digest()
            n >>= 1
        stack.append(h)
        chunk.count += 1
        expected += 1
        if start + chunk.count == next_cp:
            chunk.at_checkpoints[next_cp] = list(stack)
            next_cp = wanted.pop(0) if wanted else -1
    chunk.leaves = b"".join(leaves)
    chunk.frontier = stack
    return chunk


def _fold(hashes: Sequence[bytes]) -> bytes:
    if not hashes:
        return merkle.EMPTY_ROOT
    r = hashes[-1]
    for h in reversed(hashes[:-1]):
        r = merkle.node_hash(h, r)
    return r


def _checkpoints(engine: Engine) -> list[Checkpoint]:
    c = tables.ledger_checkpoints.c
    with engine.connect() as conn:
        return [
            Checkpoint(int(r.size), r.root, r.recorded, r.key_id, r.signature)
            for r in conn.execute(
                sa.select(c.size, c.root, c.recorded, c.key_id, c.signature).order_by(c.size)
            )
        ]


def verify_ledger(engine: Engine, keyring: KeyRing, *, workers: int | None = None) -> VerifyReport:
    """Verify every entry, seal and checkpoint; the report lists each located fault."""
    tables.create_all(engine)
    mac_key = keyring.ledger_mac_key()
    public = keyring.ledger_key().public_key()
    key_id = public_jwk(public, "EdDSA")["kid"]
    report = VerifyReport()
    cps = _checkpoints(engine)
    report.checkpoints = len(cps)
    for cp in cps:
        if cp.key_id != key_id or not verify_checkpoint(cp, public):
            report.problems.append(
                Problem(
                    cp.size, "bad-signature", f"checkpoint at size {cp.size} is not validly signed"
                )
            )
    e = tables.ledger_entries.c
    with engine.connect() as conn:
        top = conn.execute(sa.select(sa.func.max(e.seq))).scalar()
    end = -1 if top is None else int(top)
    url = engine.url.render_as_string(hide_password=False)
    cp_sizes = [cp.size for cp in cps]
    jobs = [(url, a, min(a + CHUNK, end + 1), mac_key, cp_sizes) for a in range(0, end + 1, CHUNK)]
    procs = min(len(jobs), workers or os.cpu_count() or 1)
    if procs > 1 and "fork" in multiprocessing.get_all_start_methods():
        with multiprocessing.get_context("fork").Pool(procs) as pool:
            chunks = pool.map(_scan, jobs, chunksize=1)
    else:
        chunks = [_scan(job) for job in jobs]

    flagged: dict[int, Problem] = {}
    moved: list[tuple[int, int]] = []
    for chunk in chunks:
        for seq, kind, detail in chunk.problems:
            problem = Problem(seq, kind, detail)
            report.problems.append(problem)
            flagged.setdefault(seq, problem)
        moved.extend(chunk.moved)
    total = sum(ch.count for ch in chunks)
    by_size = {cp.size: cp for cp in cps}
    aligned = all(ch.count == ch.end - ch.start for ch in chunks)
    if aligned:
        done = merkle.Frontier()  # over completed chunks, each one perfect subtree
        for chunk in chunks:
            for size, local in chunk.at_checkpoints.items():
                _compare(report, by_size[size], _fold(done.hashes + local))
            if chunk.count == CHUNK:
                done.append(chunk.frontier[0])
            else:
                report.root = _fold(done.hashes + chunk.frontier).hex()
        if not report.root:
            report.root = done.root().hex()
    else:
        frontier = merkle.Frontier()
        pending = sorted(cp_sizes, reverse=True)
        for chunk in chunks:
            for i in range(0, len(chunk.leaves), 32):
                frontier.append(chunk.leaves[i : i + 32])
                while pending and pending[-1] <= frontier.size:
                    size = pending.pop()
                    if size == frontier.size:
                        _compare(report, by_size[size], frontier.root())
        report.root = frontier.root().hex()
    for cp in cps:
        if cp.size > total:
            report.problems.append(
                Problem(
                    cp.size,
                    "truncated",
                    f"checkpoint covers {cp.size} entries; only {total} remain",
                )
            )
    _explain_shifts(moved, flagged, report)
    report.entries = total
    return report


def _compare(report: VerifyReport, cp: Checkpoint, root: bytes) -> None:
    if root.hex() != cp.root:
        report.problems.append(
            Problem(
                cp.size,
                "checkpoint-mismatch",
                f"entries before {cp.size} do not hash to the signed checkpoint",
            )
        )


def _explain_shifts(
    moved: list[tuple[int, int]], flagged: dict[int, Problem], report: VerifyReport
) -> None:
    """Runs of entries moved by one offset mean a deletion (offset > 0) or an insertion
    (offset < 0) just before the run; a pair moved into each other's place is a reordering."""
    by_pos = dict(moved)
    for pos, orig in moved:
        if by_pos.get(orig) == pos and pos < orig:
            report.problems.append(
                Problem(pos, "reordered", f"entries {pos} and {orig} were swapped")
            )
    runs: list[tuple[int, int]] = []
    for pos, orig in moved:
        d = orig - pos
        if by_pos.get(orig) == pos:
            continue
        prev = by_pos.get(pos - 1)
        if runs and prev is not None and prev - (pos - 1) == d:
            continue
        runs.append((pos, d))
    for pos, d in runs:
        if d > 0:
            report.problems.append(
                Problem(
                    pos,
                    "deleted",
                    f"{d} entries deleted at position {pos}; later entries renumbered",
                )
            )
        else:
            start = pos + d
            for p in range(start, pos):
                if p in flagged:
                    flagged[p].kind = "inserted"
            report.problems.append(
                Problem(
                    start,
                    "inserted",
                    f"{-d} entries inserted at position {start}; later entries renumbered",
                )
            )
