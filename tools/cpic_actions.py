"""Rules that turn a CPIC recommendation sentence into pmed's structured action facts.

The CPIC text is read here and never written out: `parse_action` returns only categories and
numbers (action, dose factor, dose limit, monitoring tags …) from which pmed writes its own summary.
`implication_category` does the same for the per-gene implication sentence.

Action vocabulary (pmed's own):
    use-label-dose        standard / label-recommended dosing
    reduce-dose           start or maintain at a lower dose (dose_factor / dose_factor_range / dose)
    increase-dose         start or titrate to a higher dose
    limit-dose            cap the (starting) dose at max_dose_mg
    avoid                 do not use the drug (contraindicated / not recommended)
    use-alternative       use another drug instead
    consider-alternative  an alternative drug is to be considered
    use-with-caution      the drug may be used with extra monitoring
    titrate-with-monitoring  start at the usual dose, titrate by response and drug levels
    further-testing       the genotype gives no phenotype: measure enzyme activity / test further
    no-recommendation     CPIC makes no genotype-based recommendation
    not-applicable        the lookup key carries no recommendation (n/a)
    see-guideline         generic fallback: no rule recognised the text
"""

from __future__ import annotations

import html
import re
from typing import Any

__all__ = ["GENERIC_ACTION", "clean_text", "implication_category", "parse_action"]

GENERIC_ACTION = "see-guideline"

_NUM = r"(\d+(?:\.\d+)?)"


def clean_text(raw_html: str) -> str:
    """The recommendation proper: the first part of the HTML, before 'Other Considerations'."""
    first = re.split(r"<h\d", raw_html, maxsplit=1)[0]
    text = html.unescape(re.sub(r"<[^>]+>", " ", first))
    return re.sub(r"\s+", " ", text).strip()


def _clauses(text: str) -> list[str]:
    parts = re.split(r"(?<=[.;])\s+(?=[A-Z(])", text)
    return [p.strip() for p in parts if p.strip()]


_PREFIX = re.compile(r"^based (?:on )?[\w-]+(?: status)?,\s*", re.I)


def _strip_prefix(clause: str) -> str:
    return _PREFIX.sub("", clause)


def _dose_numbers(clause: str) -> dict[str, Any]:
    """Numbers of a dose change, as multipliers of the usual dose."""
    c = clause.lower()
    out: dict[str, Any] = {}
    if re.search(r"10-fold", c):
        out["dose_factor"] = 0.1
    m = re.search(_NUM + r"\s*%?\s*(?:-|to)\s*" + _NUM + r"\s*% (?:lower|reduction)", c)
    if m and "dose_factor" not in out:
        lo, hi = float(m.group(1)), float(m.group(2))
        out["dose_factor_range"] = [round(1 - hi / 100, 4), round(1 - lo / 100, 4)]
    m = re.search(
        r"(?<![\d%-])" + _NUM + r"% (?:reduction|less|lower)|reduce \w+ doses? by " + _NUM + "%",
        c,
    )
    m2 = re.search(r"approximately " + _NUM + r"% less", c)
    m = m or m2
    if m and not out:
        p = float(next(g for g in m.groups() if g))
        out["dose_factor"] = round(1 - p / 100, 4)
    m = re.search(_NUM + r"%?\s*(?:-|to)\s*" + _NUM + r"% of (?:the )?(?:normal|lowest)", c)
    if m and not out:
        out["dose_factor_range"] = [float(m.group(1)) / 100, float(m.group(2)) / 100]
    m = re.search(
        r"(?:to|initiate|with)\s+" + _NUM + r"% of (?:the )?(?:normal|lowest|starting)", c
    )
    if m and not out:
        out["dose_factor"] = float(m.group(1)) / 100
    m = re.search(r"increas\w* (?:\w+ )*?dose by " + _NUM + r"%", c)
    if m and not out:
        out["dose_factor"] = round(1 + float(m.group(1)) / 100, 4)
    m = re.search(r"increas\w* (?:\w+ )*?dose by " + _NUM + r"-" + _NUM + "%", c)
    if m and not out:
        out["dose_factor_range"] = [
            round(1 + float(m.group(1)) / 100, 4),
            round(1 + float(m.group(2)) / 100, 4),
        ]
    m = re.search(_NUM + r" to " + _NUM + r" times", c)
    if m and not out:
        out["dose_factor_range"] = [float(m.group(1)), float(m.group(2))]
    m = re.search(r"dose of " + _NUM + r"(?: or " + _NUM + r")? (mg/day)", c)
    if m and not out:
        out["dose"] = {"value": float(m.group(1)), "unit": m.group(3)}
        if m.group(2):
            out["dose_alternatives"] = [float(m.group(2))]
    m = re.search(r"initiate dose at " + _NUM + r" (mg/m2/day)", c)
    if m and not out:
        out["dose"] = {"value": float(m.group(1)), "unit": m.group(2)}
    if "thrice weekly" in c or "3 days/week" in c:
        out["dose_frequency"] = "three times weekly"
    if "maintenance" in c or "subsequent doses" in c or "chronic therapy" in c:
        out["dose_applies_to"] = "maintenance"
    elif "starting" in c or "initiat" in c or "start " in c:
        out["dose_applies_to"] = "starting"
    if "lowest recommended starting dose" in c and "dose_factor" not in out:
        out.setdefault("dose_basis", "lowest-recommended-starting-dose")
    elif "lowest recommended starting dose" in c:
        out["dose_basis"] = "lowest-recommended-starting-dose"
    return out


def _limit(clause: str) -> float | None:
    m = re.search(r"(?:≤|<)\s*" + _NUM + r"\s*mg", clause)
    return float(m.group(1)) if m else None


def _clause_action(clause: str) -> str | None:
    """The action one clause states, or None."""
    c = _strip_prefix(clause).lower()
    if c in {"n/a", "n/a."}:
        return "not-applicable"
    if re.match(r"(no recommendation|no action recommended|insufficient evidence)", c):
        return "no-recommendation"
    if re.search(r"enzyme activity must be measured|erythrocyte activity", c):
        return "further-testing"
    if re.search(r"could not be assigned|should guide use", c) and "status" not in c[:25]:
        return "further-testing"
    if re.search(r"no (?:reason|need) to avoid|no indication to change|no adjustments needed", c):
        return "use-label-dose"
    if re.search(r"^use at standard doses with caution|cautiously consider use", c):
        return "use-with-caution"
    if re.search(r"alternative agents are not available, consider the use", c):
        return "use-with-caution"
    if re.search(r"^avoid moderate and strong \w+ inhibitors", c):
        return None
    if re.search(
        r"^avoid|do not use|is not recommended|contraindicated|should not be used", c
    ) and not re.search(r"^avoid standard dose", c):
        return "avoid"
    if re.search(r"^avoid standard dose", c):
        return "use-alternative"
    if re.search(
        r"^(?:select|choose|prescribe|recommend) (?:an )?alternative|"
        r"^use (?:prasugrel|ticagrelor)|^select an alternative",
        c,
    ):
        return "use-alternative"
    if re.search(r"^consider (?:a clinically appropriate |an )?alternative|^consider hormonal", c):
        return "consider-alternative"
    if re.search(
        r"^consider a clinically appropriate antidepressant not|consider (?:a )?non-\w+", c
    ):
        return "consider-alternative"
    if re.search(r"^(?:prescribe )?(?:≤|<)\s*\d|limit dose to", c):
        return "limit-dose"
    if re.search(r"increase starting|increasing dose by|titrating to a higher", c):
        return "increase-dose"
    if re.search(
        r"reduc|lower starting dose|decreased dose|less than typical|"
        r"\d+% of (?:the )?(?:lowest|starting)|lowest recommended starting dose|"
        r"initiate dose at|lower maintenance dose|lower than standard dosage",
        c,
    ):
        return "reduce-dose"
    if re.search(
        r"no (?:reason|need) to avoid|no indication to change|no adjustments needed|"
        r"per standard dosing|label[- ]recommended|according to the product label|"
        r"recommended starting dose\.?$|recommended starting dose\.|standard dosing \(|"
        r"standard of care dosing|standard recommended dose|use at standard dose \(|"
        r"^(?:start|initiate) (?:with|therapy with) normal starting dose|"
        r"prescribe desired starting dose|initiate standard starting|"
        r"^initiate therapy with recommended starting dose|"
        r"^use \w+(?: \w+)? at standard doses for|at standard starting dose",
        c,
    ):
        return "use-label-dose"
    if re.search(r"^initiate with a dose of", c):
        return "titrate-with-monitoring"
    if re.search(r"^(?:start|initiate) with normal|normal starting dose", c):
        return "use-label-dose"
    return None


_MONITORING = [
    ("therapeutic-drug-monitoring", r"therapeutic (?:drug|dose) monitoring|plasma concentration"),
    ("toxicity", r"monitor closely for toxicity|myelosuppression"),
    ("hearing", r"hearing loss"),
    ("anemia", r"monitoring for anemia"),
    ("cutaneous-reactions", r"cutaneous adverse|sjs/ten"),
    ("myopathy", r"risk for myopathy"),
    ("efficacy", r"monitor for (?:continued )?efficacy"),
]


def _is_conditional(clause: str) -> bool:
    c = clause.lower()
    return bool(
        re.match(r"(if |in the event|in setting|for tertiary amines|for malignan)", c)
        or re.search(r"is warranted|are clinically appropriate", c)
    )


_FALLBACK_ACTIONS = {
    "reduce-dose",
    "increase-dose",
    "limit-dose",
    "use-label-dose",
    "use-with-caution",
    "titrate-with-monitoring",
}


def parse_action(text: str, drug: str) -> dict[str, Any]:
    """Structured facts of one recommendation sentence (CPIC wording in, pmed facts out)."""
    clauses = _clauses(text)
    if not clauses:
        return {"action": GENERIC_ACTION}
    facts: dict[str, Any] = {}
    primary: str | None = None
    primary_clause = ""
    also: list[str] = []
    fallback: dict[str, Any] | None = None
    for clause in clauses:
        action = _clause_action(clause)
        if action is None:
            continue
        if primary is None:
            primary, primary_clause = action, clause
            continue
        if action == primary:
            continue
        conditional = _is_conditional(clause)
        if (
            primary == "use-label-dose"
            and action in {"reduce-dose", "increase-dose", "limit-dose"}
            and not clause.lower().startswith("if ")
        ):
            also.append(primary)
            primary, primary_clause = action, clause
            continue
        if (
            primary in {"avoid", "use-alternative", "consider-alternative"}
            and conditional
            and fallback is None
            and action in _FALLBACK_ACTIONS
        ):
            fallback = {"action": action, **_numbers(action, clause)}
            continue
        if action not in also:
            also.append(action)
    low = text.lower()
    if primary is None:
        if re.search(r"therapeutic drug monitoring|adjust dose", low):
            primary = "titrate-with-monitoring"
        else:
            return {"action": GENERIC_ACTION}
    # "Avoid X; if X is warranted, utilize therapeutic drug monitoring ..." → TDM fallback.
    if primary in {"avoid", "consider-alternative"} and fallback is None:
        for clause in clauses[1:]:
            cl = clause.lower()
            if _is_conditional(clause) and "therapeutic drug monitoring" in cl:
                fallback = {"action": "titrate-with-monitoring"}
                break
            if "strongly reduced dose" in cl:
                fallback = {"action": "reduce-dose"}
                break
    if primary == "avoid" and re.search(r"\buse (?:prasugrel|ticagrelor)", low):
        primary = "use-alternative"
    if primary == "reduce-dose" and re.search(r"\balternative\b", low):
        also.append("consider-alternative")
    facts["action"] = primary
    facts.update(_numbers(primary, primary_clause))
    if fallback:
        facts["if_used"] = fallback
    if also:
        facts["also"] = sorted(set(also) - {primary})
        if not facts["also"]:
            del facts["also"]
    monitoring = [tag for tag, rx in _MONITORING if re.search(rx, low)]
    if monitoring:
        facts["monitoring"] = monitoring
    if re.search(r"slower titration", low):
        facts["titration"] = "slower"
    elif re.search(r"titrat\w* to a higher", low):
        facts["titration"] = "to-higher-target"
    m = re.search(r"avoid moderate and strong (\w+) inhibitors", low)
    if m:
        facts["avoid_interacting"] = f"moderate and strong {m.group(1).upper()} inhibitors"
    if "malignan" in low and re.search(r"non-malignant", low):
        facts["condition_split"] = {"non-malignant": "consider-alternative", "malignant": primary}
    return facts


def _numbers(action: str, clause: str) -> dict[str, Any]:
    if action == "limit-dose":
        limit = _limit(clause)
        return {"max_dose_mg": limit} if limit is not None else {}
    if action in {"reduce-dose", "increase-dose"}:
        return _dose_numbers(clause)
    return {}


_IMPLICATION_RULES: list[tuple[str, str]] = [
    ("not-applicable", r"^(?:n/a)?\.?$"),
    (
        "uncertain",
        r"unknown risk|uncertain|limited data|no data|minimal evidence|do not eliminate|"
        r"weak or no evidence|variable risk|could not be|cannot be|unlikely",
    ),
    (
        "normal",
        r"^(?:normal|typical|expected|low risk|low or reduced risk|reference|therapeutic|"
        r"no association|slightly reduced|[\w ]*\blow likelihood|"
        r"lower concentrations of tgn|small increase|\w+ normal|normal or increased)",
    ),
    (
        "reduced-efficacy",
        r"decreased response|lower plasma|decrease the probability|therapeutic failure|"
        r"reduced (?:\w+ )?(?:active metabolite|morphine|o-desmethyl|formation)|lack of efficacy|"
        r"lower likelihood of response|recurrence|platelet reactivity|diminished|sub-?optimal|"
        r"less active compounds when compared .*ultrarapid|not .*achieve|non-responsive|"
        r"lower .*concentrations of active|lower endoxifen|decreased plasma|increased metabolism|"
        r"lower dose-adjusted|decreased chance|probability of attainment|increase in metabolism|"
        r"decreased metabolism of \w+ to (?:the )?active",
    ),
    (
        "increased-risk",
        r"increased risk|greater risk|toxicit|higher plasma|higher risk|side effects|"
        r"exposure|high risk|hemoly|sjs|myopathy|higher .*concentrations|reduced metabolism|"
        r"greatly reduced|decreased dpd|dpd deficiency|jaundice|hyperbilirubin|hearing loss|"
        r"malignant hyperthermia|increased .*concentration|significantly reduced|high likelihood",
    ),
    ("responsive", r"responsive"),
]


def implication_category(text: str) -> str:
    """pmed's category of one gene's implication sentence (the sentence itself is not kept)."""
    t = text.strip().lower()
    for category, rx in _IMPLICATION_RULES:
        if re.search(rx, t):
            return category
    return "other"
