"""Governance benchmark: the cost of auth + consent + ledger on reads, and ledger verification.

1. Read throughput. A SQLite store of `--patients` patients (each with a CareTeam naming the
   benchmark clinician, a Consent restricting genomics, and `--obs` Observations) is served by
   two uvicorn processes on loopback: with governance (bearer token verified, care-team and consent
   checks, one ledger entry per read) and without it (the plain pass-through access context).
   `GET /Observation/{id}` is timed over `--reads` requests per mode, interleaved one by one, so
   both modes meet the same machine load; overhead compares median latencies, and also each
   server process's CPU time per read. Target (issue 8): overhead <= 15%.
2. `pmed audit verify` over `--entries` ledger entries (default 1,000,000), written in bulk with
   signed checkpoints every 1,000 entries. Target: under 10 s.

Prints one JSON line.

    .venv/bin/python benchmarks/governance.py [--reads 3000] [--entries 1000000] [--home DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def _store_resources(patients: int, obs: int) -> list[dict[str, Any]]:
    from pmed.governance import consent

    out: list[dict[str, Any]] = [
        {"resourceType": "Practitioner", "id": "bench-dr", "name": [{"family": "Bench"}]}
    ]
    for p in range(patients):
        pid = f"bp{p}"
        out.append({"resourceType": "Patient", "id": pid, "gender": "female",
                    "birthDate": "1970-01-01", "name": [{"family": f"Fam{p}"}]})  # fmt: skip
        member = {"member": {"reference": "Practitioner/bench-dr"}}
        subject = {"reference": f"Patient/{pid}"}
        out.append({"resourceType": "CareTeam", "id": f"ct{p}", "status": "active",
                    "subject": subject, "participant": [member]})  # fmt: skip
        out.append({**consent.restrict_category(pid, "genomics"), "id": f"cs{p}"})
        for o in range(obs):
            out.append({"resourceType": "Observation", "id": f"o{p}-{o}", "status": "final",
                        "subject": {"reference": f"Patient/{pid}"},
                        "code": {"coding": [{"system": "http://loinc.org", "code": "18262-6"}]},
                        "valueQuantity": {"value": 100 + o, "unit": "mg/dL"}})  # fmt: skip
    return out


def _serve(mode: str, home: str, port: int) -> None:
    """One server process (so the client's threads never compete with it for the GIL)."""
    import uvicorn

    from pmed.api.access import default_access
    from pmed.api.app import create_app
    from pmed.config import Settings

    settings = Settings(home=Path(home))
    factory = None if mode == "on" else default_access
    app = create_app(settings, access_factory=factory)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def _cpu_seconds(pid: int | None) -> float:
    """User + system CPU time of a process (Linux /proc), seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wait_for(url: str, headers: dict[str, str]) -> None:
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(url + "/metadata", headers=headers, timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit(f"server at {url} did not start")


def bench_reads(home: Path, patients: int, obs: int, reads: int) -> dict[str, Any]:
    import multiprocessing

    import httpx

    from pmed.api.server import free_port
    from pmed.config import Settings
    from pmed.governance.keys import KeyRing
    from pmed.governance.ledger import Ledger
    from pmed.governance.testing import bearer_headers
    from pmed.record.store import Store

    settings = Settings(home=home)
    store = Store.open(settings)
    store.write_batch(_store_resources(patients, obs))
    before = Ledger(store.engine, KeyRing(home)).size
    store.close()
    token = bearer_headers(
        settings, role="clinician", scope="user/*.rs", fhir_user="Practitioner/bench-dr"
    )
    rng = random.Random(8)
    ids = [f"o{rng.randrange(patients)}-{rng.randrange(obs)}" for _ in range(reads)]
    samples: dict[str, list[float]] = {"on": [], "off": []}
    ctx = multiprocessing.get_context("spawn")
    ports = {mode: free_port("127.0.0.1") for mode in ("on", "off")}
    procs = {
        mode: ctx.Process(target=_serve, args=(mode, str(home), port), daemon=True)
        for mode, port in ports.items()
    }
    for proc in procs.values():
        proc.start()
    try:
        clients = {
            "on": httpx.Client(base_url=f"http://127.0.0.1:{ports['on']}", headers=token),
            "off": httpx.Client(base_url=f"http://127.0.0.1:{ports['off']}"),
        }
        for mode in clients:
            _wait_for(f"http://127.0.0.1:{ports[mode]}", token)
        for mode, client in clients.items():  # warm up: caches, connections
            for rid in ids[:200]:
                assert client.get(f"/Observation/{rid}").status_code == 200, mode
        # Interleave single requests (on, off, off, on, ...) so that both modes meet the same
        # machine load; compare medians of per-request latency, robust to load spikes. Also
        # count each server process's CPU time, which other load on the machine does not inflate.
        cpu0 = {mode: _cpu_seconds(proc.pid) for mode, proc in procs.items()}
        for n, rid in enumerate(ids):
            for mode in ("on", "off") if n % 2 == 0 else ("off", "on"):
                start = time.perf_counter()
                response = clients[mode].get(f"/Observation/{rid}")
                samples[mode].append(time.perf_counter() - start)
                if response.status_code != 200:
                    raise SystemExit(f"{mode}: {response.status_code} {response.text}")
        cpu = {mode: _cpu_seconds(proc.pid) - cpu0[mode] for mode, proc in procs.items()}
        for client in clients.values():
            client.close()
    finally:
        for proc in procs.values():
            proc.terminate()
            proc.join(10)
    store = Store.open(settings)
    written = Ledger(store.engine, KeyRing(home)).size - before
    on, off = statistics.median(samples["on"]), statistics.median(samples["off"])
    mean_on, mean_off = statistics.fmean(samples["on"]), statistics.fmean(samples["off"])
    return {
        "reads_per_s_governed": round(1 / on, 1),
        "reads_per_s_plain": round(1 / off, 1),
        "read_overhead_pct": round(100 * (on - off) / off, 1),
        "read_overhead_pct_by_mean": round(100 * (mean_on - mean_off) / mean_off, 1),
        "read_overhead_target_pct": 15,
        "read_overhead_pct_by_server_cpu": round(100 * (cpu["on"] - cpu["off"]) / cpu["off"], 1),
        "server_cpu_ms_per_read_governed": round(cpu["on"] / len(ids) * 1e3, 3),
        "server_cpu_ms_per_read_plain": round(cpu["off"] / len(ids) * 1e3, 3),
        "read_latency_ms_median_governed": round(on * 1e3, 3),
        "read_latency_ms_median_plain": round(off * 1e3, 3),
        "reads_timed_per_mode": len(ids),
        "ledger_entries_written": written,
    }


def bench_verify(home: Path, entries: int) -> dict[str, Any]:
    from pmed.config import Settings
    from pmed.governance.keys import KeyRing
    from pmed.governance.ledger import Ledger, audit_event
    from pmed.governance.ledger_verify import verify_ledger
    from pmed.record.store import Store

    settings = Settings(home=home)
    store = Store.open(settings)
    ledger = Ledger.open(store.engine, home, checkpoint_every=1000)
    start = time.perf_counter()
    batch = 20000
    existing = ledger.size
    for first in range(existing, entries, batch):
        events = []
        for i in range(first, min(first + batch, entries)):
            pid = f"p{i % 5000}"
            events.append((audit_event("read", agent=f"Practitioner/{i % 97}", role="clinician",
                                       patient_id=pid, entities=[f"Observation/o{i}"],
                                       purpose="TREAT"), pid))  # fmt: skip
        ledger.append_many(events)
    ledger.close()
    write_s = time.perf_counter() - start
    start = time.perf_counter()
    report = verify_ledger(store.engine, KeyRing(home))
    verify_s = time.perf_counter() - start
    if not report.ok or report.entries != entries:
        raise SystemExit(f"verification failed: {report.as_dict()['problems'][:3]}")
    return {
        "ledger_entries": report.entries,
        "ledger_checkpoints": report.checkpoints,
        "ledger_write_entries_per_s": round((entries - existing) / write_s)
        if entries > existing
        else None,
        "audit_verify_s": round(verify_s, 2),
        "audit_verify_target_s": 10,
        "audit_verify_workers": os.cpu_count(),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=3000)
    parser.add_argument("--patients", type=int, default=200)
    parser.add_argument("--obs", type=int, default=20)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--home", type=Path, default=None, help="work directory (default: temp)")
    parser.add_argument("--skip-reads", action="store_true")
    parser.add_argument("--skip-verify", action="store_true")
    args = parser.parse_args(argv)
    root = args.home or Path(tempfile.mkdtemp(prefix="pmed-bench-gov-"))
    result: dict[str, Any] = {"benchmark": "governance", "cpus": os.cpu_count()}
    if not args.skip_reads:
        result.update(bench_reads(root / "reads", args.patients, args.obs, args.reads))
    if not args.skip_verify:
        result.update(bench_verify(root / "ledger", args.entries))
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
