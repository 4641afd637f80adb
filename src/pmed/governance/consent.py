"""Patient consent: evaluating FHIR R4 Consent resources for one access.

A Consent applies when it is `active`, within its `provision.period`, and its scope fits the
purpose of use (`research` consents govern research use (HRESCH); `treatment` consents govern
TREAT and ETREAT; `patient-privacy` consents govern every purpose). Its base provision and nested
exception provisions are matched against the request (actor, purpose, resource class, code,
security label / sensitive category); the most specific matching provision decides permit or
deny, as in FHIR R4 §Consent "Provisions" and the HL7 Consent IG evaluation model. Across all of
a patient's Consents, deny wins; with none, access is permitted (an opt-out model).

Break-the-glass (purpose ETREAT, with a reason) overrides a general restriction (a category or
code set), but not a denial that names the caller's own practitioner or organization. The
patient is never restricted by their own consent.

Supported patterns (see the builders at the end): opt out of research, restrict a category
(genomics, mental-health, sexual-health) or a code set, deny one organization or practitioner,
or allow only named ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pmed.errors import AccessDenied, InputError
from pmed.governance.freshness import PatientCache
from pmed.governance.sensitivity import ACT_CODE, CATEGORIES, categories_of, resource_codes

__all__ = [
    "CATEGORY_SYSTEM",
    "ConsentDecision",
    "ConsentEngine",
    "ConsentRequest",
    "allow_only",
    "deny_actor",
    "evaluate",
    "research_opt_out",
    "restrict_category",
    "restrict_codes",
    "validate_patient_consent",
]

CATEGORY_SYSTEM = "urn:pmed:sensitive-category"
SCOPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/consentscope"
REASON_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
_TREATMENT = frozenset({"TREAT", "ETREAT"})


@dataclass(frozen=True)
class ConsentRequest:
    """One access to judge: who (their references), why (v3 PurposeOfUse), what resource
    (None for "may this patient's data be used at all")."""

    actors: frozenset[str] = frozenset()
    purpose: str = "TREAT"
    resource: Mapping[str, Any] | None = None
    break_glass: bool = False


@dataclass(frozen=True)
class ConsentDecision:
    permitted: bool
    consent_id: str | None = None
    reason: str = "no consent restricts this access"
    overridden: bool = False  # a restriction set aside by break-the-glass


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _codes(node: Any) -> Iterable[Mapping[str, Any]]:
    for item in node if isinstance(node, list) else [node]:
        if isinstance(item, Mapping):
            if "coding" in item:
                yield from (c for c in item.get("coding") or [] if isinstance(c, Mapping))
            elif "code" in item:
                yield item


def _in_period(period: Mapping[str, Any] | None, now: str) -> bool:
    if not period:
        return True
    start, end = str(period.get("start") or ""), str(period.get("end") or "")
    return (not start or start <= now[: len(start)]) and (not end or now[: len(end)] <= end)


def _purpose_matches(wanted: Iterable[Mapping[str, Any]], purpose: str) -> bool:
    codes = {str(c.get("code")) for c in wanted}
    return purpose in codes or (purpose == "ETREAT" and "TREAT" in codes)


def _resource_matches(prov: Mapping[str, Any], resource: Mapping[str, Any] | None) -> bool:
    classes = [str(c.get("code")) for c in _codes(prov.get("class"))]
    codes = list(_codes(prov.get("code")))
    labels = [str(c.get("code")) for c in _codes(prov.get("securityLabel"))]
    if not (classes or codes or labels):
        return True
    if resource is None:
        return False  # resource criteria cannot be judged at patient level
    if classes and resource.get("resourceType") not in classes:
        return False
    categories = categories_of(resource)
    if labels:
        wanted = {name for name, members in CATEGORIES.items() if set(labels) & members}
        explicit = {str(c.get("code")) for c in (resource.get("meta") or {}).get("security") or []}
        if not (wanted & categories or set(labels) & explicit):
            return False
    if codes:
        have = resource_codes(resource)
        ok = False
        for c in codes:
            system, code = str(c.get("system") or ""), str(c.get("code"))
            if system == CATEGORY_SYSTEM:
                ok = ok or code in categories
            else:
                ok = ok or any(code == hc and (not system or system == hs) for hs, hc in have)
        if not ok:
            return False
    return True


def _matches(prov: Mapping[str, Any], req: ConsentRequest, now: str) -> bool:
    if not _in_period(prov.get("period"), now):
        return False
    actors = {
        str((a.get("reference") or {}).get("reference"))
        for a in prov.get("actor") or []
        if isinstance(a, Mapping)
    }
    if actors and not actors & req.actors:
        return False
    purposes = list(_codes(prov.get("purpose")))
    if purposes and not _purpose_matches(purposes, req.purpose):
        return False
    return _resource_matches(prov, req.resource)


def _decide(
    prov: Mapping[str, Any], req: ConsentRequest, inherited: str, now: str, named: bool
) -> tuple[str, bool] | None:
    """(type, names-the-actor) of the most specific matching provision, or None."""
    if not _matches(prov, req, now):
        return None
    kind = str(prov.get("type") or inherited)
    named = named or bool(prov.get("actor"))
    results = [
        r
        for child in prov.get("provision") or []
        if isinstance(child, Mapping)
        for r in [_decide(child, req, kind, now, named)]
        if r is not None
    ]
    if results:
        denies = [r for r in results if r[0] == "deny"]
        return denies[0] if denies else results[0]
    return kind, named


def _scope_fits(consent: Mapping[str, Any], purpose: str) -> bool:
    scopes = {str(c.get("code")) for c in _codes(consent.get("scope"))}
    if "research" in scopes:
        return purpose == "HRESCH"
    if "treatment" in scopes:
        return purpose in _TREATMENT
    return True


def _base_type(consent: Mapping[str, Any]) -> str:
    rules = {str(c.get("code")) for c in _codes(consent.get("policyRule"))}
    return "deny" if "OPTOUT" in rules else "permit"


def evaluate(
    consents: Iterable[Mapping[str, Any]], req: ConsentRequest, now: str | None = None
) -> ConsentDecision:
    """Judge one access against a patient's Consents (deny wins; none means permit)."""
    now = now or _now()
    overridden: ConsentDecision | None = None
    for consent in consents:
        if consent.get("status") != "active" or not _scope_fits(consent, req.purpose):
            continue
        provision = consent.get("provision") or {}
        result = _decide(provision, req, _base_type(consent), now, False)
        if result is None or result[0] != "deny":
            continue
        cid = str(consent.get("id")) if consent.get("id") else None
        if req.break_glass and req.purpose == "ETREAT" and not result[1]:
            overridden = ConsentDecision(
                True, cid, "restriction overridden by break-the-glass", True
            )
            continue
        return ConsentDecision(False, cid, f"denied by Consent/{cid}")
    return overridden or ConsentDecision(True)


class ConsentEngine:
    """Consents per patient, read from the store and cached; writes through governance
    invalidate at once, other processes' writes within a second (`ChangeWatch`)."""

    def __init__(self, store: Any, *, ttl: float = 300.0, watch_interval: float = 1.0) -> None:
        self.store = store
        self._cache: PatientCache[list[dict[str, Any]]] = PatientCache(
            store, ["Consent"], ttl=ttl, watch_interval=watch_interval
        )

    def consents_for(self, patient_id: str) -> list[dict[str, Any]]:
        return self._cache.get(
            patient_id, lambda pid: list(self.store.patient_resources(pid, ["Consent"]))
        )

    def invalidate(self, patient_id: str | None = None) -> None:
        self._cache.invalidate(patient_id)

    def decide(self, patient_id: str, req: ConsentRequest) -> ConsentDecision:
        return evaluate(self.consents_for(patient_id), req)

    def research_permitted(self, patient_id: str) -> bool:
        """False when the patient opted out of research use."""
        return self.decide(patient_id, ConsentRequest(purpose="HRESCH")).permitted

    def research_opted_out(self) -> frozenset[str]:
        """Every patient whose consent forbids research use, in one pass over the Consents:
        for cohort extraction and model training, which must leave them out."""
        by_patient: dict[str, list[dict[str, Any]]] = {}
        for consent in self.store.iter_resources("Consent"):
            ref = str((consent.get("patient") or {}).get("reference", ""))
            if ref.startswith("Patient/"):
                by_patient.setdefault(ref.split("/", 1)[1], []).append(consent)
        request = ConsentRequest(purpose="HRESCH")
        return frozenset(
            pid for pid, found in by_patient.items() if not evaluate(found, request).permitted
        )


# ---- building and checking consents ---------------------------------------------------------


def _consent(
    patient_id: str, scope: str, provision: dict[str, Any], policy: str = "OPTIN"
) -> dict[str, Any]:
    return {
        "resourceType": "Consent",
        "status": "active",
        "scope": {"coding": [{"system": SCOPE_SYSTEM, "code": scope}]},
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
        "patient": {"reference": f"Patient/{patient_id}"},
        "dateTime": _now(),
        "policyRule": {"coding": [{"system": ACT_CODE, "code": policy}]},
        "provision": provision,
    }


def _actors(refs: Sequence[str]) -> list[dict[str, Any]]:
    return [
        {
            "role": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                        "code": "IRCP",
                    }
                ]
            },
            "reference": {"reference": ref},
        }
        for ref in refs
    ]


def research_opt_out(patient_id: str) -> dict[str, Any]:
    """The patient's data may not be used for research, de-identified or not."""
    return _consent(patient_id, "research", {"type": "deny"}, policy="OPTOUT")


def restrict_category(
    patient_id: str, category: str, *, except_actors: Sequence[str] = ()
) -> dict[str, Any]:
    """Hide a sensitive category from everyone (but `except_actors`)."""
    if category not in CATEGORIES:
        raise InputError(f"unknown category {category!r}; use one of {', '.join(CATEGORIES)}")
    deny: dict[str, Any] = {
        "type": "deny",
        "code": [{"coding": [{"system": CATEGORY_SYSTEM, "code": category}]}],
    }
    if except_actors:
        deny["provision"] = [{"type": "permit", "actor": _actors(except_actors)}]
    return _consent(patient_id, "patient-privacy", {"type": "permit", "provision": [deny]})


def restrict_codes(patient_id: str, codes: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """Hide resources coded with any of a sensitive code set ((system, code) pairs)."""
    coding = [{"system": s, "code": c} for s, c in codes]
    return _consent(
        patient_id,
        "patient-privacy",
        {"type": "permit", "provision": [{"type": "deny", "code": [{"coding": coding}]}]},
    )


def deny_actor(patient_id: str, reference: str) -> dict[str, Any]:
    """Deny one organization or practitioner all access."""
    return _consent(
        patient_id,
        "patient-privacy",
        {"type": "permit", "provision": [{"type": "deny", "actor": _actors([reference])}]},
    )


def allow_only(patient_id: str, references: Sequence[str]) -> dict[str, Any]:
    """Deny everyone except the named organizations or practitioners."""
    return _consent(
        patient_id,
        "patient-privacy",
        {"type": "deny", "provision": [{"type": "permit", "actor": _actors(references)}]},
        policy="OPTOUT",
    )


def validate_patient_consent(resource: Mapping[str, Any], patient_id: str) -> None:
    """A Consent a patient submits must be about themselves and well-formed enough to enforce."""
    if resource.get("resourceType") != "Consent":
        raise InputError("expected a Consent resource", field="resourceType")
    ref = (resource.get("patient") or {}).get("reference")
    if ref != f"Patient/{patient_id}":
        raise AccessDenied("a patient may only record consents about themselves")
    if resource.get("status") not in ("draft", "proposed", "active", "rejected", "inactive"):
        raise InputError(
            "Consent.status must be draft, proposed, active, rejected or inactive", field="status"
        )
    if not list(_codes(resource.get("scope"))):
        raise InputError(
            "Consent.scope is required (patient-privacy, research, treatment)", field="scope"
        )
    provision = resource.get("provision")
    if provision is not None and not isinstance(provision, Mapping):
        raise InputError("Consent.provision must be an object", field="provision")
    if isinstance(provision, Mapping) and provision.get("type") not in (None, "permit", "deny"):
        raise InputError("Consent.provision.type must be permit or deny", field="provision.type")
