"""The care report: one self-contained HTML page per patient, for the clinician or the patient.

`render_report(plan, record, audience=)` fills Jinja2 templates (`templates/`) with the patient
banner, the pharmacogenomic table, the risk scores with a factor chart and what-if chart (inline
SVG, `charts.py`), the recommendations with their evidence, and the data provenance (inputs with
the resources they came from, engine and knowledge versions). The page has no scripts and loads
nothing from outside. The patient version says the same things in plain language (short
sentences, everyday words; target reading age about 12) and ends with questions to ask.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from pmed import __version__
from pmed.care.model import CarePlan
from pmed.care.plan import build_plan
from pmed.care.report.charts import factor_chart, what_if_chart
from pmed.care.report.plain import plain_risk, questions
from pmed.errors import InputError
from pmed.findings import Finding, FindingKind
from pmed.record.patient import PatientRecord

__all__ = ["AUDIENCES", "render_report", "report_context", "terminal_summary", "write_demo_reports"]

AUDIENCES = ("clinician", "patient")
_CV_ORDER = ["pce", "prevent", "pce-revised", "framingham-cvd"]
_NO_FACTORS_FOR_PATIENT = frozenset({"egfr-ckd-epi-2021", "warfarin-iwpc"})


@lru_cache(maxsize=1)
def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("pmed.care.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


def _name(patient: Mapping[str, Any]) -> str:
    for name in patient.get("name") or ():
        if name.get("text"):
            return str(name["text"])
        parts = [*(name.get("given") or ()), name.get("family") or ""]
        text = " ".join(p for p in parts if p)
        if text:
            return text
    return "(no name recorded)"


def _mrn(patient: Mapping[str, Any]) -> str | None:
    for ident in patient.get("identifier") or ():
        if ident.get("value"):
            return str(ident["value"])
    return None


def _risks(plan: CarePlan) -> list[Finding]:
    kinds = (FindingKind.RISK, FindingKind.SCORE, FindingKind.DOSE, FindingKind.MISSING_DATA)
    return [f for f in plan.findings if f.kind in kinds]


def report_context(plan: CarePlan, record: PatientRecord, audience: str) -> dict[str, Any]:
    if audience not in AUDIENCES:
        raise InputError(f"audience must be clinician or patient, got {audience!r}")
    risks = _risks(plan)
    # The diabetes what-ifs live on the recommendation's explanation; show them with FINDRISC.
    extra = []
    for rec in plan.recommendations:
        if rec.key == "diabetes:findrisc" and rec.explanation is not None:
            extra.append((rec.title, rec.explanation))
    plain = audience == "patient"
    shown = [f for f in risks if f.value is not None]
    if plain:  # one cardiovascular number for the patient: the one the statin advice uses
        cv = [f for f in shown if f.details.get("calculator") in _CV_ORDER]
        cv.sort(key=lambda f: _CV_ORDER.index(str(f.details.get("calculator"))))
        shown = [f for f in shown if f not in cv[1:]]
    charts = []
    for f in shown:
        calc = f.details.get("calculator")
        charts.append(
            {
                "finding": f,
                "factors": ""
                if plain and calc in _NO_FACTORS_FOR_PATIENT
                else factor_chart(f, plain=plain),
                "what_if": what_if_chart(f, plain=plain),
                "plain": plain_risk(f),
            }
        )
    knowledge: dict[str, str] = {}
    for f in plan.findings:
        knowledge.update(f.provenance.knowledge)
    pgx = [f for f in plan.findings if f.kind == FindingKind.PHENOTYPE]
    counts: dict[str, int] = {}
    for rec in plan.recommendations:
        counts[rec.severity.value] = counts.get(rec.severity.value, 0) + 1
    return {
        "audience": audience,
        "patient": {
            "name": _name(record.resource),
            "id": record.id,
            "mrn": _mrn(record.resource),
            "birth_date": record.birth_date,
            "age": record.age(plan.at),
            "sex": record.sex,
        },
        "plan": plan,
        "recommendations": plan.recommendations,
        "counts": counts,
        "pgx": pgx,
        "charts": charts,
        "missing": [f for f in risks if f.value is None],
        "extra_explanations": extra,
        "inputs": sorted(plan.inputs.items()),
        "sources": plan.sources,
        "knowledge": sorted(knowledge.items()),
        "version": __version__,
        "questions": questions(plan),
    }


def render_report(plan: CarePlan, record: PatientRecord, *, audience: str = "clinician") -> str:
    """The HTML page (a complete, self-contained document)."""
    context = report_context(plan, record, audience)
    return _env().get_template(f"{audience}.html.j2").render(**context)


def terminal_summary(plan: CarePlan) -> list[str]:
    """A few lines for the terminal: the recommendations, most urgent first."""
    lines = [f"{plan.patient}: {len(plan.recommendations)} recommendation(s)"]
    for rec in plan.recommendations:
        lines.append(f"  [{rec.severity.value:>8}] {rec.title}")
    scored = [f for f in plan.findings if f.value is not None and f.kind != FindingKind.PHENOTYPE]
    for f in scored[:6]:
        lines.append(f"  score: {f.summary}")
    return lines


def write_demo_reports(store: Any, patient_id: str, out_dir: Path) -> list[Path]:
    """Write a clinician and a patient report for one stored patient; return their paths."""
    record = PatientRecord.load(store, patient_id)
    plan = build_plan(record)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for audience in AUDIENCES:
        path = out_dir / f"report-{patient_id}-{audience}.html"
        path.write_text(render_report(plan, record, audience=audience), encoding="utf-8")
        paths.append(path)
    return paths
