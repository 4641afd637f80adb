"""De-identification of FHIR resources: HIPAA Safe Harbor and the limited data set.

Safe Harbor, 45 CFR §164.514(b)(2)(i), removes the 18 identifiers of the individual and of
relatives, employers and household members: (A) names; (B) geographic subdivisions smaller than a
state, except the first three ZIP digits where that area holds more than 20,000 people, else
`000` (the 17 restricted prefixes of the 2000 Census listed in HHS's 2012 de-identification
guidance, §2.4); (C) all elements of dates except the year, and ages over 89 and the dates
(years included) that reveal them, aggregated to "90 or older"; (D-P) telephone and fax
numbers, email, SSN, medical record, health-plan, account and licence numbers, vehicle and device
identifiers and serial numbers, URLs, IP addresses, biometric identifiers, full-face photographs;
(R) any other unique identifying number — resource ids and references are replaced by keyed
pseudonyms whose key is random per export and never written, so they link resources within one
export and nothing else.

The limited data set, §164.514(e)(2), may keep dates, town or city, state and five-digit ZIP:
here every date of a patient is shifted by the same keyed per-patient offset (±1..365 days), so
intervals survive and calendar dates do not; direct identifiers go as in Safe Harbor.

Free text (notes, comments, narrative, text attachments) goes through `pmed.governance.scrub`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import orjson

from pmed.errors import InputError
from pmed.governance.consent import ConsentEngine, ConsentRequest
from pmed.governance.scrub import Scrubber

__all__ = [
    "MODES",
    "RESTRICTED_ZIP3",
    "Deidentifier",
    "ExportSummary",
    "PatientContext",
    "export_deidentified",
    "names_in",
]

MODES = ("safe-harbor", "limited-dataset")

#: ZIP3 prefixes with 20,000 or fewer people (2000 Census), per HHS de-identification guidance.
RESTRICTED_ZIP3 = frozenset(
    {"036", "059", "063", "102", "203", "556", "692", "790", "821", "823", "830", "831", "878",
     "879", "884", "890", "893"}
)  # fmt: skip

_DROP_KEYS = frozenset(
    {
        "identifier",
        "telecom",
        "photo",
        "contact",
        "link",
        "udiCarrier",
        "serialNumber",
        "lotNumber",
        "distinctIdentifier",
        "subscriberId",
        "modelNumber",
        "signature",
    }
)
_DROP_EXTENSIONS = (
    "birthPlace",
    "mothersMaidenName",
    "birthTime",
    "geolocation",
    "patient-citizenship",
)
_KEEP_STRINGS = frozenset(
    {"system", "url", "profile", "code", "resourceType", "status", "unit", "contentType",
     "language", "valueSet", "use", "gender", "intent", "priority", "mode", "type", "versionId"}
)  # fmt: skip
_DATE = re.compile(
    r"^(\d{4})(?:-(\d{2})(?:-(\d{2})(T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?)?)?)?$"
)
_AGE_KEYS = frozenset({"onsetAge", "abatementAge", "valueAge", "age"})


def _is_human_name(value: Any) -> bool:
    items = value if isinstance(value, list) else [value]
    return bool(items) and all(
        isinstance(i, Mapping) and bool({"family", "given", "text", "prefix"} & i.keys())
        for i in items
    )


def names_in(resource: Mapping[str, Any]) -> set[str]:
    """Every name part of a resource's HumanNames (and its contacts'), for text scrubbing."""
    found: set[str] = set()
    names = list(resource.get("name") or []) if _is_human_name(resource.get("name")) else []
    for contact in resource.get("contact") or []:
        if isinstance(contact, Mapping) and isinstance(contact.get("name"), Mapping):
            names.append(contact["name"])
    for n in names:
        if not isinstance(n, Mapping):
            continue
        parts = [n.get("family"), n.get("text"), *(n.get("given") or [])]
        for part in parts:
            if isinstance(part, str):
                found.add(part)
                found.update(w for w in re.split(r"[\s,]+", part) if len(w) >= 2)
    return found


def _address_words(resource: Mapping[str, Any]) -> set[str]:
    found: set[str] = set()
    for addr in resource.get("address") or []:
        if isinstance(addr, Mapping):
            found.update(x for x in addr.get("line") or [] if isinstance(x, str))
            if isinstance(addr.get("city"), str):
                found.add(addr["city"])
    return found


@dataclass
class PatientContext:
    """What de-identifying one patient's resources needs: their pseudonymised id, date shift,
    whether they are over 89, and the scrubber loaded with their known names."""

    patient_id: str | None
    shift_days: int | None
    over_89: bool
    scrubber: Scrubber
    counts: dict[str, int] = field(default_factory=dict)


class Deidentifier:
    def __init__(
        self,
        mode: str = "safe-harbor",
        *,
        secret: bytes | None = None,
        as_of: date | None = None,
        known_names: Iterable[str] = (),
    ) -> None:
        if mode not in MODES:
            raise InputError(f"unknown de-identification mode {mode!r}; use {' or '.join(MODES)}")
        self.mode = mode
        self.secret = secret or secrets.token_bytes(32)
        self.as_of = as_of or datetime.now(UTC).date()
        self.known_names = set(known_names)

    # ---- keys ------------------------------------------------------------------------------

    def pseudonym(self, rtype: str, rid: str) -> str:
        return hmac.new(self.secret, f"id:{rtype}/{rid}".encode(), hashlib.sha256).hexdigest()[:32]

    def shift_days(self, patient_id: str) -> int:
        raw = int.from_bytes(
            hmac.new(self.secret, f"shift:{patient_id}".encode(), hashlib.sha256).digest()[:4],
            "big",
        )
        magnitude = 1 + raw % 365
        return magnitude if raw & (1 << 31) else -magnitude

    def context(
        self, patient: Mapping[str, Any] | None, extra_names: Iterable[str] = ()
    ) -> PatientContext:
        pid = str(patient["id"]) if patient else None
        names = set(self.known_names) | set(extra_names)
        over = False
        if patient:
            names |= names_in(patient) | _address_words(patient)
            birth = str(patient.get("birthDate") or "")
            end = str(patient.get("deceasedDateTime") or "")[:10] or self.as_of.isoformat()
            if _DATE.match(birth):
                y, m, d = (int(x) for x in (birth + "-07-01")[:10].split("-"))
                ey, em, ed = (int(x) for x in end.split("-"))
                over = ey - y - ((em, ed) < (m, d)) > 89
        shift = self.shift_days(pid) if pid and self.mode == "limited-dataset" else None
        return PatientContext(pid, shift, over, Scrubber(names, shift_days=shift))

    # ---- transforms ------------------------------------------------------------------------

    def _date(self, value: str, ctx: PatientContext) -> str:
        m = _DATE.match(value)
        if m is None:
            return ctx.scrubber(value)
        if ctx.shift_days is None:
            return m[1]
        if m[3] is None:
            return m[1] if m[2] is None else value[:7]
        shifted = date(int(m[1]), int(m[2]), int(m[3])) + timedelta(days=ctx.shift_days)
        return shifted.isoformat() + (m[4] or "")

    def _address(self, addr: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {k: addr[k] for k in ("state", "country", "use", "type") if k in addr}
        zip_code = re.sub(r"\D", "", str(addr.get("postalCode") or ""))
        if self.mode == "limited-dataset":
            if "city" in addr:
                out["city"] = addr["city"]
            if zip_code:
                out["postalCode"] = zip_code[:5]
        elif zip_code:
            out["postalCode"] = "000" if zip_code[:3] in RESTRICTED_ZIP3 else zip_code[:3]
        return out

    def _reference(self, ref: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        text = ref.get("reference")
        if isinstance(text, str):
            if text.startswith("urn:uuid:"):
                out["reference"] = "urn:uuid:" + self.pseudonym("urn", text[9:])
            elif text.startswith("#"):
                out["reference"] = text
            else:
                parts = text.split("?", 1)[0].rstrip("/").split("/")
                if len(parts) >= 2:
                    out["reference"] = f"{parts[-2]}/{self.pseudonym(parts[-2], parts[-1])}"
        if isinstance(ref.get("type"), str):
            out["type"] = ref["type"]
        return out

    def _attachment(self, att: Mapping[str, Any], ctx: PatientContext) -> dict[str, Any] | None:
        ctype = str(att.get("contentType") or "")
        if ctype.startswith(("image/", "video/", "audio/")):
            return None  # photographs and recordings are biometric / full-face identifiers
        out: dict[str, Any] = {k: att[k] for k in ("contentType", "language") if k in att}
        if "data" in att and (ctype.startswith("text/") or not ctype):
            try:
                text = base64.b64decode(str(att["data"]), validate=True).decode("utf-8")
            except (binascii.Error, ValueError, UnicodeDecodeError):
                return None
            out["data"] = base64.b64encode(ctx.scrubber(text).encode()).decode()
        if isinstance(att.get("title"), str):
            out["title"] = ctx.scrubber(att["title"])
        if "creation" in att:
            out["creation"] = self._date(str(att["creation"]), ctx)
        return out if ("data" in out or "title" in out) else None

    def _walk(self, node: Any, key: str, ctx: PatientContext) -> Any:
        if isinstance(node, list):
            items = [self._walk(x, key, ctx) for x in node]
            return [x for x in items if x is not None and x != {}]
        if isinstance(node, Mapping):
            if key in ("address", "valueAddress"):
                return self._address(node)
            if (
                key in _AGE_KEYS
                and isinstance(node.get("value"), int | float)
                and node["value"] > 89
            ):
                return {**node, "value": 90, "comparator": ">="}
            if "reference" in node and isinstance(node.get("reference"), str):
                return self._reference(node)
            if "contentType" in node or (
                "data" in node and key in ("attachment", "content", "photo")
            ):
                return self._attachment(node, ctx)
            if key == "extension" and any(s in str(node.get("url", "")) for s in _DROP_EXTENSIONS):
                return None
            out: dict[str, Any] = {}
            for k, v in node.items():
                if k in _DROP_KEYS or (k == "name" and _is_human_name(v)):
                    continue
                walked = self._walk(v, k, ctx)
                if walked is not None and walked != [] and walked != {}:
                    out[k] = walked
            return out
        if isinstance(node, str):
            if key in _KEEP_STRINGS:
                return node
            if _DATE.match(node):
                return self._date(node, ctx)
            return ctx.scrubber(node)
        return node

    def resource(self, res: Mapping[str, Any], ctx: PatientContext) -> dict[str, Any]:
        """The de-identified copy of one resource of the patient in `ctx`."""
        rtype = str(res.get("resourceType"))
        body = {k: v for k, v in res.items() if k not in ("id", "meta", "text", "resourceType")}
        if rtype == "Patient" and ctx.over_89:
            body.pop("birthDate", None)
        out: dict[str, Any] = {"resourceType": rtype}
        if "id" in res:
            out["id"] = self.pseudonym(rtype, str(res["id"]))
        meta = res.get("meta") or {}
        kept = {k: meta[k] for k in ("profile", "security", "tag") if k in meta}
        tag = {"system": "urn:pmed:deidentified", "code": self.mode}
        kept["tag"] = [*kept.get("tag", []), tag]
        out["meta"] = kept
        walked = self._walk(body, "", ctx)
        out.update(walked)
        if rtype == "Patient" and ctx.over_89:
            out.setdefault("extension", []).append(
                {"url": "urn:pmed:deidentified:age", "valueString": "90 or older"}
            )
        for contained in out.get("contained") or []:
            contained.pop("text", None)
        return out


#: Types exported alongside the patients: shared resources, de-identified the same way.
SHARED_TYPES = ("Organization", "Location", "Practitioner", "PractitionerRole", "Medication")


@dataclass
class ExportSummary:
    mode: str
    patients: int = 0
    excluded_opted_out: int = 0
    withheld_by_consent: int = 0
    resources: dict[str, int] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "patients": self.patients,
            "excludedOptedOut": self.excluded_opted_out,
            "withheldByConsent": self.withheld_by_consent,
            "resources": dict(sorted(self.resources.items())),
            "files": self.files,
        }


def export_deidentified(
    store: Any,
    out_dir: Path,
    mode: str = "safe-harbor",
    *,
    consent: ConsentEngine | None = None,
    secret: bytes | None = None,
    as_of: date | None = None,
    progress: Callable[[int], None] | None = None,
) -> ExportSummary:
    """Write every patient who has not opted out of research, de-identified, as NDJSON files
    (one per type) in `out_dir`; resources their consent withholds from research are left out.
    Streams: one patient's compartment in memory at a time."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    consent = consent or ConsentEngine(store)
    practitioner_names: set[str] = set()
    for prac in store.iter_resources("Practitioner"):
        practitioner_names |= names_in(prac)
    deid = Deidentifier(mode, secret=secret, as_of=as_of, known_names=practitioner_names)
    summary = ExportSummary(mode)
    handles: dict[str, IO[bytes]] = {}

    def write(resource: dict[str, Any]) -> None:
        rtype = resource["resourceType"]
        if rtype not in handles:
            handles[rtype] = (out_dir / f"{rtype}.ndjson").open("wb")
        handles[rtype].write(orjson.dumps(resource) + b"\n")
        summary.resources[rtype] = summary.resources.get(rtype, 0) + 1

    try:
        shared_ctx = deid.context(None)
        for rtype in SHARED_TYPES:
            for res in store.iter_resources(rtype):
                write(deid.resource(res, shared_ctx))
        for patient in store.iter_resources("Patient"):
            pid = str(patient["id"])
            if not consent.research_permitted(pid):
                summary.excluded_opted_out += 1
                continue
            ctx = deid.context(patient)
            for res in store.patient_resources(pid):
                if res["resourceType"] in SHARED_TYPES:
                    continue
                decision = consent.decide(pid, ConsentRequest(frozenset(), "HRESCH", res))
                if not decision.permitted:
                    summary.withheld_by_consent += 1
                    continue
                write(deid.resource(res, ctx))
            summary.patients += 1
            if progress:
                progress(1)
    finally:
        for fh in handles.values():
            fh.close()
    summary.files = sorted(f"{t}.ndjson" for t in handles)
    manifest = {
        **summary.as_dict(),
        "method": "HIPAA 45 CFR 164.514(b)(2) Safe Harbor"
        if mode == "safe-harbor"
        else "HIPAA 45 CFR 164.514(e) limited data set, keyed per-patient date shift",
        "generated": datetime.now(UTC).strftime("%Y"),
        "pseudonyms": "keyed per export; the key was not kept",
    }
    (out_dir / "deidentification.json").write_bytes(
        orjson.dumps(manifest, option=orjson.OPT_INDENT_2)
    )
    return summary
