"""Inline SVG charts for the self-contained report: factor contributions and what-if bars.

Plain SVG strings (no scripts, no external files), escaped, each with `class="chart"`, a
`<title>` and `role="img"` so screen readers and the browser test can find them.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from pmed.findings import Finding

__all__ = ["factor_chart", "what_if_chart"]

_W, _LABEL, _ROW = 600, 230, 24
_POS, _NEG, _NOW = "#c0392b", "#2e86c1", "#7f8c8d"


def _fmt(value: float) -> str:
    return f"{value:+.2f}" if abs(value) < 10 else f"{value:+.1f}"


def _bars(title: str, rows: Sequence[tuple[str, float, str]], unit: str, signed: bool) -> str:
    if not rows:
        return ""
    height = 30 + _ROW * len(rows)
    span = max(abs(v) for _, v, _ in rows) or 1.0
    plot = _W - _LABEL - 70
    zero = _LABEL + (plot / 2 if signed and any(v < 0 for _, v, _ in rows) else 0)
    scale = (plot / 2 if zero != _LABEL else plot) / span
    parts = [
        f'<svg class="chart" role="img" xmlns="http://www.w3.org/2000/svg" width="{_W}" '
        f'height="{height}" viewBox="0 0 {_W} {height}"><title>{escape(title)}</title>',
        f'<text x="0" y="14" font-size="12" font-weight="bold">{escape(title)}</text>',
    ]
    for i, (label, value, color) in enumerate(rows):
        y = 24 + i * _ROW
        width = abs(value) * scale
        x = zero if value >= 0 else zero - width
        shown = _fmt(value) if signed else f"{value:.1f}"
        parts.append(
            f'<text x="{_LABEL - 6}" y="{y + 14}" font-size="12" text-anchor="end">'
            f"{escape(label)}</text>"
            f'<rect class="bar" x="{x:.1f}" y="{y + 3}" width="{max(width, 1):.1f}" height="16" '
            f'fill="{color}"><title>{escape(label)}: {shown} {escape(unit)}</title></rect>'
            f'<text x="{max(x + width, zero) + 4:.1f}" y="{y + 15}" font-size="11">'
            f"{shown}</text>"
        )
    parts.append(
        f'<line x1="{zero:.1f}" y1="20" x2="{zero:.1f}" y2="{height - 4}" stroke="#333" '
        'stroke-width="1"/></svg>'
    )
    return "".join(parts)


#: Everyday words for the factors, for the patient's version.
PLAIN_LABELS = {
    "sbp": "top blood pressure number",
    "tc": "total cholesterol",
    "hdl": "good cholesterol (HDL)",
    "ldl": "LDL cholesterol",
    "bp_treated": "blood pressure medicine",
    "smoker": "smoking",
    "diabetes": "diabetes",
    "age": "age",
    "sex": "being a woman or man",
    "bmi": "weight for height (BMI)",
    "waist_cm": "waist size",
    "hypertension": "high blood pressure",
    "egfr": "kidney filter rate",
    "statin": "a statin",
    "physical_activity": "daily activity",
    "daily_fruit_vegetables": "daily vegetables and fruit",
}
_HIDDEN = frozenset({"intercept", "constant"})


def _label(factor: str, plain: bool) -> str:
    return PLAIN_LABELS.get(factor, factor.replace("_", " ")) if plain else factor.replace("_", " ")


def factor_chart(finding: Finding, *, label: str | None = None, plain: bool = False) -> str:
    """Bars of each factor's contribution (risk points when the engine gives them, else the
    terms / item points), largest first."""
    if finding.explanation is None:
        return ""
    terms = finding.explanation.contributions
    points = [c for c in terms if c.unit and "risk points" in c.unit]
    chosen = points or [c for c in terms if c.factor not in _HIDDEN]
    chosen = [c for c in chosen if c.contribution and c.factor not in _HIDDEN]
    chosen.sort(key=lambda c: (-abs(c.contribution), c.factor))
    unit = chosen[0].unit or finding.unit or "" if chosen else ""
    rows = [(_label(c.factor, plain), float(c.contribution),
             _POS if c.contribution > 0 else _NEG) for c in chosen[:10]]  # fmt: skip
    title = "What raises or lowers your result" if plain else f"What drives this result ({unit})"
    return _bars(label or title, rows, unit or "", signed=True)


def _change(key: str, value: object, plain: bool) -> str:
    if plain:
        if key == "statin":
            return "start a statin"
        if key == "smoker" and value is False:
            return "stop smoking"
        if isinstance(value, bool):
            return f"{PLAIN_LABELS.get(key, key)}: {'yes' if value else 'no'}"
        shown = f"{value:g}" if isinstance(value, float) else str(value)
        return f"{PLAIN_LABELS.get(key, key)} {shown}"
    shown = f"{value:g}" if isinstance(value, float) else str(value)
    return f"{key.replace('_', ' ')} {shown}"


def what_if_chart(finding: Finding, *, plain: bool = False) -> str:
    """The result now and after each what-if change."""
    if finding.explanation is None or not finding.explanation.what_ifs or finding.value is None:
        return ""
    rows = [("now" if plain else "current", float(finding.value), _NOW)]
    for w in finding.explanation.what_ifs:
        name = ", ".join(_change(k, v, plain) for k, v in w.changes.items())
        rows.append(((name + (" *" if w.estimate else ""))[:34], float(w.value), _NEG))
    unit = finding.unit or ""
    return _bars("If things change" if plain else f"What-if ({unit})", rows, unit, signed=False)
