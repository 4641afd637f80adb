"""CDS Hooks 2.0 service (https://cds-hooks.hl7.org/2.0/): discovery, three services, feedback.

* `GET /cds-services` — discovery: `pmed-care-plan` (patient-view: the personalized care plan),
  `pmed-order-select` and `pmed-order-sign` (drug–gene, dose and duplicate-therapy cards for the
  draft MedicationRequests, with suggestions that replace the order and override reasons), each
  declaring its prefetch templates (`pmed.api.cds_data.PREFETCH`).
* `POST /cds-services/{id}` — a hook call. The client's JWT is verified (`pmed.api.cds_jwt`);
  data come from the prefetch, else `fhirServer`, else pmed's own store; cards from
  `pmed.care.cards` (the one mapping). Bad input — malformed JSON, a missing or mistyped context
  field, the wrong hook, a prefetch of the wrong resource type, a draft order without a drug
  coding, an unknown patient — is answered 400 with an OperationOutcome; data that cannot be had
  412; no card is ever built on guessed data. Plans are reused for identical data
  (`PlanCache`: deterministic plans keyed by content and day).
* `POST /cds-services/{id}/feedback` — card outcomes (accepted suggestions, override reasons),
  validated and kept in memory (`app.state.cds_feedback`) and logged.

The report routes (`/report/{id}`) are included here too, so the app factory adds one router.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from pmed.api.access import AccessContext, get_access
from pmed.api.cds_data import PREFETCH, check_resource, gather
from pmed.api.cds_jwt import CdsJwtVerifier
from pmed.api.problem import ApiProblem
from pmed.api.report_launch import router as launch_router
from pmed.api.report_routes import router as report_router
from pmed.care.cards import plan_cards
from pmed.care.context import parse_draft_orders
from pmed.care.model import CarePlan
from pmed.care.plan import ORDER_RULES, RULES, build_plan
from pmed.record.patient import PatientRecord

__all__ = ["SERVICES", "router"]

log = logging.getLogger("pmed.api.cds")
router = APIRouter(tags=["CDS Hooks"])
router.include_router(launch_router)  # /report/launch, /report/callback before /report/{id}
router.include_router(report_router)

SERVICES: dict[str, dict[str, Any]] = {
    "pmed-care-plan": {
        "hook": "patient-view",
        "title": "pmed personalized care plan",
        "description": "The patient's care plan: drug–gene (CPIC), statin (2018 AHA/ACC + CPIC "
        "2022), anticoagulation and bleeding risk, kidney function and renal dosing, diabetes "
        "screening (FINDRISC), each with its evidence.",
        "prefetch": PREFETCH,
    },
    "pmed-order-select": {
        "hook": "order-select",
        "title": "pmed drug–gene and dose check (order-select)",
        "description": "Drug–gene, renal-dose and duplicate-therapy cards for the selected "
        "draft MedicationRequests, with suggestions that replace the order.",
        "prefetch": PREFETCH,
    },
    "pmed-order-sign": {
        "hook": "order-sign",
        "title": "pmed drug–gene and dose check (order-sign)",
        "description": "Drug–gene, warfarin/renal dose and duplicate-therapy cards for the draft "
        "MedicationRequests before signing, with replacement suggestions and override reasons.",
        "prefetch": PREFETCH,
    },
}
_ORDER_HOOKS = ("order-select", "order-sign")


def _bad(message: str, expression: str | None = None) -> ApiProblem:
    return ApiProblem(400, message, code="invalid", expression=expression)


def _verifier(request: Request) -> CdsJwtVerifier:
    state = request.app.state
    verifier = getattr(state, "cds_jwt", None)
    if verifier is None:
        verifier = CdsJwtVerifier.from_env(state.settings.home)
        state.cds_jwt = verifier
    return verifier


def _authenticate(request: Request, path: str) -> None:
    settings = request.app.state.settings
    audiences = [
        str(request.url.replace(query="", fragment="")).rstrip("?"),
        settings.base_url.rstrip("/") + path,
    ]
    _verifier(request).verify(request.headers.get("authorization"), audiences)


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise _bad(f"the request body is not valid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise _bad("the request body must be a JSON object")
    return body


def _service(service_id: str) -> dict[str, Any]:
    service = SERVICES.get(service_id)
    if service is None:
        raise ApiProblem(404, f"no CDS service {service_id!r}; see GET /cds-services")
    return service


@router.get("/cds-services", summary="CDS Hooks discovery")
def discovery() -> dict[str, Any]:
    return {"services": [{"id": sid, **spec} for sid, spec in SERVICES.items()]}


def _context(body: Mapping[str, Any], hook: str) -> tuple[dict[str, Any], str]:
    if body.get("hook") != hook:
        raise _bad(f"this service answers the {hook!r} hook, not {body.get('hook')!r}", "hook")
    instance = body.get("hookInstance")
    if not isinstance(instance, str) or not instance.strip():
        raise _bad("hookInstance (a UUID string) is required", "hookInstance")
    context = body.get("context")
    if not isinstance(context, dict):
        raise _bad("context (an object) is required", "context")
    pid = context.get("patientId")
    if not isinstance(pid, str) or not pid.strip():
        raise _bad("context.patientId (a string) is required", "context.patientId")
    pid = pid.strip().removeprefix("Patient/")
    if hook in _ORDER_HOOKS:
        user = context.get("userId")
        if not isinstance(user, str) or not user.strip():
            raise _bad(f"context.userId is required for {hook}", "context.userId")
        if "draftOrders" not in context:
            raise _bad(f"context.draftOrders is required for {hook}", "context.draftOrders")
    if hook == "order-select":
        selections = context.get("selections")
        if not isinstance(selections, list) or not all(isinstance(s, str) for s in selections):
            raise _bad("context.selections (an array of strings) is required", "context.selections")
    return context, pid


class PlanCache:
    """Plans by the content they were computed from. A plan is deterministic for the same data
    on the same day (`pmed.care.plan`), so a repeated call — the same chart reopened, an order
    re-signed — reuses it; data that differ in any byte (including what consent lets this
    caller see, since the key is taken after access filtering) miss. Cards are still built per
    call (their uuids follow `hookInstance`). Bounded (LRU) and short-lived (`ttl`)."""

    def __init__(self, size: int = 512, ttl: float = 300.0) -> None:
        self.size, self.ttl = size, ttl
        self._items: OrderedDict[str, tuple[float, CarePlan]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    @staticmethod
    def key(hook: str, patient_id: str, data: Any, drafts: Any) -> str:
        today = datetime.now(UTC).date().isoformat()
        blob = orjson.dumps([hook, patient_id, today, data, drafts], option=orjson.OPT_SORT_KEYS)
        return hashlib.sha256(blob).hexdigest()

    def get(self, key: str) -> CarePlan | None:
        with self._lock:
            item = self._items.get(key)
            if item is None or item[0] < time.monotonic():
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return item[1]

    def put(self, key: str, plan: CarePlan) -> None:
        with self._lock:
            self._items[key] = (time.monotonic() + self.ttl, plan)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


def _answer(
    body: dict[str, Any],
    hook: str,
    access: AccessContext,
    report_base: str,
    cache: PlanCache | None = None,
) -> dict[str, Any]:
    context, pid = _context(body, hook)
    drafts = []
    if hook in _ORDER_HOOKS:
        bundle = context["draftOrders"]
        if isinstance(bundle, dict):
            entries = bundle.get("entry") or []
            if not isinstance(entries, list):
                raise _bad("Bundle.entry must be an array", "context.draftOrders.entry")
            for i, entry in enumerate(entries):
                resource = entry.get("resource") if isinstance(entry, dict) else None
                # Only the orders pmed reads are checked (the spec's own order-sign example
                # carries a NutritionOrder without its required `intent`).
                if (
                    isinstance(resource, dict)
                    and resource.get("resourceType") == "MedicationRequest"
                ):
                    check_resource(resource, f"context.draftOrders.entry[{i}].resource")
        drafts = parse_draft_orders(bundle)
    plan: CarePlan | None = None
    key = ""
    prefetched = _all_prefetched(body)
    if cache and prefetched:
        # Exactly the bytes a previous call sent (and had validated): skip even the gathering.
        data = {k: body["prefetch"][k] for k in PREFETCH}
        key = PlanCache.key(hook, pid, data, context.get("draftOrders"))
        plan = cache.get(key)
    if plan is None:
        resources = gather(body, pid, access)
        if cache and not prefetched:  # keyed by what this caller may see, after consent
            key = PlanCache.key(hook, pid, resources, context.get("draftOrders"))
            plan = cache.get(key)
    if plan is None:
        record = PatientRecord.from_resources(resources, patient_id=pid)
        rules = ORDER_RULES if hook in _ORDER_HOOKS else RULES
        try:
            plan = build_plan(record, drafts=drafts, scores="care", rules=rules)
        except ArithmeticError as exc:  # e.g. a height of 1e308 cm: valid FHIR, not a body
            message = f"the data hold an implausible value ({exc}); no card is built on it"
            raise _bad(message) from exc
        if cache:
            cache.put(key, plan)
    instance = str(body["hookInstance"])
    report = f"{report_base}/report/{pid}"
    if hook == "patient-view":
        cards = plan_cards(plan.recommendations, hook_instance=instance, report_url=report)
        return {"cards": cards}
    wanted = {d.reference for d in drafts}
    if hook == "order-select":
        selected = set(context["selections"])
        wanted = {ref for ref in wanted if ref in selected} or wanted
    recs = [r for r in plan.recommendations if r.order_ref in wanted]
    by_ref = {d.reference: d.resource or {} for d in drafts}
    return {"cards": plan_cards(recs, hook_instance=instance, drafts=by_ref, report_url=report)}


@router.post("/cds-services/{service_id}", summary="Call a CDS service")
async def call_service(
    service_id: str, request: Request, access: AccessContext = Depends(get_access)
) -> Response:
    service = _service(service_id)
    _authenticate(request, f"/cds-services/{service_id}")
    body = await _json_body(request)
    state = request.app.state
    base = state.settings.base_url.rstrip("/")
    cache = getattr(state, "cds_plan_cache", None)
    if cache is None:
        cache = state.cds_plan_cache = PlanCache()
    args = (body, service["hook"], access, base, cache)
    if _all_prefetched(body):
        # Pure computation on data in hand: on the event loop, first come first served (a
        # thread hop adds nothing under the GIL but contention and a long latency tail).
        result = _answer(*args)
    else:  # store or fhirServer reads: in a worker thread
        result = await run_in_threadpool(_answer, *args)
    return Response(orjson.dumps(result), media_type="application/json")


def _all_prefetched(body: Mapping[str, Any]) -> bool:
    prefetch = body.get("prefetch")
    return isinstance(prefetch, Mapping) and all(key in prefetch for key in PREFETCH)


_OUTCOMES = ("accepted", "overridden")


def _check_feedback(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    items = body.get("feedback")
    if not isinstance(items, list) or not items:
        raise _bad("feedback (a non-empty array) is required", "feedback")
    for i, item in enumerate(items):
        where = f"feedback[{i}]"
        if not isinstance(item, dict):
            raise _bad("each feedback must be an object", where)
        if not isinstance(item.get("card"), str) or not item["card"]:
            raise _bad("card (the card uuid) is required", f"{where}.card")
        if item.get("outcome") not in _OUTCOMES:
            raise _bad("outcome must be accepted or overridden", f"{where}.outcome")
        if not isinstance(item.get("outcomeTimestamp"), str):
            raise _bad("outcomeTimestamp (ISO 8601) is required", f"{where}.outcomeTimestamp")
        accepted = item.get("acceptedSuggestions")
        if item["outcome"] == "accepted" and (
            not isinstance(accepted, list)
            or not accepted
            or not all(isinstance(a, dict) and isinstance(a.get("id"), str) for a in accepted)
        ):
            raise _bad(
                "acceptedSuggestions [{id}] is required for an accepted outcome",
                f"{where}.acceptedSuggestions",
            )
        reason = item.get("overrideReason")
        if reason is not None and not isinstance(reason, dict):
            raise _bad("overrideReason must be an object", f"{where}.overrideReason")
    return items


@router.post("/cds-services/{service_id}/feedback", summary="Feedback on cards")
async def feedback(service_id: str, request: Request) -> JSONResponse:
    _service(service_id)
    _authenticate(request, f"/cds-services/{service_id}/feedback")
    items = _check_feedback(await _json_body(request))
    state = request.app.state
    store = getattr(state, "cds_feedback", None)
    if store is None:
        store = state.cds_feedback = deque(maxlen=10_000)
    for item in items:
        store.append({"service": service_id, **item})
        log.info("CDS feedback %s card=%s outcome=%s", service_id, item["card"], item["outcome"])
    return JSONResponse({})
