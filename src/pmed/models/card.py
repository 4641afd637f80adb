"""Model cards (Mitchell et al., FAT* 2019, "Model Cards for Model Reporting") in Markdown, HTML
and JSON: intended use, population and attrition, features, metrics overall and by group, the
fairness flags, comparison with published calculators, and limitations.
"""

from __future__ import annotations

import html
import json
from typing import Any

from pmed.models.registry import RegisteredModel

__all__ = ["card_dict", "card_markdown", "write_card"]


def _f(x: Any, digits: int = 3) -> str:
    return f"{x:.{digits}f}" if isinstance(x, float) else str(x)


def card_dict(reg: RegisteredModel) -> dict[str, Any]:
    m = reg.meta
    cohort = m.get("cohort", {})
    outcome = cohort.get("outcome", {})
    limitations = [
        "Trained and tested on one data source; performance elsewhere needs external validation "
        "(`pmed models evaluate MODEL --cohort ...` on that population).",
        "Outcomes are only as complete as the record: under-recorded events in a group bias its "
        "risk estimates downward (see the fairness audit).",
        "Features use diagnoses and prescriptions as recorded; absent codes are treated as absent "
        "conditions, and missing laboratory values are handled by the learner, not imputed from "
        "the patient's history.",
        (
            "Each patient's index is their first qualifying event; predictions at other times "
            "assume the same relation between features and outcome."
            if cohort.get("index_event")
            else "A fixed calendar index date is used; predictions for other dates assume the "
            "same relation between features and outcome."
        ),
    ]
    if m.get("audit", {}).get("flagged"):
        limitations.insert(
            0,
            "The fairness audit flagged at least one group (listed below); "
            "do not use the model for that group without review.",
        )
    return {
        "model_id": reg.id,
        "title": m.get("title"),
        "algorithm": m.get("algorithm"),
        "hyperparameters": m.get("params"),
        "created": m.get("created"),
        "content_hash": m.get("content_hash"),
        "training_data_fingerprint": m.get("training_data_fingerprint"),
        "libraries": m.get("libraries"),
        "intended_use": cohort.get("intended_use")
        or f"Estimate the risk of {cohort.get('title') or m.get('cohort_name')} for adults in the "
        "target population, to support (not replace) clinical judgement.",
        "population": {
            "index_date": cohort.get("index_date")
            or (
                "first {resource} {codes} between {start} and {end}".format(
                    **{**cohort["index_event"], "codes": ", ".join(cohort["index_event"]["codes"])}
                )
                if cohort.get("index_event")
                else None
            ),
            "target": cohort.get("target"),
            "exclusions": cohort.get("exclusions"),
            "outcome": outcome,
            "lookback_days": cohort.get("lookback_days"),
            "attrition": m.get("cohort_attrition"),
            "split": m.get("split"),
        },
        "features": m.get("feature_dictionary"),
        "metrics": m.get("metrics"),
        "baselines": m.get("baselines"),
        "fairness": {
            "settings": m.get("audit_settings"),
            "flags": m.get("audit", {}).get("flags", []),
            "by_group": {
                attr: [
                    {
                        k: g[k]
                        for k in (
                            "group",
                            "n",
                            "events",
                            "observed_rate",
                            "expected_rate",
                            "oe_ratio",
                            "tpr",
                            "fpr",
                            "auroc",
                            "flags",
                        )
                    }
                    for g in info["groups"]
                ]
                for attr, info in m.get("audit", {}).get("attributes", {}).items()
            },
            "mitigation": m.get("mitigation"),
        },
        "explanation": {
            "method": "SHAP (log-odds)",
            "global_importance": m.get("shap", {}).get("global_importance", [])[:15],
        },
        "limitations": limitations,
    }


def card_markdown(card: dict[str, Any]) -> str:
    met = card["metrics"] or {}
    lines = [
        f"# Model card: {card['title']}",
        "",
        f"`{card['model_id']}` · {card['algorithm']} · created {card['created']}",
        "",
        "## Intended use",
        card["intended_use"],
        "",
        "## Population",
        f"- Index date {card['population']['index_date']}; lookback "
        f"{card['population']['lookback_days']} days; outcome horizon "
        f"{(card['population']['outcome'] or {}).get('horizon_days')} days.",
        f"- Split: {card['population']['split']}",
        "",
        "| step | patients |",
        "|---|---|",
        *(f"| {a['step']} | {a['patients']} |" for a in card["population"]["attrition"] or []),
        "",
        "## Performance on held-out patients",
        "| metric | value |",
        "|---|---|",
        f"| AUROC (95% CI, DeLong) | {_f(met.get('auroc'))} "
        f"({', '.join(_f(x) for x in met.get('auroc_ci', []))}) |",
        *(
            f"| {k} | {_f(met.get(k))} |"
            for k in (
                "auprc",
                "brier",
                "calibration_in_the_large",
                "observed_expected_ratio",
                "calibration_intercept",
                "calibration_slope",
                "n",
                "events",
            )
        ),
        "",
    ]
    if card["baselines"]:
        lines += [
            "## Compared with published calculators",
            "| calculator | n | AUROC | model AUROC (same patients) | DeLong p |",
            "|---|---|---|---|---|",
        ]
        for name, b in card["baselines"].items():
            lines.append(
                f"| {name} | {b['n']} | {_f(b['auroc'])} | "
                f"{_f(b['model_auroc_same_patients'])} | {b['delong_p_value']:.2g} |"
            )
        lines.append("")
    lines += ["## Metrics by group", ""]
    for attr, groups in card["fairness"]["by_group"].items():
        lines += [
            f"### {attr}",
            "| group | n | events | O/E | TPR | FPR | AUROC | flags |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for g in groups:
            lines.append(
                f"| {g['group']} | {g['n']} | {g['events']} | {_f(g['oe_ratio'])} | "
                f"{_f(g['tpr'])} | {_f(g['fpr'])} | {_f(g['auroc'])} | "
                f"{', '.join(g['flags']) or '—'} |"
            )
        lines.append("")
    flags = card["fairness"]["flags"]
    lines.append(
        "**Fairness flags:** "
        + (
            "; ".join(f"{f['attribute']}={f['group']}: {f['metric']}" for f in flags)
            if flags
            else "none"
        )
    )
    lines += ["", "## Features", "| feature | description | codes | missing |", "|---|---|---|---|"]
    for f in card["features"] or []:
        lines.append(
            f"| {f['label']} | {f['description']} | {f.get('codes', '')} | "
            f"{f['missing']} ({f.get('missing_fraction', 0):.1%} missing) |"
        )
    lines += ["", "## Most influential features (mean |SHAP|, log-odds)"]
    for g in card["explanation"]["global_importance"][:10]:
        lines.append(f"- {g['feature']}: {g['mean_abs_shap']:.3f}")
    lines += [
        "",
        "## Limitations",
        *(f"- {x}" for x in card["limitations"]),
        "",
        "## Provenance",
        f"- content hash (sha256): `{card['content_hash']}`",
        f"- training data fingerprint (sha256): `{card['training_data_fingerprint']}`",
        f"- libraries: {card['libraries']}",
        "",
    ]
    return "\n".join(lines)


def _markdown_to_html(md: str, title: str) -> str:
    """A small renderer for the card's own Markdown (headings, lists, tables, code spans)."""
    out = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title><style>body{{font-family:sans-serif;max-width:"
        "60em;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;"
        "padding:2px 6px}</style></head><body>",
    ]
    in_table = in_list = False
    for line in md.splitlines():
        text = html.escape(line)
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if set("".join(cells)) <= {"-"}:
                continue
            if not in_table:
                out.append("<table>")
                in_table = True
                out.append("<tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in cells) + "</tr>")
                continue
            out.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
            continue
        if in_table:
            out.append("</table>")
            in_table = False
        if line.startswith("- "):
            if not in_list:
                out.append("<ul>")
                in_list = True
            out.append(f"<li>{text[2:]}</li>")
            continue
        if in_list:
            out.append("</ul>")
            in_list = False
        level = len(line) - len(line.lstrip("#"))
        if 0 < level <= 4 and line[level : level + 1] == " ":
            out.append(f"<h{level}>{html.escape(line[level + 1 :])}</h{level}>")
        elif line.strip():
            out.append(f"<p>{text}</p>")
    out.append("</table>" if in_table else "")
    out.append("</ul>" if in_list else "")
    out.append("</body></html>")
    return "\n".join(out)


def write_card(reg: RegisteredModel) -> dict[str, Any]:
    card = card_dict(reg)
    md = card_markdown(card)
    (reg.path / "card.json").write_text(json.dumps(card, indent=2, default=str) + "\n")
    (reg.path / "card.md").write_text(md)
    (reg.path / "card.html").write_text(_markdown_to_html(md, f"Model card: {card['title']}"))
    return card
