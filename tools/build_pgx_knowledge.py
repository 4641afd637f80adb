"""Convert ../shared/data/pgx into pmed's PGx knowledge files (run from the repo root).

    .venv/bin/python tools/build_pgx_knowledge.py

Writes, under `src/pmed/knowledge/data/pgx/`:

- `definitions.json`: PharmCAT v3.1.1 named-allele definitions (`<GENE>_translation.json`) for
  the genes pmed calls from a VCF, with PharmCAT's gene-definition exceptions
  (`exemptions.json`), GRCh37 positions from PyPGx's variant table (or, where PyPGx lacks the
  variant, the gene's constant GRCh38→GRCh37 offset derived from the variants it has), and the
  contig lengths used to detect the genome build.
- `phenotypes.json`: allele function / activity value and every diplotype → phenotype / activity
  score / CPIC lookup key from PharmCAT's phenotype files (ClinPGx/CPIC), with CYP2D6, G6PD and
  RYR1 taken from PyPGx's allele and diplotype tables.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from knowledge_io import SHARED, write_knowledge

PGX = SHARED / "data" / "pgx"
VERSION = "PharmCAT v3.1.1 (definitions 2025-11-05-00-25); PyPGx tables"
LICENCE = "MPL-2.0 (PharmCAT); CC BY-SA 4.0 (ClinPGx content); CC0 (CPIC); MIT (PyPGx)"
NOTICE = (
    "Allele definitions and phenotype mappings are derived from ClinPGx (formerly PharmGKB), "
    "CPIC and PharmVar data as packaged by PharmCAT v3.1.1 (https://pharmcat.clinpgx.org, "
    "MPL-2.0). ClinPGx content is licensed under CC BY-SA 4.0 "
    "(https://creativecommons.org/licenses/by-sa/4.0/): this derived file is shared under the "
    "same licence, with attribution to ClinPGx. GRCh37 coordinates, CYP2D6/G6PD/RYR1 tables from "
    "PyPGx (MIT, https://github.com/sbslee/pypgx)."
)

#: Genes called from a VCF (issue 4); CYP2D6 only from outside calls.
VCF_GENES = [
    "ABCG2",
    "CACNA1S",
    "CFTR",
    "CYP2B6",
    "CYP2C19",
    "CYP2C9",
    "CYP3A4",
    "CYP3A5",
    "CYP4F2",
    "DPYD",
    "G6PD",
    "IFNL3",
    "NAT2",
    "NUDT15",
    "RYR1",
    "SLCO1B1",
    "TPMT",
    "UGT1A1",
    "VKORC1",
]

#: Contig lengths (GRC assembly reports) used to detect the build from `##contig` headers.
CONTIG_LENGTHS = {
    "GRCh38": {
        "1": 248956422,
        "2": 242193529,
        "3": 198295559,
        "4": 190214555,
        "5": 181538259,
        "6": 170805979,
        "7": 159345973,
        "8": 145138636,
        "9": 138394717,
        "10": 133797422,
        "11": 135086622,
        "12": 133275309,
        "13": 114364328,
        "14": 107043718,
        "15": 101991189,
        "16": 90338345,
        "17": 83257441,
        "18": 80373285,
        "19": 58617616,
        "20": 64444167,
        "21": 46709983,
        "22": 50818468,
        "X": 156040895,
        "Y": 57227415,
    },
    "GRCh37": {
        "1": 249250621,
        "2": 243199373,
        "3": 198022430,
        "4": 191154276,
        "5": 180915260,
        "6": 171115067,
        "7": 159138663,
        "8": 146364022,
        "9": 141213431,
        "10": 135534747,
        "11": 135006516,
        "12": 133851895,
        "13": 115169878,
        "14": 107349540,
        "15": 102531392,
        "16": 90354753,
        "17": 81195210,
        "18": 78077248,
        "19": 59128983,
        "20": 63025520,
        "21": 48129895,
        "22": 51304566,
        "X": 155270560,
        "Y": 59373566,
    },
}


def _chrom(name: str) -> str:
    return name[3:] if name.lower().startswith("chr") else name


def _pypgx_variants() -> dict[tuple[str, int], dict[str, str]]:
    out: dict[tuple[str, int], dict[str, str]] = {}
    with (PGX / "pypgx-tables" / "variant-table.csv").open() as fh:
        for row in csv.DictReader(fh):
            try:
                out[(_chrom(row["Chromosome"]), int(row["GRCh38Position"]))] = row
            except ValueError:
                continue
    return out


def _variant(
    v: dict[str, Any], chrom: str, v37: dict[tuple[str, int], dict[str, str]], offset: int | None
) -> dict[str, Any]:
    row = v37.get((chrom, v["position"]))
    if row is not None:
        pos37: int | None = int(row["GRCh37Position"])
        ref37 = row["GRCh37Allele"] if row["GRCh37Allele"] not in ("", "N/A") else v["ref"]
        derived = False
    else:
        pos37 = v["position"] + offset if offset is not None else None
        ref37 = v["ref"]
        derived = pos37 is not None
    out = {
        "position": v["position"],
        "grch37_position": pos37,
        "ref": v["ref"],
        "alts": list(v["alts"]),
        "rsid": v.get("rsid"),
        "hgvs": v.get("chromosomeHgvsName"),
    }
    if pos37 is not None and ref37 != v["ref"]:
        out["grch37_ref"] = ref37
    if derived:
        out["grch37_derived"] = True
    return out


def _functions() -> dict[str, dict[str, str | None]]:
    """Allele name → clinical function, from PharmCAT phenotype files or PyPGx's allele table."""
    out: dict[str, dict[str, str | None]] = {}
    for path in (PGX / "pharmcat-phenotypes").glob("*.json"):
        data = json.loads(path.read_text())
        out[data["gene"]] = {a["name"]: a.get("functionValue") for a in data["namedAlleles"]}
    with (PGX / "pypgx-tables" / "allele-table.csv").open() as fh:
        for row in csv.DictReader(fh):
            if row["Gene"] in ("CYP2D6", "G6PD", "RYR1") and row["Gene"] not in out:
                out.setdefault(row["Gene"] + "#pypgx", {})[row["StarAllele"]] = row["Function"]
    for gene in ("CYP2D6", "G6PD", "RYR1"):
        if gene + "#pypgx" in out:
            out[gene] = out.pop(gene + "#pypgx")
    return out


def _exemption(ex: dict[str, Any] | None) -> dict[str, Any]:
    if not ex:
        return {}
    out: dict[str, Any] = {}
    if ex.get("requiredPositions"):
        out["required_positions"] = list(ex["requiredPositions"])
    if ex.get("ignoredPositions"):
        out["ignored_positions"] = [p["position"] for p in ex["ignoredPositions"]]
    if ex.get("ignoredAlleles"):
        out["ignored_alleles"] = list(ex["ignoredAlleles"])
    if ex.get("extraPositions"):
        out["extra_positions"] = [
            {"position": p["position"], "ref": p["ref"], "alts": p["alts"], "rsid": p.get("rsid")}
            for p in ex["extraPositions"]
        ]
    if ex.get("unphasedDiplotypePriorities"):
        out["unphased_priorities"] = [
            {"options": p["list"], "pick": p["pick"]} for p in ex["unphasedDiplotypePriorities"]
        ]
    return out


def build_definitions() -> dict[str, Any]:
    v37 = _pypgx_variants()
    functions = _functions()
    exemptions = json.loads((PGX / "pharmcat-definitions" / "exemptions.json").read_text())
    genes: dict[str, Any] = {}
    for gene in [*VCF_GENES, "CYP2D6"]:
        d = json.loads((PGX / "pharmcat-definitions" / f"{gene}_translation.json").read_text())
        chrom = _chrom(d["chromosome"])
        offsets = {
            int(v37[(chrom, v["position"])]["GRCh37Position"]) - v["position"]
            for v in d["variants"]
            if (chrom, v["position"]) in v37
        }
        offset = offsets.pop() if len(offsets) == 1 else None
        fn = functions.get(gene, {})
        genes[gene] = {
            "chromosome": d["chromosome"],
            "grch37_offset": offset,
            "called_from_vcf": gene in VCF_GENES,
            "variants": [_variant(v, chrom, v37, offset) for v in d["variants"]],
            "alleles": [
                {
                    "name": a["name"],
                    "function": fn.get(a["name"]),
                    "alleles": a["alleles"],
                    "reference": bool(a["reference"]),
                }
                for a in d["namedAlleles"]
            ],
            "exemptions": _exemption(exemptions.get(gene)),
        }
        subs = dict(d.get("suballelesMap", {}))  # suballele -> parent
        if subs:
            genes[gene]["suballeles"] = subs  # reported under the parent name, as PharmCAT does
    return {
        "genes": genes,
        "contig_lengths": CONTIG_LENGTHS,
        "definitions_version": json.loads(
            (PGX / "pharmcat-definitions" / "CYP2C19_translation.json").read_text()
        )["version"],
    }


def _pypgx_rows(name: str) -> list[dict[str, str]]:
    with (PGX / "pypgx-tables" / name).open() as fh:
        return list(csv.DictReader(fh))


def build_phenotypes() -> dict[str, Any]:
    genes: dict[str, Any] = {}
    for path in sorted((PGX / "pharmcat-phenotypes").glob("*.json")):
        data = json.loads(path.read_text())
        genes[data["gene"]] = {
            "source": "PharmCAT",
            "alleles": {
                a["name"]: {
                    "function": a.get("functionValue"),
                    "activity": a.get("activityValue"),
                    "lookup": a.get("lookupKey"),
                }
                for a in data["namedAlleles"]
            },
            "diplotypes": {
                d["diplotype"]: [
                    d.get("phenotype") or d.get("generesult"),
                    d.get("activityScore"),
                    d.get("lookupkey"),
                ]
                for d in data["diplotypes"]
            },
        }
    alleles = _pypgx_rows("allele-table.csv")
    equations = _pypgx_rows("equation-table.csv")
    diplos = _pypgx_rows("diplotype-table.csv")
    for gene in ("CYP2D6", "G6PD", "RYR1"):
        entry: dict[str, Any] = {
            "source": "PyPGx",
            "alleles": {
                r["StarAllele"]: {
                    "function": r["Function"] if r["Function"] != "N/A" else None,
                    "activity": r["ActivityScore"] if r["ActivityScore"] != "N/A" else None,
                    "lookup": None,
                }
                for r in alleles
                if r["Gene"] == gene
            },
            "diplotypes": {
                r["Diplotype"]: [r["Phenotype"], None, r["Phenotype"]]
                for r in diplos
                if r["Gene"] == gene
            },
        }
        ranges = []
        for r in equations:
            if r["Gene"] != gene:
                continue
            m = re.fullmatch(r"\s*(?:([\d.]+)\s*<=\s*)?score(?:\s*<\s*([\d.]+))?\s*", r["Equation"])
            if m:
                lo = float(m.group(1)) if m.group(1) else None
                hi = float(m.group(2)) if m.group(2) else None
                ranges.append({"phenotype": r["Phenotype"], "min": lo, "below": hi})
        if ranges:
            entry["activity_ranges"] = ranges
        genes[gene] = entry
    return {"genes": genes}


def main() -> None:
    common = {
        "source": "PharmCAT allele definitions and phenotypes (ClinPGx, CPIC, PharmVar); PyPGx",
        "version": VERSION,
        "licence": LICENCE,
        "generated_by": "tools/build_pgx_knowledge.py",
        "notice": NOTICE,
    }
    print(write_knowledge("pgx/definitions", build_definitions(), **common))
    print(write_knowledge("pgx/phenotypes", build_phenotypes(), **common))


if __name__ == "__main__":
    main()
