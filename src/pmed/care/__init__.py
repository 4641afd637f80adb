"""Decision support: the engines' findings joined into one personalized care plan.

    from pmed.care import build_plan
    plan = build_plan(PatientRecord.load(store, "p1"))
    for rec in plan.recommendations: print(rec.severity, rec.title)

Rules, one module per idea, each citing its guideline: drug–gene (`drug_gene`, CPIC via
`pmed.pgx`), statins (`statins`, 2018 AHA/ACC + CPIC 2022), antithrombotics (`antithrombotic`),
kidney (`kidney`, KDIGO 2012 + cited renal-dose list), diabetes screening (`diabetes`, FINDRISC +
ADA 2024), duplicate therapy (`duplicates`). `plan` merges them; `cards` is the one mapping to
CDS Hooks cards; `report` renders the HTML reports.
"""

from __future__ import annotations

from pmed.care.context import CareContext, MedicationUse, drug_names, parse_draft_orders
from pmed.care.model import Alternative, CarePlan, Recommendation
from pmed.care.plan import build_plan, merge

__all__ = [
    "Alternative",
    "CareContext",
    "CarePlan",
    "MedicationUse",
    "Recommendation",
    "build_plan",
    "drug_names",
    "merge",
    "parse_draft_orders",
]
