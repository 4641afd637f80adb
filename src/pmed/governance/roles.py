"""Roles and the principal: who is asking, in which role, with which scopes and context.

- patient (`patient/` scopes): their own compartment (the token's `patient` claim), and shared
  non-patient resources (Practitioner, Organization, Medication ...).
- clinician (`user/`, `patient/`): patients whose care team includes them (CareTeam participant,
  Patient.generalPractitioner, Encounter participant); others only by break-the-glass with a
  stated reason, which is always ledgered.
- researcher (`system/`, `user/`): de-identified bulk exports only, of patients who have not
  opted out of research.
- admin (`user/`, `system/`): everything the scopes allow (consent still applies).
"""

from __future__ import annotations

from dataclasses import dataclass

from pmed.governance.scopes import ScopeSet

__all__ = ["ROLES", "ROLE_CONTEXTS", "Principal"]

ROLES = ("patient", "clinician", "researcher", "admin")

#: The scope contexts each role may use; a scope in any other context is ignored.
ROLE_CONTEXTS: dict[str, frozenset[str]] = {
    "patient": frozenset({"patient"}),
    "clinician": frozenset({"user", "patient"}),
    "researcher": frozenset({"user", "system"}),
    "admin": frozenset({"user", "system"}),
}

#: v3 PurposeOfUse codes recorded with each access.
PURPOSE_BY_ROLE = {
    "patient": "PATRQT",
    "clinician": "TREAT",
    "researcher": "HRESCH",
    "admin": "HOPERAT",
}


@dataclass(frozen=True)
class Principal:
    """The verified caller of one request."""

    subject: str
    role: str
    scopes: ScopeSet
    patient: str | None = None  # launch context; for a patient, their own id
    fhir_user: str | None = None  # e.g. "Practitioner/123"
    organization: str | None = None  # e.g. "Organization/1"
    break_glass_reason: str | None = None
    token_id: str | None = None

    @property
    def contexts(self) -> frozenset[str]:
        return ROLE_CONTEXTS.get(self.role, frozenset())

    @property
    def purpose(self) -> str:
        if self.break_glass_reason:
            return "ETREAT"
        return PURPOSE_BY_ROLE.get(self.role, "HOPERAT")

    @property
    def actor_references(self) -> frozenset[str]:
        """References that name this caller in Consent provisions and care teams."""
        refs = {r for r in (self.fhir_user, self.organization) if r}
        return frozenset(refs)

    @property
    def agent(self) -> str:
        return self.fhir_user or self.subject

    def permits(self, resource_type: str, interaction: str) -> bool:
        """The token's scopes, in this role's contexts, allow the interaction on the type."""
        return self.scopes.permits(resource_type, interaction, self.contexts)

    @classmethod
    def development(cls) -> Principal:
        """The caller when auth is switched off for development (`PMED_AUTH=off`)."""
        return cls(subject="dev", role="admin", scopes=ScopeSet("system/*.cruds user/*.cruds"))
