"""Figures and the evaluation page: calibration plot and decision curve (PNG), and HTML with both.

The calibration plot shows binned observed vs predicted risk with Wilson 95% intervals and the
fitted logistic recalibration line (Van Calster 2016); the decision curve plots net benefit of
the model against treat-all and treat-none (Vickers & Elkin 2006).
"""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["calibration_png", "decision_curve_png", "evaluation_html"]


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def calibration_png(curve: list[dict[str, float]], metrics: dict[str, Any], path: Path) -> Path:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 5), dpi=110)
    pred = np.array([c["predicted"] for c in curve])
    obs = np.array([c["observed"] for c in curve])
    lo = np.array([c["lower"] for c in curve])
    hi = np.array([c["upper"] for c in curve])
    top = float(max(pred.max(initial=0), hi.max(initial=0), 0.05)) * 1.05
    ax.plot([0, top], [0, top], ls="--", color="grey", lw=1, label="ideal")
    ax.errorbar(
        pred,
        obs,
        yerr=[np.clip(obs - lo, 0, None), np.clip(hi - obs, 0, None)],
        fmt="o",
        color="C0",
        capsize=3,
        label="observed (95% CI)",
    )
    grid = np.linspace(max(1e-4, pred.min(initial=0.001) / 2), min(top, 0.999), 100)
    a, b = metrics["recalibration_intercept"], metrics["calibration_slope"]
    lp = np.log(grid / (1 - grid))
    ax.plot(
        grid,
        1 / (1 + np.exp(-(a + b * lp))),
        color="C1",
        lw=1.5,
        label=f"recalibration (slope {b:.2f})",
    )
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.set_xlabel("predicted risk")
    ax.set_ylabel("observed proportion")
    ax.set_title("Calibration")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def decision_curve_png(curve: dict[str, list[float]], path: Path) -> Path:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4), dpi=110)
    t = curve["threshold"]
    ax.plot(t, curve["model"], color="C0", lw=2, label="model")
    for name, series in curve.items():
        if name.startswith("baseline:"):
            ax.plot(t, series, lw=1.5, label=name.split(":", 1)[1])
    ax.plot(t, curve["treat_all"], color="grey", lw=1, label="treat all")
    ax.plot(t, curve["treat_none"], color="black", lw=1, label="treat none")
    top = max(max(curve["model"]), max(curve["treat_all"]), 0.01)
    ax.set_ylim(-top * 0.1, top * 1.1)
    ax.set_xlabel("threshold probability")
    ax.set_ylabel("net benefit")
    ax.set_title("Decision curve")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def _img(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<img alt="{html.escape(path.stem)}" src="data:image/png;base64,{data}">'


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, list) and value and all(isinstance(v, float) for v in value):
        return "[" + ", ".join(f"{v:.4f}" for v in value) + "]"
    return html.escape(str(value))


def evaluation_html(
    title: str,
    metrics: dict[str, Any],
    audit: dict[str, Any] | None,
    images: list[Path],
    path: Path,
) -> Path:
    """A self-contained page: headline metrics, the figures, and metrics by group."""
    rows = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{_cell(v)}</td></tr>"
        for k, v in metrics.items()
        if not isinstance(v, dict | list) or k == "auroc_ci"
    )
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title>",
        "<style>body{font-family:sans-serif;margin:2em;max-width:60em}table{border-collapse:"
        "collapse}td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}"
        ".flag{color:#b00;font-weight:bold}</style></head><body>",
        f"<h1>{html.escape(title)}</h1><h2>Test-set performance</h2><table>{rows}</table>",
        "<h2>Figures</h2>",
        *(_img(p) for p in images),
    ]
    if audit:
        parts.append(f"<h2>Fairness audit (threshold {audit['threshold']:.3f})</h2>")
        for attr, info in audit["attributes"].items():
            parts.append(
                f"<h3>{html.escape(attr)}</h3><table><tr><th>group</th><th>n</th>"
                "<th>events</th><th>O/E</th><th>TPR</th><th>FPR</th><th>AUROC</th>"
                "<th>EO gap</th><th>flags</th></tr>"
            )
            for g in info["groups"]:
                flag = ", ".join(g["flags"])
                parts.append(
                    f"<tr><td>{html.escape(g['group'])}</td><td>{g['n']}</td><td>{g['events']}</td>"
                    f"<td>{_cell(g['oe_ratio'])}</td><td>{_cell(g['tpr'])}</td>"
                    f"<td>{_cell(g['fpr'])}</td><td>{_cell(g['auroc'])}</td>"
                    f"<td>{_cell(g['equalised_odds_gap'])}</td>"
                    f"<td class='flag'>{html.escape(flag)}</td></tr>"
                )
            parts.append("</table>")
    parts.append("</body></html>")
    path.write_text("".join(parts), encoding="utf-8")
    return path
