"""The access decision: SMART scopes, then role and relationship, then the patient's consent.

`Policy.check_scope` refuses (403) what the token's scopes do not grant. `Policy.patient_access`
decides whether the caller may reach a patient's compartment at all: a patient only their own;
a clinician the patients whose care team includes them (CareTeam.participant.member,
Patient.generalPractitioner, Encounter.participant.individual), or any patient by
break-the-glass with a reason; a researcher none (de-identified exports only); an admin all.
`Policy.resource_visible` then applies consent and scope queries to each resource. Denials on
relationship or consent are `hidden`: the API answers them exactly as it answers absence.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pmed.errors import AccessDenied, NotFoundError
from pmed.governance.consent import ConsentEngine, ConsentRequest
from pmed.governance.freshness import PatientCache
from pmed.governance.roles import Principal

__all__ = ["CareTeams", "Decision", "Policy"]

_INTERACTION_WORDS = {"c": "create", "r": "read", "u": "update", "d": "delete", "s": "search"}


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    hidden: bool = False
    break_glass: bool = False
    consent_id: str | None = None


def _refs(node: Any, *path: str) -> Iterable[str]:
    items = node if isinstance(node, list) else [node]
    for item in items:
        if not isinstance(item, Mapping):
            continue
        if path:
            yield from _refs(item.get(path[0]), *path[1:])
        elif isinstance(item.get("reference"), str):
            yield item["reference"]


class CareTeams:
    """Who is in each patient's care team, read from the record and cached (see ChangeWatch)."""

    def __init__(self, store: Any, *, ttl: float = 300.0, watch_interval: float = 1.0) -> None:
        self.store = store
        self._cache: PatientCache[frozenset[str]] = PatientCache(
            store, ["CareTeam", "Encounter", "Patient"], ttl=ttl, watch_interval=watch_interval
        )

    def members(self, patient_id: str) -> frozenset[str]:
        return self._cache.get(patient_id, self._load)

    def _load(self, patient_id: str) -> frozenset[str]:
        found: set[str] = set()
        try:
            patient = self.store.read("Patient", patient_id)
        except NotFoundError:
            patient = {}
        found.update(_refs(patient.get("generalPractitioner")))
        for res in self.store.patient_resources(patient_id, ["CareTeam", "Encounter"]):
            if res["resourceType"] == "CareTeam":
                if res.get("status", "active") not in ("active", "proposed"):
                    continue
                found.update(_refs(res.get("participant"), "member"))
                found.update(_refs(res.get("managingOrganization")))
            elif res.get("status") not in ("cancelled", "entered-in-error"):
                found.update(_refs(res.get("participant"), "individual"))
        return frozenset(found)

    def invalidate(self, patient_id: str | None = None) -> None:
        self._cache.invalidate(patient_id)

    def includes(self, principal: Principal, patient_id: str) -> bool:
        refs = principal.actor_references
        return bool(refs) and bool(refs & self.members(patient_id))


class Policy:
    def __init__(self, store: Any, consent: ConsentEngine, care: CareTeams) -> None:
        self.store, self.consent, self.care = store, consent, care

    @classmethod
    def for_store(cls, store: Any) -> Policy:
        return cls(store, ConsentEngine(store), CareTeams(store))

    def check_scope(self, principal: Principal, resource_type: str, interaction: str) -> None:
        if principal.role == "researcher":
            raise AccessDenied("researchers may use de-identified exports only")
        if not principal.permits(resource_type, interaction):
            word = _INTERACTION_WORDS.get(interaction, interaction)
            raise AccessDenied(
                f"the token's scopes do not allow {word} on {resource_type} "
                f"(granted: {principal.scopes or 'none'})"
            )

    def patient_access(
        self, principal: Principal, patient_id: str, *, consent: bool = True
    ) -> Decision:
        """May the caller reach this patient's compartment (before per-resource consent)?

        `consent=False` skips the patient-level consent check when the caller will check each
        resource with `resource_visible`, which applies actor-wide provisions as well."""
        role = principal.role
        if role == "patient":
            if patient_id == principal.patient:
                return Decision(True, "own record")
            return Decision(False, "not the patient's own record", hidden=True)
        if role == "researcher":
            return Decision(False, "researchers may use de-identified exports only")
        if (
            role == "clinician"
            and principal.patient
            and patient_id != principal.patient
            and "user" not in principal.scopes.contexts()
        ):
            return Decision(False, "outside the launch patient context", hidden=True)
        btg = False
        if role == "clinician" and not self.care.includes(principal, patient_id):
            if not principal.break_glass_reason:
                return Decision(False, "not in the patient's care team", hidden=True)
            btg = True
        if consent:
            decision = self.consent.decide(
                patient_id,
                ConsentRequest(principal.actor_references, principal.purpose, None, btg),
            )
            if not decision.permitted:
                return Decision(False, decision.reason, hidden=True, consent_id=decision.consent_id)
        reason = (
            "break-the-glass: " + str(principal.break_glass_reason)
            if btg
            else ("care team" if role == "clinician" else "administrator")
        )
        return Decision(True, reason, break_glass=btg)

    def resource_visible(
        self,
        principal: Principal,
        patient_id: str | None,
        resource: Mapping[str, Any],
        interaction: str = "r",
        *,
        break_glass: bool = False,
    ) -> Decision:
        """Consent and scope queries for one resource the caller already may reach."""
        if not principal.scopes.permits(
            str(resource.get("resourceType")), interaction, principal.contexts, resource
        ):
            return Decision(False, "outside the token's scope query", hidden=True)
        if patient_id is None or (principal.role == "patient" and patient_id == principal.patient):
            return Decision(True, "own record" if patient_id else "not patient data")
        decision = self.consent.decide(
            patient_id,
            ConsentRequest(principal.actor_references, principal.purpose, resource, break_glass),
        )
        if not decision.permitted:
            return Decision(False, decision.reason, hidden=True, consent_id=decision.consent_id)
        return Decision(True, decision.reason, break_glass=break_glass)

    def research_permitted(self, patient_id: str) -> bool:
        return self.consent.research_permitted(patient_id)
