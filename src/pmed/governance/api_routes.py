"""Governance endpoints, included by the app factory.

Public (no token): `/.well-known/smart-configuration` (SMART App Launch 2.x discovery),
`/.well-known/jwks.json` (the keys tokens are verified with), and the ledger's signed checkpoint
and RFC 6962 proofs (`/$ledger/checkpoint`, `/$ledger/inclusion`, `/$ledger/consistency`): they
reveal only hashes, so an outside party can check that nothing it saw was rewritten.

With a token: `GET /Patient/{id}/$access-log` (who accessed the record, when and why: the
patient, or an admin), and consent management by the patient (or an admin):
`GET /Patient/{id}/$consents`, `POST /Patient/{id}/$consent` (a Consent resource, or a template:
`?template=research-opt-out|restrict-category|deny-actor|allow-only&category=…&actor=…`),
`DELETE /Patient/{id}/$consent/{consent_id}` (withdraw: the Consent becomes inactive).
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response

from pmed.api.access import AccessContext, get_access
from pmed.api.content import fhir_response
from pmed.api.paging import base_url
from pmed.errors import AccessDenied, InputError, NotFoundError
from pmed.governance import api_access  # module import: api_access imports pmed.api back
from pmed.governance import consent as consents
from pmed.governance.keys import public_jwk
from pmed.governance.scopes import INTERACTIONS
from pmed.governance.sealing import attach_sealer

__all__ = ["install_governance", "router"]

router = APIRouter(tags=["governance"])


def _gov(request: Request) -> api_access.GovernanceState:
    state = request.app.state
    return api_access.GovernanceState.of(request, state.store, state.settings)


def _governed(access: AccessContext) -> api_access.GovernedAccess:
    if not isinstance(access, api_access.GovernedAccess):
        raise AccessDenied("governance is not enabled on this server")
    return access


@router.get("/.well-known/smart-configuration", summary="SMART on FHIR configuration")
def smart_configuration(request: Request) -> Response:
    gov = _gov(request)
    base = base_url(request)
    config: dict[str, Any] = {
        "issuer": gov.config.issuer,
        "jwks_uri": f"{base}/.well-known/jwks.json",
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": list(gov.config.algorithms),
        "scopes_supported": [
            "openid",
            "fhirUser",
            "launch/patient",
            "offline_access",
            "patient/*.rs",
            "user/*.rs",
            "user/*.cruds",
            "system/*.rs",
            "system/*.cruds",
        ],
        "response_types_supported": ["token"],
        "capabilities": [
            "permission-v1",
            "permission-v2",
            "permission-patient",
            "permission-user",
            "client-confidential-asymmetric",
            "context-standalone-patient",
        ],
        "code_challenge_methods_supported": ["S256"],
        "interactions": INTERACTIONS,
        "pmed_token_issuance": "`pmed auth token` (built-in issuer) or the identity provider",
        "pmed_break_glass_header": "X-Break-Glass-Reason",
    }
    return fhir_response(config, request=request)


@router.get("/.well-known/jwks.json", summary="Keys that verify access tokens")
def jwks(request: Request) -> Response:
    gov = _gov(request)
    keys = gov.verifier.jwks() if gov.verifier else {"keys": []}
    return fhir_response(keys, request=request)


def _ledger(request: Request) -> Any:
    ledger = _gov(request).readable_ledger()
    if ledger is None:
        raise NotFoundError("the access ledger is switched off on this server")
    return ledger


@router.get("/$ledger/checkpoint", summary="The ledger's latest signed tree head")
def checkpoint(request: Request) -> Response:
    ledger = _ledger(request)
    cp = ledger.checkpoint() or ledger.latest_checkpoint()
    key = public_jwk(ledger.public_key, "EdDSA")
    body = {"checkpoint": cp.as_dict() if cp else None, "size": ledger.size, "publicKey": key}
    return fhir_response(body, request=request)


@router.get("/$ledger/inclusion", summary="RFC 6962 audit path of one entry")
def inclusion(
    request: Request,
    index: int = Query(..., ge=0, le=2**53),
    size: int | None = Query(None, ge=1),
) -> Response:
    ledger = _ledger(request)
    return fhir_response(ledger.inclusion_proof(index, size), request=request)


@router.get("/$ledger/consistency", summary="RFC 6962 consistency proof between two sizes")
def consistency(
    request: Request,
    first: int = Query(..., ge=1),
    second: int | None = Query(None, ge=1),
) -> Response:
    ledger = _ledger(request)
    return fhir_response(ledger.consistency_proof(first, second), request=request)


def _own_or_admin(access: api_access.GovernedAccess, patient_id: str, ref: str) -> None:
    who = access.who
    if who.role == "admin" or (who.role == "patient" and who.patient == patient_id):
        return
    access._record(access._event("read", patient_id, [ref], outcome="denied"))
    raise NotFoundError(f"Patient/{patient_id} is not in the store")


@router.get("/Patient/{patient_id}/$access-log", summary="Who accessed this patient's record")
def access_log(
    patient_id: str,
    request: Request,
    count: int = Query(50, alias="_count", ge=1, le=1000),
    offset: int = Query(0, alias="_offset", ge=0, le=2**53),
    access: AccessContext = Depends(get_access),
) -> Response:
    gov = _governed(access)
    ref = f"Patient/{patient_id}/$access-log"
    _own_or_admin(gov, patient_id, ref)
    ledger = _ledger(request)
    entries = ledger.entries_for_patient(patient_id, limit=count, offset=offset)
    gov._record(gov._event("read", patient_id, [ref]))
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [
            {"fullUrl": f"{base_url(request)}/$ledger/entry/{e['id']}", "resource": e}
            for e in entries
        ],
    }
    return fhir_response(bundle, request=request)


@router.get("/Patient/{patient_id}/$consents", summary="The patient's consents")
def list_consents(
    patient_id: str, request: Request, access: AccessContext = Depends(get_access)
) -> Response:
    gov = _governed(access)
    _own_or_admin(gov, patient_id, f"Patient/{patient_id}/$consents")
    found = list(gov.store.patient_resources(patient_id, ["Consent"]))
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(found),
        "entry": [{"resource": c} for c in found],
    }
    return fhir_response(bundle, request=request)


def _template(
    patient_id: str, template: str, category: str | None, actors: list[str]
) -> dict[str, Any]:
    if template == "research-opt-out":
        return consents.research_opt_out(patient_id)
    if template == "restrict-category":
        if not category:
            raise InputError(
                "restrict-category needs category=genomics|mental-health|sexual-health",
                field="category",
            )
        return consents.restrict_category(patient_id, category, except_actors=actors)
    if template in ("deny-actor", "allow-only"):
        if not actors or not all(a.startswith(("Organization/", "Practitioner/")) for a in actors):
            raise InputError("give actor=Organization/… or actor=Practitioner/…", field="actor")
        if template == "deny-actor":
            return consents.deny_actor(patient_id, actors[0])
        return consents.allow_only(patient_id, actors)
    raise InputError(
        "template must be research-opt-out, restrict-category, deny-actor or allow-only",
        field="template",
    )


@router.post("/Patient/{patient_id}/$consent", status_code=201, summary="Record a consent")
async def add_consent(
    patient_id: str,
    request: Request,
    template: str | None = None,
    category: str | None = None,
    actor: list[str] = Query(default=[]),
    access: AccessContext = Depends(get_access),
) -> Response:
    gov = _governed(access)
    _own_or_admin(gov, patient_id, f"Patient/{patient_id}/$consent")
    if template is not None:
        resource = _template(patient_id, template, category, actor)
    else:
        raw = await request.body()
        try:
            resource = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise InputError(f"the body is not JSON: {exc}") from exc
        if not isinstance(resource, dict):
            raise InputError("the body must be a Consent resource")
        consents.validate_patient_consent(resource, patient_id)
    stored = await run_in_threadpool(gov.create, resource)
    return fhir_response(stored, status_code=201, request=request)


@router.delete("/Patient/{patient_id}/$consent/{consent_id}", summary="Withdraw a consent")
def withdraw_consent(
    patient_id: str, consent_id: str, request: Request, access: AccessContext = Depends(get_access)
) -> Response:
    gov = _governed(access)
    _own_or_admin(gov, patient_id, f"Consent/{consent_id}")
    current = gov.read("Consent", consent_id)
    if (current.get("patient") or {}).get("reference") != f"Patient/{patient_id}":
        raise NotFoundError(f"Consent/{consent_id} is not in the store")
    withdrawn = {**current, "status": "inactive"}
    withdrawn.pop("meta", None)
    stored, _ = gov.update(withdrawn)
    return fhir_response(stored, request=request)


def install_governance(app: Any, *, explicit_factory: bool = False) -> None:
    """Called by `create_app`: governance's routes, (unless the caller passed its own access
    factory) the governed access factory, so every route is authenticated by default, and the
    store's sealer when a master key is configured (genomic data and notes encrypted at rest)."""
    if not explicit_factory:
        app.state.access_factory = api_access.governed_access
    attach_sealer(app.state.store, app.state.settings)  # encryption at rest, if a key is set
    app.include_router(router)
