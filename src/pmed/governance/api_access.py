"""Governance at the API's one door: `GovernedAccess`, the `AccessContext` every route receives.

`governed_access(request, store, settings)` authenticates the bearer token (401 otherwise;
deny by default), and the context it returns checks SMART scopes, the caller's relationship to
the patient (patient / care team / break-the-glass / admin), and the patient's consent on every
read, search, `$everything`, `$export`, report and CDS Hooks call, and records each access in the
ledger. A read that relationship or consent forbids answers exactly as absence does (404), and is
ledgered as denied. Break-the-glass: a clinician sends `X-Break-Glass-Reason: <why>`; the access
is then allowed, and ledgered with the reason and purpose ETREAT.

This module sits at the API edge (it subclasses `pmed.api.access.AccessContext`); the decisions
themselves live in `pmed.governance.policy` and `consent`, which know nothing of HTTP.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request

from pmed.api.access import AccessContext
from pmed.api.problem import ApiProblem
from pmed.config import Settings
from pmed.errors import AccessDenied, InputError, NotFoundError
from pmed.governance.config import GovernanceConfig
from pmed.governance.consent import validate_patient_consent
from pmed.governance.deidentify import Deidentifier, PatientContext
from pmed.governance.ledger import BufferedLedger, Ledger, audit_event
from pmed.governance.policy import Decision, Policy
from pmed.governance.roles import Principal
from pmed.governance.scopes import ScopeSet
from pmed.governance.tokens import AuthenticationError, TokenVerifier
from pmed.record.references import split_reference
from pmed.record.search_params import patient_reference_fields
from pmed.record.store import SearchPage, Store

__all__ = ["GovernanceState", "GovernedAccess", "governed_access", "patient_of"]

BREAK_GLASS_HEADER = "x-break-glass-reason"
_CARE_TYPES = frozenset({"CareTeam", "Encounter", "Patient"})


def patient_of(resource: Mapping[str, Any]) -> str | None:
    """The id of the patient whose compartment a resource belongs to (None if no patient's)."""
    rtype = resource.get("resourceType")
    if rtype == "Patient":
        return str(resource.get("id"))
    for name in patient_reference_fields(str(rtype)):
        node: Any = resource
        for part in name.split("."):
            node = node.get(part) if isinstance(node, Mapping) else None
        for ref in node if isinstance(node, list) else [node]:
            if isinstance(ref, Mapping) and isinstance(ref.get("reference"), str):
                parts = split_reference(ref["reference"])
                if parts and parts[0] == "Patient":
                    return parts[1]
    return None


class GovernanceState:
    """Per-app governance objects: token verifier, ledger, policy. Built on first request."""

    _lock = threading.Lock()

    def __init__(self, store: Store, settings: Settings, config: GovernanceConfig | None = None):
        self.config = config or GovernanceConfig.from_env(settings)
        self.store = store
        if not self.config.auth_enabled:
            logging.getLogger("pmed.governance").warning(
                "PMED_AUTH=off: authentication is DISABLED; every request acts as an admin "
                "(development only, never in production)"
            )
        self.verifier = (
            TokenVerifier(self.config, engine=store.engine) if self.config.auth_enabled else None
        )
        self.ledger = (
            Ledger.open(
                store.engine, self.config.home, checkpoint_every=self.config.checkpoint_every
            )
            if self.config.ledger_enabled
            else None
        )
        self.writer = (
            BufferedLedger(self.ledger)
            if self.ledger is not None and not self.config.ledger_sync
            else None
        )
        self.policy = Policy.for_store(store)
        atexit.register(self.close)

    @classmethod
    def of(cls, request: Request, store: Store, settings: Settings) -> GovernanceState:
        state = request.app.state
        gov = getattr(state, "governance", None)
        if gov is None:
            with cls._lock:
                gov = getattr(state, "governance", None)
                if gov is None:
                    gov = cls(store, settings)
                    state.governance = gov
        assert isinstance(gov, GovernanceState)
        return gov

    def close(self) -> None:
        """Write what is queued and sign a final checkpoint (at shutdown)."""
        with contextlib.suppress(Exception):  # the database may be gone at exit
            if self.writer is not None:
                self.writer.close()
            elif self.ledger is not None:
                self.ledger.close()

    def shred(self, patient_id: str) -> bool:
        """Destroy a deleted patient's data key (crypto-shredding); the ledger keeps the fact."""
        from pmed.governance.sealing import attach_sealer, patient_keys_of

        shredded = patient_keys_of(self.store, self.config).shred(patient_id)
        attach_sealer(self.store, config=self.config)  # the master key file exists now
        return shredded

    def readable_ledger(self) -> Ledger | None:
        """The ledger with every queued entry written (before listing entries or proving)."""
        if self.writer is not None:
            self.writer.flush()
        return self.ledger

    def record(self, events: Sequence[tuple[dict[str, Any], str | None]]) -> None:
        if self.ledger is None or not events:
            return
        if self.writer is not None:
            self.writer.append_many(events)
        elif len(events) == 1:
            self.ledger.append(events[0][0], patient_id=events[0][1])
        else:
            self.ledger.append_many(events)

    def authenticate(self, request: Request) -> Principal:
        if not self.config.auth_enabled:
            return Principal.development()
        path = str(request.scope.get("path", ""))
        if path.startswith("/cds-services/"):
            # CDS Hooks calls carry the CDS Client's JWT, verified by the hook route itself;
            # the client reads on behalf of its user, read-only, consent enforced.
            return Principal(subject="cds-client", role="admin", scopes=ScopeSet("system/*.rs"))
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        challenge = {"WWW-Authenticate": 'Bearer realm="pmed"'}
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiProblem(401, "authentication required: send Authorization: Bearer <token>",
                             code="login", headers=challenge)  # fmt: skip
        assert self.verifier is not None
        try:
            claims = self.verifier.verify(token.strip())
        except AuthenticationError as exc:
            challenge["WWW-Authenticate"] = (
                'Bearer realm="pmed", error="invalid_token", error_description="'
                + str(exc).replace('"', "'")[:200]
                + '"'
            )
            raise ApiProblem(401, str(exc), code="login", headers=challenge) from exc
        reason = request.headers.get(BREAK_GLASS_HEADER)
        if reason is not None:
            reason = reason.strip()
            if claims.role != "clinician":
                raise ApiProblem(403, "only clinicians may break the glass", code="forbidden")
            if not 3 <= len(reason) <= 500:
                raise InputError("a break-the-glass reason of 3 to 500 characters is required",
                                 field=BREAK_GLASS_HEADER)  # fmt: skip
        org = claims.raw.get("organization")
        return Principal(
            subject=claims.subject,
            role=claims.role,
            scopes=claims.scopes,
            patient=claims.patient,
            fhir_user=claims.fhir_user,
            organization=org if isinstance(org, str) else None,
            break_glass_reason=reason or None,
            token_id=claims.token_id,
        )


@dataclass
class GovernedAccess(AccessContext):
    """An `AccessContext` that authorizes, filters by consent and records every access."""

    who: Principal = field(default_factory=Principal.development)
    gov: GovernanceState | None = None
    _deid: Deidentifier | None = None
    _deid_contexts: dict[str, PatientContext] = field(default_factory=dict)

    # ---- helpers ---------------------------------------------------------------------------

    @property
    def requires_token(self) -> bool:
        return self.gov is not None and self.gov.config.auth_enabled

    @property
    def policy(self) -> Policy:
        assert self.gov is not None
        return self.gov.policy

    def _event(
        self,
        action: str,
        patient_id: str | None,
        entities: Sequence[str] = (),
        *,
        outcome: str = "success",
        query: str | None = None,
        btg: bool = False,
    ) -> tuple[dict[str, Any], str | None]:
        p = self.who
        event = audit_event(
            "break-the-glass" if btg and outcome == "success" else action,
            agent=p.agent,
            role=p.role,
            patient_id=patient_id,
            entities=entities,
            outcome=outcome,
            purpose=p.purpose,
            reason=p.break_glass_reason if btg else None,
            query=query,
        )
        return event, patient_id

    def _record(self, *events: tuple[dict[str, Any], str | None]) -> None:
        if self.gov is not None:
            self.gov.record(events)

    def _patient(self, patient_id: str, action: str, ref: str, *, consent: bool = True) -> Decision:
        """Relationship check for one patient; a refusal is ledgered, then raised."""
        decision = self.policy.patient_access(self.who, patient_id, consent=consent)
        if not decision.allowed:
            self._record(self._event(action, patient_id, [ref], outcome="denied"))
            if decision.hidden:
                raise NotFoundError(_absent(ref))
            raise AccessDenied(decision.reason)
        return decision

    def _visible(
        self, resource: Mapping[str, Any], interaction: str = "r"
    ) -> tuple[bool, str | None, bool]:
        """(visible, patient id, needed break-the-glass) for one resource, no ledgering."""
        pid = patient_of(resource)
        btg = False
        if pid is not None:
            decision = self.policy.patient_access(self.who, pid, consent=False)
            if not decision.allowed:
                return False, pid, False
            btg = decision.break_glass
        verdict = self.policy.resource_visible(
            self.who, pid, resource, interaction, break_glass=btg
        )
        return verdict.allowed, pid, btg

    def _check_read(self, resource: dict[str, Any], action: str = "read") -> dict[str, Any]:
        rtype, rid = str(resource["resourceType"]), str(resource.get("id"))
        ref = f"{rtype}/{rid}"
        pid = patient_of(resource)
        btg = False
        if pid is not None:
            btg = self._patient(pid, action, ref, consent=False).break_glass
        verdict = self.policy.resource_visible(self.who, pid, resource, "r", break_glass=btg)
        if not verdict.allowed:
            self._record(self._event(action, pid, [ref], outcome="denied"))
            raise NotFoundError(_absent(ref))
        self._record(self._event(action, pid, [ref], btg=btg))
        return resource

    def _scope(self, rtype: str, interaction: str) -> None:
        self.policy.check_scope(self.who, rtype, interaction)

    # ---- reads -----------------------------------------------------------------------------

    def read(self, rtype: str, rid: str) -> dict[str, Any]:
        self._scope(rtype, "r")
        return self._check_read(super().read(rtype, rid))

    def vread(self, rtype: str, rid: str, version_id: str) -> dict[str, Any]:
        self._scope(rtype, "r")
        self._check_read(super().read(rtype, rid), "read")
        return super().vread(rtype, rid, version_id)

    def history(self, rtype: str, rid: str) -> list[dict[str, Any]]:
        self._scope(rtype, "r")
        versions = super().history(rtype, rid)
        current = next((v for v in versions if not v.get("_deleted")), None)
        if current is not None:
            self._check_read(current, "read")
        elif self.who.role != "admin":
            raise NotFoundError(_absent(f"{rtype}/{rid}"))
        return versions

    def search(
        self,
        rtype: str,
        params: Sequence[tuple[str, str]],
        *,
        count: int,
        offset: int,
        sort: str | None,
        summary_count: bool,
        total: bool = True,
    ) -> SearchPage:
        self._scope(rtype, "s")
        p = self.who
        params = list(params)
        query = "&".join(f"{k}={v}" for k, v in params)
        targets = _named_patients(rtype, params)
        if p.role == "patient":
            own = str(p.patient)
            if targets and targets != {own}:
                self._record(self._event("search", own, [f"{rtype}?{query}"], outcome="denied"))
                return SearchPage(total=0, resources=[])
            targets = {own}
            params.append(("_id", own) if rtype == "Patient" else ("patient", own))
        for target in targets:
            if not self.policy.patient_access(p, target).allowed:
                self._record(self._event("search", target, [f"{rtype}?{query}"], outcome="denied"))
                return SearchPage(total=0, resources=[])
        if summary_count and p.role != "admin" and len(targets) != 1:
            raise AccessDenied("_summary=count across patients needs the admin role")
        try:
            page = super().search(rtype, params, count=count, offset=offset, sort=sort,
                                  summary_count=summary_count, total=total)  # fmt: skip
        except InputError:
            if p.role != "patient":
                raise
            params.pop()  # this type has no `patient` parameter: filter the results instead
            page = super().search(rtype, params, count=count, offset=offset, sort=sort,
                                  summary_count=summary_count, total=total)  # fmt: skip
        visible: list[dict[str, Any]] = []
        events: list[tuple[dict[str, Any], str | None]] = []
        seen: set[str] = set()
        for res in page.resources:
            ok, pid, btg = self._visible(res)
            if ok:
                visible.append(res)
            if pid is not None and pid not in seen:
                seen.add(pid)
                events.append(
                    self._event("search", pid, [f"{rtype}?{query}"], query=query, btg=btg)
                )
        includes = [r for r in page.includes if self._visible(r)[0]]
        if not events:
            events.append(self._event("search", None, [f"{rtype}?{query}"], query=query))
        self._record(*events)
        hidden = len(visible) != len(page.resources)
        if hidden and page.total is not None:
            page.total = offset + len(visible)
        page.resources, page.includes = visible, includes
        return page

    def everything(
        self, patient_id: str, types: Sequence[str] | None = None
    ) -> Iterator[dict[str, Any]]:
        self._scope("Patient", "r")
        ref = f"Patient/{patient_id}"
        decision = self._patient(patient_id, "read", ref + "/$everything")
        resources = super().everything(patient_id, types)  # NotFound/Gone before streaming
        self._record(
            self._event("read", patient_id, [ref + "/$everything"], btg=decision.break_glass)
        )
        return self._filtered(resources, patient_id, decision.break_glass)

    def _filtered(
        self, resources: Iterator[dict[str, Any]], pid: str, btg: bool
    ) -> Iterator[dict[str, Any]]:
        for res in resources:
            if not self.who.scopes.permits(res["resourceType"], "r", self.who.contexts):
                continue
            if self.policy.resource_visible(self.who, pid, res, "r", break_glass=btg).allowed:
                yield res

    def export(
        self,
        rtype: str | None = None,
        since: str | None = None,
        patient_ids: Sequence[str] | None = None,
    ) -> Iterator[dict[str, Any]]:
        p = self.who
        if p.role == "patient":
            own = str(p.patient)
            patient_ids = [own] if patient_ids is None or own in patient_ids else []
        touched: set[str] = set()
        try:
            for res in super().export(rtype, since, patient_ids):
                if not p.scopes.permits(res["resourceType"], "r", p.contexts):
                    continue
                pid = patient_of(res)
                if p.role == "researcher":
                    out = self._deidentified(res, pid)
                    if out is not None:
                        if pid:
                            touched.add(pid)
                        yield out
                    continue
                ok, pid, _ = self._visible(res)
                if ok:
                    if pid:
                        touched.add(pid)
                    yield res
        finally:
            what = [f"$export?_type={rtype}"] if rtype else ["$export"]
            self._record(*[self._event("export", pid, what) for pid in sorted(touched)])

    def _deidentified(self, res: dict[str, Any], pid: str | None) -> dict[str, Any] | None:
        """Researchers' exports: Safe Harbor, only patients who allow research use."""
        from pmed.governance.consent import ConsentRequest

        if self._deid is None:
            self._deid = Deidentifier("safe-harbor")
        if pid is None:
            return self._deid.resource(res, self._deid.context(None))
        if not self.policy.research_permitted(pid):
            return None
        if not self.policy.consent.decide(
            pid, ConsentRequest(frozenset(), "HRESCH", res)
        ).permitted:
            return None
        ctx = self._deid_contexts.get(pid)
        if ctx is None:
            try:
                patient = self.store.read("Patient", pid)
            except NotFoundError:
                return None
            if len(self._deid_contexts) > 10000:
                self._deid_contexts.clear()
            ctx = self._deid_contexts[pid] = self._deid.context(patient)
        return self._deid.resource(res, ctx)

    def may_see_export(self, owner: str | None) -> bool:
        return self.who.role == "admin" or owner == self.principal

    # ---- writes ----------------------------------------------------------------------------

    def _check_write(self, resource: Mapping[str, Any], action: str) -> str | None:
        rtype = str(resource.get("resourceType"))
        pid = patient_of(resource)
        if rtype == "Consent" and self.who.role == "patient":
            validate_patient_consent(resource, str(self.who.patient))
        if pid is not None:
            exists = self.store.exists("Patient", pid)
            if exists or self.who.role == "patient":
                self._patient(pid, action, f"{rtype}/{resource.get('id', '')}")
        elif self.who.role == "patient":
            raise AccessDenied("patients may write only to their own record")
        return pid

    def _after_write(self, stored: Mapping[str, Any], action: str, pid: str | None) -> None:
        rtype = str(stored.get("resourceType"))
        if rtype == "Consent":
            action = "consent"
            self.policy.consent.invalidate(pid)
        if rtype in _CARE_TYPES:
            self.policy.care.invalidate(pid)
        self._record(self._event(action, pid, [f"{rtype}/{stored.get('id')}"]))

    def create(self, resource: dict[str, Any]) -> dict[str, Any]:
        self._scope(str(resource.get("resourceType")), "c")
        pid = self._check_write(resource, "create")
        stored = super().create(resource)
        self._after_write(stored, "create", patient_of(stored) or pid)
        return stored

    def update(
        self, resource: dict[str, Any], if_match: str | None = None
    ) -> tuple[dict[str, Any], bool]:
        rtype, rid = str(resource.get("resourceType")), str(resource.get("id"))
        self._scope(rtype, "u")
        if self.store.exists(rtype, rid):
            self._check_write(super().read(rtype, rid), "update")
        pid = self._check_write(resource, "update")
        stored, created = super().update(resource, if_match=if_match)
        self._after_write(stored, "create" if created else "update", pid)
        return stored, created

    def delete(self, rtype: str, rid: str) -> None:
        self._scope(rtype, "d")
        if self.store.exists(rtype, rid):
            current = super().read(rtype, rid)
            pid = self._check_write(current, "delete")
            super().delete(rtype, rid)
            if rtype == "Patient" and self.gov is not None:
                self.gov.shred(rid)  # their encrypted data becomes unreadable everywhere
            self._after_write(current, "delete", pid)
        else:
            super().delete(rtype, rid)

    def transaction(self, bundle: dict[str, Any], validate: Any = None) -> dict[str, Any]:
        p = self.who
        if p.role not in ("admin", "clinician"):
            raise AccessDenied("transactions need the clinician or admin role")
        entries = bundle.get("entry") if isinstance(bundle, Mapping) else None
        touched: set[str | None] = set()
        for entry in entries if isinstance(entries, list) else []:
            if not isinstance(entry, Mapping):
                continue
            method = str((entry.get("request") or {}).get("method", "")).upper()
            url = str((entry.get("request") or {}).get("url", ""))
            res = entry.get("resource")
            rtype = (
                res.get("resourceType")
                if isinstance(res, Mapping)
                else url.split("/")[0].split("?")[0]
            )
            interaction = {"POST": "c", "PUT": "u", "PATCH": "u", "DELETE": "d"}.get(method, "r")
            self._scope(str(rtype), interaction)
            if isinstance(res, Mapping):
                touched.add(self._check_write(res, "update"))
            elif method in ("DELETE", "GET") and p.role != "admin":
                raise AccessDenied("clinicians may only create or update in a transaction")
        response = super().transaction(bundle, validate)
        for pid in touched:
            if pid is not None:
                self.policy.consent.invalidate(pid)
                self.policy.care.invalidate(pid)
        self._record(*[self._event("update", pid, ["Bundle/transaction"]) for pid in touched] or
                     [self._event("update", None, ["Bundle/transaction"])])  # fmt: skip
        return response


def _absent(ref: str) -> str:
    """The store's own not-found message, so a refusal reads exactly like absence."""
    return f"{ref} is not in the store"


def _named_patients(rtype: str, params: Sequence[tuple[str, str]]) -> set[str]:
    """Patients a search names explicitly (`patient=`, `subject=Patient/…`, Patient `_id=`)."""
    found: set[str] = set()
    for key, value in params:
        name = key.split(":", 1)[0]
        if name in ("patient", "subject") or (rtype == "Patient" and name == "_id"):
            for item in value.split(","):
                item = item.strip()
                ref = split_reference(item)
                if ref is not None:
                    if ref[0] == "Patient":
                        found.add(ref[1])
                elif item and "/" not in item:
                    found.add(item)
    return found


def governed_access(request: Request, store: Store, settings: Settings) -> AccessContext:
    """The access factory `create_app` uses by default: authenticated, authorized, ledgered."""
    gov = GovernanceState.of(request, store, settings)
    who = gov.authenticate(request)
    return GovernedAccess(
        store=store, settings=settings, principal=who.subject, purpose=who.purpose, who=who, gov=gov
    )
