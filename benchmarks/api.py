"""API latency benchmark: `$everything` for a 1,000-resource patient, search first pages at 1M rows.

Builds (once, cached under --home) a SQLite store of synthetic Observations across many patients,
written through `Store.write_batch` in large batches, then serves it with uvicorn on loopback and
times real HTTP requests with httpx. Prints one JSON line. Targets (issue 3): `$everything` for a
1,000-resource patient < 100 ms; a search's first page < 50 ms with 1,000,000 resources stored.

    .venv/bin/python benchmarks/api.py [--resources 1000000] [--home /tmp/pmed-bench-api]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pmed.config import Settings
from pmed.record.store import Store

_LOINC = [
    ("8867-4", "vital-signs", "/min"),
    ("8480-6", "vital-signs", "mm[Hg]"),
    ("8462-4", "vital-signs", "mm[Hg]"),
    ("29463-7", "vital-signs", "kg"),
    ("8302-2", "vital-signs", "cm"),
    ("39156-5", "vital-signs", "kg/m2"),
    ("2093-3", "laboratory", "mg/dL"),
    ("2085-9", "laboratory", "mg/dL"),
    ("18262-6", "laboratory", "mg/dL"),
    ("2571-8", "laboratory", "mg/dL"),
    ("4548-4", "laboratory", "%"),
    ("2160-0", "laboratory", "mg/dL"),
    ("2345-7", "laboratory", "mg/dL"),
    ("718-7", "laboratory", "g/dL"),
    ("6690-2", "laboratory", "10*3/uL"),
    ("777-3", "laboratory", "10*3/uL"),
    ("2951-2", "laboratory", "mmol/L"),
    ("2823-3", "laboratory", "mmol/L"),
    ("33914-3", "laboratory", "mL/min/{1.73_m2}"),
    ("72166-2", "social-history", "{status}"),
]
_FAMILY = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
]
_GIVEN = [
    "James",
    "Mary",
    "John",
    "Patricia",
    "Robert",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Charles",
    "Karen",
    "Chen",
    "Aisha",
    "Mateo",
    "Yuki",
    "Olga",
    "Kwame",
]
BIG_PATIENT = "bench-p0"
_CAT = "http://terminology.hl7.org/CodeSystem/observation-category"


def _patient(i: int, rng: random.Random) -> dict[str, Any]:
    pid = f"bench-p{i}"
    return {
        "resourceType": "Patient",
        "id": pid,
        "identifier": [{"system": "urn:pmed:bench:mrn", "value": f"MRN{i:07d}"}],
        "name": [{"family": f"{rng.choice(_FAMILY)}{i % 97}", "given": [rng.choice(_GIVEN)]}],
        "gender": rng.choice(["male", "female"]),
        "birthDate": f"{rng.randint(1930, 2010)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
    }


def _observation(pid: str, k: int, rng: random.Random) -> dict[str, Any]:
    code, category, unit = _LOINC[rng.randrange(len(_LOINC))]
    year = rng.randint(2010, 2025)
    return {
        "resourceType": "Observation",
        "id": f"{pid}-o{k}",
        "status": "final",
        "category": [{"coding": [{"system": _CAT, "code": category}]}],
        "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
        "subject": {"reference": f"Patient/{pid}"},
        "effectiveDateTime": f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T"
        f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00Z",
        "valueQuantity": {
            "value": round(rng.uniform(1, 200), 1),
            "unit": unit,
            "system": "http://unitsofmeasure.org",
            "code": unit,
        },
    }


def _synthetic(total: int, per_patient: int, big: int, seed: int) -> Iterator[dict[str, Any]]:
    """`total` resources: patients with `per_patient - 1` Observations each; patient 0 has `big`."""
    rng = random.Random(seed)
    written, i = 0, 0
    while written < total:
        yield _patient(i, rng)
        pid = f"bench-p{i}"
        n = (big if i == 0 else per_patient) - 1
        for k in range(min(n, total - written - 1)):
            yield _observation(pid, k, rng)
        written += 1 + min(n, total - written - 1)
        i += 1


def build(store: Store, total: int, batch: int, seed: int) -> dict[str, float]:
    have = sum(store.counts().values())
    if have >= total:
        return {"build_s": 0.0, "stored": float(have)}
    start = time.perf_counter()
    chunk: list[dict[str, Any]] = []
    done = 0
    for resource in _synthetic(total, per_patient=100, big=1000, seed=seed):
        chunk.append(resource)
        if len(chunk) >= batch:
            store.write_batch(chunk)
            done += len(chunk)
            chunk = []
            rate = done / (time.perf_counter() - start)
            print(f"  {done:,} written ({rate:,.0f}/s)", file=sys.stderr, flush=True)
    if chunk:
        store.write_batch(chunk)
    elapsed = time.perf_counter() - start
    return {"build_s": round(elapsed, 1), "stored": float(sum(store.counts().values()))}


def _time(client: Any, url: str, repeat: int) -> dict[str, float]:
    client.get(url).raise_for_status()  # warm
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - t0) * 1000)
        response.raise_for_status()
    return {
        "median_ms": round(statistics.median(samples), 2),
        "p95_ms": round(sorted(samples)[max(0, int(len(samples) * 0.95) - 1)], 2),
    }


_SEARCHES = {
    "obs_patient_code": "/Observation?patient=bench-p4242&code=http://loinc.org|2093-3",
    "patient_name": "/Patient?name=garcia1",
    "obs_code_date": "/Observation?code=4548-4&date=ge2024-06-01",
    "obs_code_date_total_none": "/Observation?code=4548-4&date=ge2024-06-01&_total=none",
    "obs_patient": "/Observation?patient=bench-p777",
}


def measure(settings: Settings, repeat: int, *, governed: bool) -> dict[str, Any]:
    """Latencies over real HTTP; `governed`: the default app (token auth, consent, audit ledger),
    else the bare API (`access_factory=default_access`)."""
    import httpx

    from pmed.api.access import default_access
    from pmed.api.app import create_app
    from pmed.api.server import serve_in_thread

    headers: dict[str, str] = {}
    if governed:
        from pmed.governance.testing import admin_headers

        app = create_app(settings)
        headers = admin_headers(settings)
    else:
        app = create_app(settings, access_factory=default_access)
    results: dict[str, Any] = {}
    everything_url = f"/Patient/{BIG_PATIENT}/$everything?_count=2000"
    with (
        serve_in_thread(app) as base,
        httpx.Client(base_url=base, timeout=600, headers=headers) as client,
    ):
        everything = client.get(everything_url)
        everything.raise_for_status()
        results["everything_resources"] = len(everything.json().get("entry", []))
        results["everything"] = _time(client, everything_url, repeat)
        for name, url in _SEARCHES.items():
            body = client.get(url).json()
            results[name] = {**_time(client, url, repeat), "total": body.get("total")}
            print(
                f"  {'governed' if governed else 'bare'} {name}: {results[name]}", file=sys.stderr
            )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=1_000_000)
    parser.add_argument("--home", type=Path, default=Path("/tmp/pmed-bench-api"))
    parser.add_argument("--batch", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--build-only", action="store_true")
    parser.add_argument("--bare-only", action="store_true", help="skip the governed app")
    args = parser.parse_args()
    settings = Settings(home=args.home)
    store = Store.open(settings)
    built = build(store, args.resources, args.batch, args.seed)
    optimize = getattr(store, "optimize", None)  # planner statistics, where the store has them
    if optimize is not None:
        optimize()
    store.close()
    out: dict[str, Any] = {"benchmark": "api", "backend": "sqlite", **built}
    if not args.build_only:
        out["load_average_1m"] = round(os.getloadavg()[0], 2)
        out.update(measure(settings, args.repeat, governed=False))
        if not args.bare_only:
            out["governed"] = measure(settings, args.repeat, governed=True)
        out["targets"] = {"everything_ms": 100, "search_first_page_ms": 50}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
