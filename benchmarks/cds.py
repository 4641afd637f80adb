"""CDS Hooks latency benchmark: `pmed serve` on loopback, 20 concurrent clients, prefetch supplied.

Starts `python -m pmed serve` on a free port over a throwaway PMED_HOME, with client JWT
verification ON (an ES384 key on the CDS client allow-list, `PMED_CDS_CLIENTS`; every request
carries its own signed JWT with a fresh `jti`, pre-signed before timing). `--clients` client
threads, one keep-alive connection each, send requests back to back (closed loop, no think
time) for `--seconds` per hook after a warm-up, to `patient-view` (pmed-care-plan) and
`order-sign` (pmed-order-sign, two draft orders: simvastatin 40 mg and warfarin 5 mg), each
with the full prefetch: a 62-year-old with AF, hypertension, 5 years of labs and BP and 4
pharmacogene results (68 resources). Twice: "distinct" (every request another patient, so the
service's plan cache never helps: the cost of computing a plan) and "repeat" (the same patient
and data each time: the plan cache answers, as when a chart is reopened). Prints one JSON line:
requests, req/s, p50/p95/p99 latency (ms) per hook and mode. Target (issue 7): p99 < 100 ms.
Client and server share this machine's cores.

    .venv/bin/python benchmarks/cds.py [--clients 20] [--seconds 10]
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ISS = "https://ehr.bench.example"
PID = "bench-1"


def _obs(oid: str, code: str, value: float, unit: str, when: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "subject": {"reference": f"Patient/{PID}"},
        "effectiveDateTime": when,
        "valueQuantity": {"value": value, "unit": unit, "code": unit},
    }


def _gene(symbol: str, diplotype: str, phenotype: str | None, score: str | None = None) -> list:
    gene = {
        "code": {"coding": [{"system": LOINC, "code": "48018-6"}]},
        "valueCodeableConcept": {"coding": [{"code": "HGNC:0", "display": symbol}]},
    }
    out = [
        {
            "resourceType": "Observation",
            "id": f"{symbol}-gt",
            "status": "final",
            "code": {"coding": [{"system": LOINC, "code": "84413-4"}]},
            "subject": {"reference": f"Patient/{PID}"},
            "effectiveDateTime": "2024-02-01",
            "valueCodeableConcept": {"text": f"{symbol} {diplotype}"},
            "component": [gene],
        }
    ]
    if phenotype:
        comps = [gene] + (
            [{"code": {"text": "activity score"}, "valueString": score}] if score else []
        )
        out.append(
            {
                "resourceType": "Observation",
                "id": f"{symbol}-ph",
                "status": "final",
                "code": {"coding": [{"system": LOINC, "code": "53040-2"}]},
                "subject": {"reference": f"Patient/{PID}"},
                "effectiveDateTime": "2024-02-01",
                "valueCodeableConcept": {"text": phenotype},
                "component": comps,
            }
        )
    return out


def patient_resources() -> list[dict[str, Any]]:
    res: list[dict[str, Any]] = [
        {
            "resourceType": "Patient",
            "id": PID,
            "gender": "female",
            "birthDate": "1963-03-01",
            "name": [{"family": "Bench", "given": ["Ada"]}],
        },
    ]
    for year in range(2021, 2026):
        for month in (1, 4, 7, 10):
            when = f"{year}-{month:02d}-15"
            res.append(
                {
                    "resourceType": "Observation",
                    "id": f"bp-{when}",
                    "status": "final",
                    "code": {"coding": [{"system": LOINC, "code": "85354-9"}]},
                    "subject": {"reference": f"Patient/{PID}"},
                    "effectiveDateTime": when,
                    "component": [
                        {
                            "code": {"coding": [{"system": LOINC, "code": "8480-6"}]},
                            "valueQuantity": {
                                "value": 140 + month,
                                "unit": "mm[Hg]",
                                "code": "mm[Hg]",
                            },
                        },
                        {
                            "code": {"coding": [{"system": LOINC, "code": "8462-4"}]},
                            "valueQuantity": {"value": 85, "unit": "mm[Hg]", "code": "mm[Hg]"},
                        },
                    ],
                }
            )
        when = f"{year}-05-01"
        res += [
            _obs(f"tc-{year}", "2093-3", 230 + year % 7, "mg/dL", when),
            _obs(f"hdl-{year}", "2085-9", 45, "mg/dL", when),
            _obs(f"ldl-{year}", "18262-6", 150 + year % 5, "mg/dL", when),
            _obs(f"scr-{year}", "2160-0", 1.3 + (year - 2021) * 0.04, "mg/dL", when),
            _obs(f"a1c-{year}", "4548-4", 5.8, "%", when),
            _obs(f"wt-{year}", "29463-7", 84 + year % 3, "kg", when),
            _obs(f"ht-{year}", "8302-2", 165, "cm", when),
        ]
    res.append(
        {
            "resourceType": "Observation",
            "id": "smk",
            "status": "final",
            "code": {"coding": [{"system": LOINC, "code": "72166-2"}]},
            "subject": {"reference": f"Patient/{PID}"},
            "effectiveDateTime": "2025-05-01",
            "valueCodeableConcept": {"coding": [{"system": SNOMED, "code": "266919005"}]},
        }
    )
    for cid, code in (("af", "49436004"), ("htn", "38341003")):
        res.append(
            {
                "resourceType": "Condition",
                "id": cid,
                "clinicalStatus": {"coding": [{"code": "active"}]},
                "code": {"coding": [{"system": SNOMED, "code": code}]},
                "subject": {"reference": f"Patient/{PID}"},
                "onsetDateTime": "2020-01-01",
            }
        )
    for mid, code, name in (
        ("lis", "29046", "lisinopril 10 MG Oral Tablet"),
        ("clo", "32968", "clopidogrel 75 MG Oral Tablet"),
    ):
        res.append(_med(mid, code, name, "active"))
    res += _gene("SLCO1B1", "*5/*5", "Poor Function")
    res += _gene("CYP2C19", "*2/*2", "Poor Metabolizer")
    res += _gene("CYP2C9", "*1/*3", "Intermediate Metabolizer", "1.0")
    res += _gene("VKORC1", "rs9923231 reference (C)/rs9923231 variant (T)", None)
    return res


def _med(mid: str, code: str, name: str, status: str, mg: float | None = None) -> dict:
    out: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": mid,
        "status": status,
        "intent": "order",
        "subject": {"reference": f"Patient/{PID}"},
        "medicationCodeableConcept": {
            "coding": [{"system": RXNORM, "code": code, "display": name}],
            "text": name,
        },
        "authoredOn": "2024-01-01",
    }
    if mg is not None:
        out["dosageInstruction"] = [
            {
                "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}},
                "doseAndRate": [{"doseQuantity": {"value": mg, "code": "mg"}}],
            }
        ]
    return out


def prefetch(resources: list[dict[str, Any]]) -> dict[str, Any]:
    def bundle(rtype: str) -> dict[str, Any]:
        entries = [{"resource": r} for r in resources if r["resourceType"] == rtype]
        return {"resourceType": "Bundle", "type": "searchset", "entry": entries}

    return {
        "patient": resources[0],
        "conditions": bundle("Condition"),
        "medications": bundle("MedicationRequest"),
        "statements": None,
        "observations": bundle("Observation"),
        "family": None,
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _drive(
    port: int,
    service: str,
    payloads: list[bytes],
    tokens: list[str],
    clients: int,
    seconds: float,
    warmup: float,
) -> dict[str, Any]:
    """`clients` threads, each with its own keep-alive connection (http.client: a light client,
    so the figures measure the server rather than the load generator), closed loop."""
    path = f"/cds-services/{service}"
    latencies: list[float] = []
    errors = 0
    counter = itertools.count()
    lock = threading.Lock()
    start = time.perf_counter()
    measure_from = start + warmup
    stop = measure_from + seconds

    def worker() -> None:
        nonlocal errors
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        bad = 0
        while time.perf_counter() < stop:
            i = next(counter)
            if i >= len(tokens):
                break
            headers = {"Content-Type": "application/json", "Authorization": f"Bearer {tokens[i]}"}
            t0 = time.perf_counter()
            conn.request("POST", path, body=payloads[i % len(payloads)], headers=headers)
            response = conn.getresponse()
            data = response.read()
            t1 = time.perf_counter()
            if response.status != 200 or b'"cards":[{' not in data:
                bad += 1
            elif t0 >= measure_from:
                mine.append((t1 - t0) * 1000)
        conn.close()
        with lock:
            latencies.extend(mine)
            errors += bad

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - measure_from
    lat = sorted(latencies)

    def pct(p: float) -> float:
        return round(lat[min(len(lat) - 1, int(p * len(lat)))], 2) if lat else float("nan")

    return {
        "requests": len(lat),
        "errors": errors,
        "req_per_s": round(len(lat) / elapsed, 1),
        "p50_ms": pct(0.50),
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
        "mean_ms": round(statistics.fmean(lat), 2) if lat else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    args = parser.parse_args()

    key = ec.generate_private_key(ec.SECP384R1())
    jwk = {**ECAlgorithm.to_jwk(key.public_key(), as_dict=True), "kid": "bench", "alg": "ES384"}
    home = Path(tempfile.mkdtemp(prefix="pmed-bench-cds-"))
    clients_file = home / "cds_clients.json"
    clients_file.write_text(json.dumps({"clients": [{"iss": ISS, "jwks": {"keys": [jwk]}}]}))
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PMED_HOME": str(home),
        "PMED_CDS_CLIENTS": str(clients_file),
        "PMED_BASE_URL": base,
    }
    env.pop("PMED_CDS_DEV", None)
    env.pop("PMED_DATABASE_URL", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "pmed", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/cds-services", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("pmed serve did not start")
            time.sleep(0.2)
        resources = patient_resources()
        pre = prefetch(resources)
        bodies = {
            "pmed-care-plan": {
                "hook": "patient-view",
                "hookInstance": str(uuid.uuid4()),
                "context": {"userId": "Practitioner/b", "patientId": PID},
                "prefetch": pre,
            },
            "pmed-order-sign": {
                "hook": "order-sign",
                "hookInstance": str(uuid.uuid4()),
                "context": {
                    "userId": "Practitioner/b",
                    "patientId": PID,
                    "draftOrders": {
                        "resourceType": "Bundle",
                        "entry": [
                            {
                                "resource": _med(
                                    "d1", "36567", "simvastatin 40 MG Oral Tablet", "draft", 40
                                )
                            },
                            {
                                "resource": _med(
                                    "d2", "11289", "warfarin 5 MG Oral Tablet", "draft", 5
                                )
                            },
                        ],
                    },
                },
                "prefetch": pre,
            },
        }
        results: dict[str, Any] = {}
        load_before = os.getloadavg()[0]
        for mode in ("distinct", "repeat"):
            for service, body in bodies.items():
                aud = f"{base}/cds-services/{service}"
                now = int(time.time())
                budget = int(1000 * (args.seconds + args.warmup)) + 100
                tokens = [
                    jwt.encode(
                        {
                            "iss": ISS,
                            "sub": "bench-ehr",
                            "aud": aud,
                            "iat": now,
                            "exp": now + 290,
                            "jti": str(uuid.uuid4()),
                        },
                        key,
                        algorithm="ES384",
                        headers={"kid": "bench"},
                    )
                    for _ in range(budget)
                ]
                raw = json.dumps(body)
                if mode == "distinct":  # every request a different patient: no plan reuse
                    payloads = [
                        raw.replace(PID, f"{PID}-{mode}-{i}").encode() for i in range(budget)
                    ]
                else:  # the same patient every time: the service's plan cache answers
                    payloads = [raw.encode()]
                name = f"{body['hook']} ({mode} patients)"
                results[name] = _drive(
                    port, service, payloads, tokens, args.clients, args.seconds, args.warmup
                )
                # One client alone: the service time, without queueing behind 19 others.
                single = _drive(port, service, payloads[-200:], tokens[-200:], 1, 2.0, 0.3)
                results[name]["one_client_p50_ms"] = single["p50_ms"]
        resources_n = len(resources)
    finally:
        server.terminate()
        server.wait(timeout=20)
    print(
        json.dumps(
            {
                "benchmark": "cds",
                "clients": args.clients,
                "seconds": args.seconds,
                "jwt": "ES384 verified per request",
                "prefetch_resources": resources_n,
                "target_p99_ms": 100,
                **results,
                "cpus": os.cpu_count(),
                "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
            }
        )
    )


if __name__ == "__main__":
    main()
