"""A generated corpus with planted identifiers, for measuring de-identification recall.

Each patient carries the HIPAA identifiers in structured fields (name, telecom, identifiers,
address, birth date, contacts, photo, device serials) and in free text (a note, an observation
comment and a condition note) written from varied templates and formats. `planted` records every
value planted, by identifier type, so recall can be measured on the output.
"""

from __future__ import annotations

import base64
import random
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

GIVEN = [
    "Aurelio",
    "Brunhilde",
    "Catalina",
    "Dmitri",
    "Esperanza",
    "Fitzgerald",
    "Guinevere",
    "Horatio",
    "Ingeborg",
    "Jolanta",
    "Kazimierz",
    "Leopoldine",
    "Marisol",
    "Nkechi",
    "Octavian",
    "Perpetua",
    "Quillon",
    "Rosalind",
    "Svetlana",
    "Thaddeus",
    "Ulrika",
    "Valentin",
    "Wilhelmina",
    "Xiomara",
    "Yevgenia",
    "Zebulon",
]
FAMILY = [
    "Okonkwo",
    "Wojciechowski",
    "Abernathy",
    "Villanueva",
    "Nakamura",
    "Oyelaran",
    "Castellanos",
    "Fairweather",
    "Lindqvist",
    "Mbatha",
    "Quintanilla",
    "Hargreaves",
    "Szczepanski",
    "Thistlewood",
    "Balasubramanian",
    "Rautenberg",
    "Featherstone",
    "Delacroix",
    "Oyelowo",
    "Kowalczyk",
]
STREETS = ["Maple", "Birchwood", "Harborview", "Old Mill", "Kingsley", "Chestnut Hill"]
SUFFIX = ["Street", "Avenue", "Road", "Lane", "Drive", "Court", "Boulevard"]
CITIES = ["Marblehead", "Swampscott", "Winchendon", "Pittsfield", "Chicopee", "Leominster"]
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
ZIPS = ["02134", "01907", "03601", "05901", "10211", "55612", "69201", "83001", "02472"]


@dataclass
class Corpus:
    resources: list[dict[str, Any]] = field(default_factory=list)
    planted_structured: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    planted_text: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    over_89: list[str] = field(default_factory=list)


def _phone(rng: random.Random) -> str:
    a, b, c = rng.randint(201, 989), rng.randint(200, 999), rng.randint(0, 9999)
    fmt = rng.choice(
        ["({a}) {b}-{c:04d}", "{a}-{b}-{c:04d}", "{a}.{b}.{c:04d}", "+1 {a} {b} {c:04d}"]
    )
    return fmt.format(a=a, b=b, c=c)


def _date_text(rng: random.Random, y: int, m: int, d: int) -> str:
    fmt = rng.choice(["iso", "us", "mdy", "dmy", "mdy2"])
    if fmt == "iso":
        return f"{y}-{m:02d}-{d:02d}"
    if fmt == "us":
        return f"{m:02d}/{d:02d}/{y}"
    if fmt == "mdy":
        return f"{MONTHS[m - 1]} {d}, {y}"
    if fmt == "dmy":
        return f"{d} {MONTHS[m - 1]} {y}"
    return f"{MONTHS[m - 1][:3]} {d} {y}"


def build(n: int = 200, seed: int = 6962) -> Corpus:
    rng = random.Random(seed)
    corpus = Corpus()
    S, T = corpus.planted_structured, corpus.planted_text
    pracs = []
    for i in range(10):
        given, family = rng.choice(GIVEN), rng.choice(FAMILY) + "son"
        pracs.append((given, family))
        corpus.resources.append(
            {
                "resourceType": "Practitioner",
                "id": f"prac{i}",
                "name": [{"family": family, "given": [given], "prefix": ["Dr."]}],
                "identifier": [
                    {
                        "system": "http://hl7.org/fhir/sid/us-npi",
                        "value": f"99{rng.randint(10000000, 99999999)}",
                    }
                ],
            }
        )
        S["name"] += [family]
    for i in range(n):
        pid = f"pt{i}"
        given, family = rng.choice(GIVEN), rng.choice(FAMILY)
        kin = rng.choice(GIVEN)
        old = i % 10 == 0
        by = rng.randint(1915, 1933) if old else rng.randint(1940, 2010)
        bm, bd = rng.randint(1, 12), rng.randint(1, 28)
        birth = f"{by}-{bm:02d}-{bd:02d}"
        if old:
            corpus.over_89.append(pid)
        street = f"{rng.randint(1, 9999)} {rng.choice(STREETS)} {rng.choice(SUFFIX)}"
        city, zip_code = rng.choice(CITIES), rng.choice(ZIPS)
        phone, email = _phone(rng), f"{given.lower()}.{family.lower()}{i}@example.org"
        ssn = f"{rng.randint(100, 899)}-{rng.randint(10, 99)}-{rng.randint(1000, 9999)}"
        mrn = f"MR{rng.randint(1000000, 9999999)}"
        photo = base64.b64encode(f"JPEGFACE{i}".encode()).decode()
        serial = f"SN-{rng.randint(100000, 999999)}X"
        corpus.resources.append(
            {
                "resourceType": "Patient",
                "id": pid,
                "name": [
                    {"use": "official", "family": family, "given": [given], "prefix": ["Ms."]}
                ],
                "telecom": [
                    {"system": "phone", "value": phone},
                    {"system": "email", "value": email},
                ],
                "identifier": [
                    {"system": "http://hospital.example/mrn", "value": mrn},
                    {"system": "http://hl7.org/fhir/sid/us-ssn", "value": ssn},
                ],
                "gender": "female",
                "birthDate": birth,
                "address": [
                    {
                        "line": [street],
                        "city": city,
                        "state": "MA",
                        "postalCode": zip_code,
                        "country": "US",
                    }
                ],
                "contact": [
                    {
                        "name": {"given": [kin], "family": family},
                        "telecom": [{"system": "phone", "value": _phone(rng)}],
                    }
                ],
                "photo": [{"contentType": "image/jpeg", "data": photo}],
                "generalPractitioner": [
                    {
                        "reference": f"Practitioner/prac{i % 10}",
                        "display": f"Dr. {pracs[i % 10][1]}",
                    }
                ],
            }
        )
        S["name"] += [given, family, kin]
        S["telecom"] += [phone, email]
        S["identifier"] += [mrn, ssn]
        S["address"] += [street, city]
        S["zip"] += [zip_code]
        S["birth_date"] += [birth]
        S["photo"] += [photo]
        corpus.resources.append(
            {
                "resourceType": "Device",
                "id": f"dev{i}",
                "patient": {"reference": f"Patient/{pid}"},
                "serialNumber": serial,
                "lotNumber": f"LOT{rng.randint(1000, 9999)}",
                "udiCarrier": [{"deviceIdentifier": f"0{rng.randint(10**12, 10**13)}"}],
            }
        )
        S["device"] += [serial]

        y, m, d = rng.randint(2005, 2023), rng.randint(1, 12), rng.randint(1, 28)
        visit = _date_text(rng, y, m, d)
        y2, m2, d2 = rng.randint(2005, 2023), rng.randint(1, 12), rng.randint(1, 28)
        onset = _date_text(rng, y2, m2, d2)
        t_phone, t_fax = _phone(rng), _phone(rng)
        t_ssn = f"{rng.randint(100, 899)}-{rng.randint(10, 99)}-{rng.randint(1000, 9999)}"
        t_mrn = str(rng.randint(1000000, 9999999))
        acct = f"AC{rng.randint(100000, 999999)}"
        plan = f"HP{rng.randint(10000000, 99999999)}"
        lic = f"S{rng.randint(10000000, 99999999)}"
        vin = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ0123456789") for _ in range(16)) + "7"
        url = f"https://portal.example.org/patients/{given.lower()}-{rng.randint(100, 999)}"
        ip = f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        t_street = f"{rng.randint(1, 9999)} {rng.choice(STREETS)} {rng.choice(SUFFIX)}"
        t_email = f"{kin.lower()}{rng.randint(1, 99)}@mail.example.com"
        age = rng.randint(90, 104)
        dev = f"{rng.randint(100000, 999999)}Q"
        prac_family = pracs[i % 10][1]
        note = (
            f"{given} {family} (MRN: {t_mrn}) was seen on {visit} by Dr. {prac_family}. "
            f"She lives at {t_street}, {city}, MA {zip_code}. Call {t_phone}, fax {t_fax}, "
            f"or write to {t_email}. SSN {t_ssn}. Health plan ID {plan}; account number {acct}. "
            f"Her daughter {kin} drove (license {lic}, VIN {vin}). Pacemaker serial number {dev}. "
            f"Results at {url}, accessed from {ip}. Symptoms began {onset}. "
            f"Mrs. {family} is a {age}-year-old woman; {given.upper()} agreed to the plan."
        )
        T["name"] += [
            f"{given} {family}",
            f"Dr. {prac_family}",
            kin,
            f"Mrs. {family}",
            given.upper(),
        ]
        T["date"] += [visit, onset]
        T["phone"] += [t_phone]
        T["fax"] += [t_fax]
        T["email"] += [t_email]
        T["ssn"] += [t_ssn]
        T["mrn"] += [t_mrn]
        T["health_plan"] += [plan]
        T["account"] += [acct]
        T["license"] += [lic]
        T["vehicle"] += [vin]
        T["device"] += [dev]
        T["url"] += [url]
        T["ip"] += [ip]
        T["address"] += [t_street]
        T["zip"] += [zip_code]
        T["age_over_89"] += [f"{age}-year-old"]
        corpus.resources.append(
            {
                "resourceType": "DocumentReference",
                "id": f"note{i}",
                "status": "current",
                "subject": {"reference": f"Patient/{pid}"},
                "content": [
                    {
                        "attachment": {
                            "contentType": "text/plain",
                            "data": base64.b64encode(note.encode()).decode(),
                        }
                    }
                ],
            }
        )
        # A second note in other formats than the first: bare digits, two-digit years,
        # ordinal dates, lower case and possessive names, domains without a scheme.
        bare = f"{rng.randint(201, 989)}{rng.randint(200, 999)}{rng.randint(0, 9999):04d}"
        spaced_ssn = f"{rng.randint(100, 899)} {rng.randint(10, 99)} {rng.randint(1000, 9999)}"
        y3, m3, d3 = rng.randint(2005, 2023), rng.randint(1, 12), rng.randint(1, 28)
        short_date = f"{m3}/{d3}/{y3 % 100:02d}"
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(d2 if d2 < 20 else d2 % 10, "th")
        ordinal = f"the {d2}{suffix} of {MONTHS[m2 - 1]} {y2}"
        domain = f"portal.{family.lower()}health.org/records/{i}"
        shout = f"{given.upper()}.{family.upper()}@EXAMPLE.COM"
        note2 = (
            f"follow-up for {given.lower()} {family.lower()}: {family}'s daughter called from "
            f"{bare}. ssn on file {spaced_ssn}. seen {short_date} and again on {ordinal}. "
            f"records at {domain}; write to {shout}. now {age} yo, lives alone."
        )
        T["phone"] += [bare]
        T["ssn"] += [spaced_ssn]
        T["date"] += [short_date, ordinal.removeprefix("the ")]
        T["url"] += [domain]
        T["email"] += [shout]
        T["name"] += [f"{given.lower()} {family.lower()}", f"{family}'s"]
        T["age_over_89"] += [f"{age} yo"]
        corpus.resources.append(
            {
                "resourceType": "DocumentReference",
                "id": f"note2-{i}",
                "status": "current",
                "subject": {"reference": f"Patient/{pid}"},
                "content": [
                    {
                        "attachment": {
                            "contentType": "text/plain",
                            "data": base64.b64encode(note2.encode()).decode(),
                        }
                    }
                ],
            }
        )
        comment = f"Called {given} at {_phone(rng)} on {_date_text(rng, y, m, d)}."
        corpus.resources.append(
            {
                "resourceType": "Observation",
                "id": f"obs{i}",
                "status": "final",
                "subject": {"reference": f"Patient/{pid}"},
                "code": {"coding": [{"system": "http://loinc.org", "code": "18262-6"}]},
                "effectiveDateTime": f"{y}-{m:02d}-{d:02d}T10:00:00Z",
                "valueQuantity": {"value": 130, "unit": "mg/dL"},
                "note": [{"text": comment}],
            }
        )
    return corpus
