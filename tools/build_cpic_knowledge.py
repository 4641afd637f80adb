"""Build `pgx/cpic_recommendations` from CPIC's guideline files (as packaged by PharmCAT).

Input (see ../shared/README.md):
  data/pgx/cpic-guidelines/CPIC_<drugs>_and_<GENES>.json   CPIC recommendations (CC0)
  data/pgx/pypgx-tables/cpic-table.csv                      RxNorm, ATC, CPIC level, PMIDs (MIT)

Each CPIC recommendation becomes structured facts in pmed's own words: drug, RxNorm, lookup key
(gene → phenotype or activity score), action category and dose numbers parsed from the CPIC
sentence by the rules in `tools/cpic_actions.py`, strength, population, implication categories,
guideline citation and a summary generated from those fields. The CPIC sentences themselves are
not written out.

Two guidelines have no lookup-key recommendations in the PharmCAT package: warfarin (CPIC 2017,
a dosing algorithm: Johnson et al., Clin Pharmacol Ther 2017;102:397, Figure 2) and
peginterferon/ribavirin with IFNL3 (Muir et al., Clin Pharmacol Ther 2014;95:141, Table 2).
Their facts are curated here by hand from those publications and marked `curated: true`.

Run: .venv/bin/python tools/build_cpic_knowledge.py
"""

from __future__ import annotations

import csv
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from cpic_actions import GENERIC_ACTION, clean_text, implication_category, parse_action
from knowledge_io import SHARED, write_knowledge

from pmed.pgx._cpic_text import summarize

SOURCE_DIR = SHARED / "data" / "pgx" / "cpic-guidelines"
CPIC_TABLE = SHARED / "data" / "pgx" / "pypgx-tables" / "cpic-table.csv"

_STRENGTH = {
    "Strong": "strong",
    "Moderate": "moderate",
    "Optional": "optional",
    "No recommendation": "no recommendation",
}

#: CPIC's "xN combinations" CYP2D6 key is an input-format placeholder, not a phenotype.
_SKIP_VALUES = {"xN combinations"}


def _drug_table() -> dict[tuple[str, str], dict[str, str]]:
    rows: dict[tuple[str, str], dict[str, str]] = {}
    with CPIC_TABLE.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            rows[(row["Drug"].lower(), row["Gene"])] = row
    return rows


def _drug_info(
    drug: str, genes: list[str], table: dict[tuple[str, str], dict[str, str]]
) -> dict[str, Any]:
    rows = [table[(drug, g)] for g in genes if (drug, g) in table]
    info: dict[str, Any] = {"name": drug, "genes": genes}
    if rows:
        info["rxnorm"] = rows[0]["RxNorm"] or None
        info["atc"] = sorted({a.strip() for r in rows for a in r["ATC"].split(",") if a.strip()})
        levels = {r["Gene"]: r["CPICLevel"] for r in rows if r["CPICLevel"]}
        info["cpic_level"] = levels
        urls = [r["Guideline"] for r in rows if r["Guideline"]]
        info["cpic_url"] = urls[0] if urls else None
    return info


def _guideline(doc: dict[str, Any], drugs: list[dict[str, Any]]) -> dict[str, Any]:
    g = doc["guideline"]
    genes = [x["symbol"] for x in g["relatedGenes"]]
    names = [x["name"] for x in g["relatedChemicals"]]
    citations = sorted(doc.get("citations") or [], key=lambda c: -int(c.get("year") or 0))
    cpic_url = next((d.get("cpic_url") for d in drugs if d.get("cpic_url")), None)
    return {
        "id": g["id"],
        "name": f"CPIC guideline for {', '.join(names)} and {', '.join(genes)}",
        "genes": genes,
        "drugs": names,
        "url": cpic_url or g["url"],
        "pharmgkb_url": g["url"],
        "pmids": [c["pmid"] for c in citations if c.get("pmid")],
        "citation": (
            f"{citations[0]['title']} Clin Pharmacol Ther {citations[0]['year']}."
            if citations and "Clinical pharmacology" in (citations[0].get("journal") or "")
            else (f"{citations[0]['title']} {citations[0].get('year')}." if citations else None)
        ),
        "version": g.get("version"),
    }


def _implications(rec: dict[str, Any], genes: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for text in rec.get("implications") or []:
        gene, sep, rest = text.partition(":")
        if sep and gene.strip() in genes:
            out[gene.strip()] = implication_category(rest)
        elif len(genes) == 1:
            out[genes[0]] = implication_category(text)
    return out


def _recommendation(
    rec: dict[str, Any], guideline: dict[str, Any], stats: Counter[str]
) -> dict[str, Any] | None:
    lookup = {str(k): str(v) for k, v in rec["lookupKey"].items()}
    if any(v in _SKIP_VALUES for v in lookup.values()):
        stats["skipped (xN placeholder key)"] += 1
        return None
    drug = rec["relatedChemicals"][0]["name"]
    facts = parse_action(clean_text(rec["text"]["html"]), drug)
    strength = _STRENGTH.get((rec.get("classification") or {}).get("term") or "")
    population = rec.get("population") or "general"
    out: dict[str, Any] = {
        "drug": drug,
        "guideline": guideline["id"],
        "lookup": lookup,
        "population": population,
        "strength": strength,
        **facts,
        "implications": _implications(rec, list(lookup)),
        "alternate_drug_available": bool(rec.get("alternateDrugAvailable")),
        "dosing_information": bool(rec.get("dosingInformation")),
        "source_id": rec["id"],
    }
    out["summary"] = summarize(drug, lookup, facts, strength=strength, population=population)
    return {k: v for k, v in out.items() if v is not None}


def _curated() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Warfarin and IFNL3 facts, written by pmed from the guideline publications."""
    warfarin = {
        "id": "PA166104949",
        "name": "CPIC guideline for pharmacogenetics-guided warfarin dosing (2017 update)",
        "genes": ["CYP2C9", "CYP4F2", "VKORC1"],
        "drugs": ["warfarin"],
        "url": "https://cpicpgx.org/guidelines/guideline-for-warfarin-and-cyp2c9-and-vkorc1/",
        "pharmgkb_url": "https://www.pharmgkb.org/guidelineAnnotation/PA166104949",
        "pmids": ["28198005", "21900891"],
        "citation": "Johnson JA et al. CPIC Guideline for Pharmacogenetics-Guided Warfarin "
        "Dosing: 2017 Update. Clin Pharmacol Ther 2017;102:397-404 (Figure 2).",
        "version": "2017",
    }
    ifnl3 = {
        "id": "PA166110235",
        "name": "CPIC guideline for IFNL3 (IL28B) genotype and PEG interferon-alpha-based regimens",
        "genes": ["IFNL3"],
        "drugs": ["peginterferon alfa-2a", "peginterferon alfa-2b", "ribavirin"],
        "url": "https://cpicpgx.org/guidelines/guideline-for-peg-interferon-alpha-based-regimens-and-ifnl3/",
        "pharmgkb_url": "https://www.pharmgkb.org/guidelineAnnotation/PA166110235",
        "pmids": ["24096968"],
        "citation": "Muir AJ et al. CPIC guidelines for IFNL3 (IL28B) genotype and PEG "
        "interferon-alpha-based regimens. Clin Pharmacol Ther 2014;95:141-146 (Table 2).",
        "version": "2014",
    }
    both = {"CYP2C9": "*", "VKORC1": "*"}
    recs: list[dict[str, Any]] = [
        {
            "drug": "warfarin",
            "guideline": warfarin["id"],
            "lookup": both,
            "population": "adults of non-African ancestry",
            "strength": "strong",
            "action": "calculate-dose",
            "implications": {"CYP2C9": "dose-determinant", "VKORC1": "dose-determinant"},
        },
        {
            "drug": "warfarin",
            "guideline": warfarin["id"],
            "lookup": {**both, "CYP4F2": "*3 carrier"},
            "population": "adults of non-African ancestry",
            "strength": "optional",
            "action": "increase-dose",
            "dose_factor_range": [1.05, 1.1],
            "dose_applies_to": "calculated",
            "implications": {"CYP4F2": "reduced-vitamin-k-clearance"},
        },
        {
            "drug": "warfarin",
            "guideline": warfarin["id"],
            "lookup": both,
            "population": "adults of African ancestry carrying CYP2C9*5, *6, *8 or *11",
            "strength": "moderate",
            "action": "reduce-dose",
            "dose_factor_range": [0.7, 0.85],
            "dose_applies_to": "calculated",
            "implications": {"CYP2C9": "increased-risk"},
        },
        {
            "drug": "warfarin",
            "guideline": warfarin["id"],
            "lookup": {"CYP2C9": "0.0", "VKORC1": "*"},
            "population": "adults",
            "strength": None,
            "action": "consider-alternative",
            "implications": {"CYP2C9": "increased-risk"},
        },
        {
            "drug": "warfarin",
            "guideline": warfarin["id"],
            "lookup": {"CYP2C9": "0.5", "VKORC1": "*"},
            "population": "adults",
            "strength": None,
            "action": "consider-alternative",
            "implications": {"CYP2C9": "increased-risk"},
        },
    ]
    for drug in ifnl3["drugs"]:
        for value, action, category in (
            ("Favorable response genotype", "use-label-dose", "normal"),
            ("Unfavorable response genotype", "consider-alternative", "reduced-efficacy"),
        ):
            recs.append(
                {
                    "drug": drug,
                    "guideline": ifnl3["id"],
                    "lookup": {"IFNL3": value},
                    "population": "chronic hepatitis C genotype 1",
                    "strength": "strong",
                    "action": action,
                    "implications": {"IFNL3": category},
                }
            )
    for rec in recs:
        rec.update(curated=True, alternate_drug_available=None, dosing_information=None)
        facts = {k: v for k, v in rec.items() if k not in {"lookup", "drug"}}
        rec["summary"] = summarize(
            rec["drug"],
            rec["lookup"],
            facts,
            strength=rec["strength"],
            population=rec["population"],
        )
    return [warfarin, ifnl3], recs


def build() -> dict[str, Any]:
    table = _drug_table()
    guidelines: list[dict[str, Any]] = []
    drugs: dict[str, dict[str, Any]] = {}
    recs: list[dict[str, Any]] = []
    stats: Counter[str] = Counter()
    per_file: dict[str, int] = {}
    versions: set[str] = set()
    curated_guidelines, curated_recs = _curated()
    curated_ids = {g["id"] for g in curated_guidelines}
    for path in sorted(SOURCE_DIR.glob("CPIC_*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        versions.add(str(doc.get("version")))
        genes = [x["symbol"] for x in doc["guideline"]["relatedGenes"]]
        infos = [_drug_info(c["name"], genes, table) for c in doc["guideline"]["relatedChemicals"]]
        guideline = _guideline(doc, infos)
        if guideline["id"] in curated_ids:
            guideline = next(g for g in curated_guidelines if g["id"] == guideline["id"])
        guideline["file"] = path.name
        guidelines.append(guideline)
        for info in infos:
            info["guideline"] = guideline["id"]
            drugs[info["name"]] = info
        n = 0
        for rec in doc["recommendations"]:
            out = _recommendation(rec, guideline, stats)
            if out is not None:
                recs.append(out)
                n += 1
        per_file[path.name] = n
    for rec in curated_recs:
        recs.append(rec)
        per_file[next(g["file"] for g in guidelines if g["id"] == rec["guideline"])] += 1
    _coverage(recs, stats, per_file)
    return {
        "guidelines": guidelines,
        "drugs": dict(sorted(drugs.items())),
        "recommendations": recs,
        "source_version": sorted(versions)[-1],
    }


def _coverage(recs: list[dict[str, Any]], stats: Counter[str], per_file: dict[str, int]) -> None:
    parsed = [r for r in recs if not r.get("curated")]
    generic = sum(1 for r in parsed if r["action"] == GENERIC_ACTION)
    actions = Counter(r["action"] for r in recs)
    changes = [r for r in parsed if r["action"] in {"reduce-dose", "increase-dose", "limit-dose"}]
    numbered = sum(
        1
        for r in changes
        if any(r.get(k) is not None for k in ("dose_factor", "dose_factor_range", "dose"))
        or r.get("max_dose_mg") is not None
        or r.get("dose_basis")
    )
    implication_other = sum(1 for r in parsed for v in r["implications"].values() if v == "other")
    print(f"recommendations parsed from CPIC text: {len(parsed)}", file=sys.stderr)
    specific = len(parsed) - generic
    share = 100 * specific / len(parsed)
    print(
        f"  specific action: {specific} ({share:.1f}%), generic fallback ({GENERIC_ACTION}): "
        f"{generic}",
        file=sys.stderr,
    )
    print(f"  dose changes with numbers: {numbered}/{len(changes)}", file=sys.stderr)
    print(f"  implications left 'other': {implication_other}", file=sys.stderr)
    for key, n in sorted(stats.items()):
        print(f"  {key}: {n}", file=sys.stderr)
    print(f"curated (warfarin, IFNL3): {len(recs) - len(parsed)}", file=sys.stderr)
    print("actions: " + ", ".join(f"{a}={n}" for a, n in actions.most_common()), file=sys.stderr)
    empty = [f for f, n in per_file.items() if n == 0]
    print(f"guideline files: {len(per_file)}, without recommendations: {empty}", file=sys.stderr)


def main() -> None:
    data = build()
    path = write_knowledge(
        "pgx/cpic_recommendations",
        data,
        source="CPIC guidelines (cpicpgx.org) as packaged by PharmCAT; drug metadata from "
        "PyPGx cpic-table.csv",
        version=data["source_version"],
        licence="CC0-1.0 (CPIC content); PyPGx tables MIT",
        generated_by="tools/build_cpic_knowledge.py",
        notice="Recommendations restated by pmed as structured facts (action categories and "
        "dose numbers parsed by rule); read the cited CPIC guideline for the full text. "
        "Warfarin and IFNL3 entries are curated by pmed from the guideline publications.",
    )
    print(f"wrote {path} ({path.stat().st_size // 1024} KiB)", file=sys.stderr)


if __name__ == "__main__":
    main()
