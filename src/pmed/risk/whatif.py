"""What-if: a result recomputed with changed inputs, or with a treatment's estimated effect.

`what_if(finding, changes)` takes a finding from `pmed.risk.calculate` and a mapping of changes:

* a calculator input (`smoker=False`, `sbp=120`, `hba1c=6.5`): the equation is recomputed —
  an equation result, not an estimate;
* a treatment the equations do not contain, for cardiovascular risks, applied to the recomputed
  risk as a relative risk and labelled an estimate:
  - `statin` = true | low | moderate | high: LDL-C lowered by the intensity's percentage (2018
    AHA/ACC cholesterol guideline, Table 3; lower edge of each band), then 22% relative risk
    reduction per 1 mmol/L (CTT, Lancet 2010). Needs the patient's LDL-C (`ldl`, mg/dL);
  - `ldl_lowering` = mg/dL lowered: CTT as above;
  - `sbp_lowering` = mm Hg lowered by treatment: 20% relative risk reduction per 10 mm Hg
    (Ettehad, Lancet 2016).

It reports the new value with its absolute and relative change.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pmed.errors import InputError
from pmed.findings import Finding, WhatIf
from pmed.knowledge import load
from pmed.risk.inputs import number, option
from pmed.risk.registry import get_calculator

__all__ = ["TREATMENTS", "suggested_changes", "what_if"]

TREATMENTS = (
    option("statin", "start a statin of this intensity", ("true", "low", "moderate", "high")),
    number("ldl_lowering", "LDL-C lowered by", "mg/dL", 0, 400),
    number("sbp_lowering", "SBP lowered by treatment by", "mmHg", 0, 100),
)
_TREATMENT_NAMES = {t.name for t in TREATMENTS}


def _treatment(name: str, raw: Any) -> Any:
    spec = next(t for t in TREATMENTS if t.name == name)
    if name == "statin" and isinstance(raw, bool):
        if not raw:
            raise InputError(
                "statin=false is not a treatment to estimate; use statin=moderate", field="statin"
            )
        return "moderate"
    value = spec.coerce(raw)
    return "moderate" if value == "true" else value


def what_if(finding: Finding, changes: Mapping[str, Any]) -> WhatIf:
    """`finding` recomputed with `changes` (see the module docstring)."""
    details = finding.details
    if "calculator" not in details or finding.value is None or "inputs" not in details:
        raise InputError("what-if needs a calculated result (this finding has no value)")
    if not changes:
        raise InputError("what-if needs at least one change, e.g. smoker=false or sbp=120")
    calc = get_calculator(details["calculator"])
    names = {spec.name for spec in calc.inputs}
    inputs = dict(details["inputs"])
    applied: dict[str, Any] = {}
    treatments: dict[str, Any] = {}
    for key, raw in changes.items():
        if key in _TREATMENT_NAMES and (key != "statin" or not _is_flag_change(calc, raw)):
            if not calc.cardiovascular:
                raise InputError(
                    f"{key} applies to cardiovascular risks, not {calc.name}", field=key
                )
            treatments[key] = _treatment(key, raw)
        elif key in names:
            inputs[key] = calc.spec(key).coerce(raw)
            applied[key] = inputs[key]
        else:
            known = (
                ", ".join(sorted(names | _TREATMENT_NAMES))
                if calc.cardiovascular
                else (", ".join(sorted(names)))
            )
            raise InputError(f"{calc.name} has no input {key!r}; changeable: {known}", field=key)
    before = float(finding.value)
    after = before
    if applied:
        ev = calc.evaluate(inputs, **details.get("options", {}))
        if ev.value is None:
            raise InputError(f"with these changes {calc.name} does not apply: {ev.summary}")
        after = ev.value
    notes: list[str] = []
    for key, value in treatments.items():
        ratio, note = _treatment_ratio(key, value, inputs, details)
        after *= ratio
        notes.append(note)
        applied[key] = value
    relative = (after - before) / before if before else None
    return WhatIf(
        changes=applied,
        value=round(after, 4),
        absolute_change=round(after - before, 4),
        relative_change=None if relative is None else round(relative, 4),
        estimate=bool(treatments),
        note="; ".join(notes) or f"recomputed with the {calc.title} equation",
    )


def _is_flag_change(calc: Any, raw: Any) -> bool:
    """`statin=false` on a calculator with a statin input is an input change, not a treatment."""
    has_input = any(spec.name == "statin" for spec in calc.inputs)
    return has_input and str(raw).strip().lower() in ("false", "no", "0")


def _treatment_ratio(
    key: str, value: Any, inputs: Mapping[str, Any], details: Mapping[str, Any]
) -> tuple[float, str]:
    effects = load("risk/treatment_effects").data
    ctt = effects["ldl_rrr_per_mmol"]
    if key == "sbp_lowering":
        e = effects["sbp_rrr_per_10_mmhg"]
        ratio = float(e["rate_ratio"]) ** (float(value) / 10.0)
        return ratio, f"estimate: SBP −{value:g} mmHg × RR {e['rate_ratio']} per 10 mmHg " + (
            f"({e['citation']})"
        )
    if key == "ldl_lowering":
        mmol = float(value) / ctt["mg_dl_per_mmol"]
        ratio = float(ctt["rate_ratio"]) ** mmol
        return ratio, f"estimate: LDL-C −{value:g} mg/dL ({mmol:.2f} mmol/L) ({ctt['citation']})"
    # statin
    if inputs.get("statin") is True:
        return 1.0, "already on a statin: no further estimate"
    ldl = details.get("auxiliary", {}).get("ldl")
    if ldl is None:
        raise InputError(
            "the statin what-if needs the patient's LDL cholesterol (ldl, mg/dL)", field="ldl"
        )
    fraction = effects["statin_ldl_reduction"]["fraction_by_intensity"][value]
    lowered = float(ldl) * float(fraction)
    mmol = lowered / ctt["mg_dl_per_mmol"]
    ratio = float(ctt["rate_ratio"]) ** mmol
    return ratio, (
        f"estimate: {value}-intensity statin lowers LDL-C by {fraction:.0%} "
        f"({ldl:.0f} → {ldl - lowered:.0f} mg/dL, −{mmol:.2f} mmol/L) "
        f"({effects['statin_ldl_reduction']['citation']}; {ctt['citation']})"
    )


def suggested_changes(finding: Finding) -> list[dict[str, Any]]:
    """The standard modifiable what-ifs for a cardiovascular result (stop smoking, SBP 120,
    statin), those that apply to this patient."""
    details = finding.details
    if finding.value is None or "calculator" not in details:
        return []
    calc = get_calculator(details["calculator"])
    if not calc.cardiovascular:
        return []
    x = details["inputs"]
    out: list[dict[str, Any]] = []
    if x.get("smoker"):
        out.append({"smoker": False})
    if x.get("sbp", 0) > 120:
        out.append({"sbp": 120})
    if not x.get("statin") and details.get("auxiliary", {}).get("ldl") is not None:
        out.append({"statin": "moderate"})
    return out
