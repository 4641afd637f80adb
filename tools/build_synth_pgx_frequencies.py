"""Build `synth/pgx_allele_frequencies`: star-allele frequencies by population for `pmed synth`.

APPROXIMATION, for generating synthetic genotypes only. The figures are rounded (2-3 decimals)
allele frequencies consistent with the CPIC allele frequency tables (the "Allele Frequency
Table" supplements of each CPIC guideline, published on PharmGKB/ClinPGx, by CPIC biogeographic
group), cross-checked against widely reproduced values (e.g. CYP2C19*2 ~15% European vs ~29%
East Asian; CYP2C19*3 ~7% East Asian; CYP2C9*2/*3 ~13%/~8% European; VKORC1 -1639A (rs9923231 T)
~39% European, ~88% East Asian; CYP3A5*3 ~94% European, ~33% African American; NUDT15*3 ~10% East
Asian; UGT1A1*28 ~30-38% European/African). They were compiled by hand, not downloaded: check the
current CPIC tables before any use beyond synthetic data.

Populations (CPIC group names): european ("European"), african_american ("African
American/Afro-Caribbean"), east_asian ("East Asian"), latino ("Latino"), south_asian
("Central/South Asian"). `group_map` maps the generator's race/ethnicity groups onto them.
For each gene, `residual` is the allele that takes the remaining probability (the normal-function
reference haplotype in the PharmCAT definitions); allele names match `pgx/definitions`.

Run: `python tools/build_synth_pgx_frequencies.py`
"""

from __future__ import annotations

from knowledge_io import write_knowledge

POPULATIONS = ["european", "african_american", "east_asian", "latino", "south_asian"]

# gene -> (residual allele, {allele: [eur, afr_am, east_asian, latino, south_asian]})
FREQUENCIES: dict[str, tuple[str, dict[str, list[float]]]] = {
    "CYP2C19": (
        "*1",
        {
            "*2": [0.150, 0.180, 0.290, 0.100, 0.330],
            "*3": [0.002, 0.003, 0.070, 0.001, 0.020],
            "*17": [0.210, 0.210, 0.015, 0.120, 0.160],
        },
    ),
    "CYP2C9": (
        "*1",
        {
            "*2": [0.127, 0.024, 0.001, 0.074, 0.046],
            "*3": [0.076, 0.013, 0.034, 0.035, 0.113],
            "*5": [0.000, 0.012, 0.000, 0.002, 0.000],
            "*6": [0.000, 0.006, 0.000, 0.001, 0.000],
            "*8": [0.002, 0.058, 0.000, 0.007, 0.000],
            "*11": [0.002, 0.024, 0.000, 0.003, 0.000],
        },
    ),
    "VKORC1": (
        "rs9923231 reference (C)",
        {"rs9923231 variant (T)": [0.390, 0.110, 0.880, 0.410, 0.160]},
    ),
    "SLCO1B1": (
        "*1",
        {
            "*5": [0.010, 0.003, 0.002, 0.008, 0.005],
            "*15": [0.150, 0.020, 0.120, 0.120, 0.040],
            "*14": [0.030, 0.010, 0.000, 0.020, 0.010],
            "*37": [0.220, 0.750, 0.600, 0.310, 0.400],
        },
    ),
    "CYP3A5": (
        "*1",
        {
            "*3": [0.940, 0.330, 0.710, 0.750, 0.670],
            "*6": [0.000, 0.150, 0.000, 0.020, 0.000],
            "*7": [0.000, 0.100, 0.000, 0.010, 0.000],
        },
    ),
    "TPMT": (
        "*1",
        {
            "*2": [0.002, 0.004, 0.000, 0.005, 0.000],
            "*3A": [0.034, 0.008, 0.001, 0.040, 0.010],
            "*3B": [0.001, 0.000, 0.000, 0.001, 0.000],
            "*3C": [0.004, 0.024, 0.016, 0.010, 0.010],
        },
    ),
    "NUDT15": (
        "*1",
        {
            "*2": [0.001, 0.000, 0.020, 0.010, 0.002],
            "*3": [0.002, 0.002, 0.095, 0.040, 0.070],
        },
    ),
    "DPYD": (
        "Reference",
        {
            "c.1905+1G>A (*2A)": [0.006, 0.001, 0.000, 0.002, 0.004],
            "c.2846A>T": [0.004, 0.001, 0.000, 0.001, 0.001],
            "c.1129-5923C>G, c.1236G>A (HapB3)": [0.024, 0.003, 0.000, 0.010, 0.005],
            "c.1679T>G (*13)": [0.0005, 0.000, 0.000, 0.000, 0.000],
            "c.557A>G": [0.000, 0.010, 0.000, 0.001, 0.000],
        },
    ),
    "UGT1A1": (
        "*1",
        {
            "*80+*28": [0.300, 0.360, 0.120, 0.380, 0.350],
            "*6": [0.000, 0.000, 0.150, 0.005, 0.010],
        },
    ),
    "CYP2B6": (
        "*1",
        {
            "*6": [0.230, 0.360, 0.210, 0.300, 0.350],
            "*18": [0.000, 0.060, 0.000, 0.010, 0.000],
        },
    ),
    "CYP4F2": ("*1", {"*3": [0.290, 0.080, 0.220, 0.220, 0.380]}),
    "ABCG2": (
        "rs2231142 reference (G)",
        {"rs2231142 variant (T)": [0.110, 0.030, 0.290, 0.140, 0.100]},
    ),
    "IFNL3": (
        "rs12979860 reference (C)",
        {"rs12979860 variant (T)": [0.320, 0.590, 0.090, 0.350, 0.300]},
    ),
}

GROUP_MAP = {
    "white": "european",
    "black": "african_american",
    "asian": "east_asian",
    "hispanic": "latino",
    "other": "south_asian",
}


def main() -> None:
    genes = {}
    for gene, (residual, table) in FREQUENCIES.items():
        by_pop = {
            pop: {name: row[i] for name, row in table.items()} for i, pop in enumerate(POPULATIONS)
        }
        for pop, freqs in by_pop.items():
            total = sum(freqs.values())
            if total >= 1.0:
                raise SystemExit(f"{gene} {pop}: frequencies sum to {total} >= 1")
        genes[gene] = {"residual": residual, "frequencies": by_pop}
    write_knowledge(
        "synth/pgx_allele_frequencies",
        {"populations": POPULATIONS, "group_map": GROUP_MAP, "genes": genes},
        source=(
            "Approximate, rounded allele frequencies consistent with the CPIC allele frequency "
            "tables (CPIC guideline supplements via PharmGKB/ClinPGx), by CPIC biogeographic group"
        ),
        version="2026-11-22 (hand-compiled approximation)",
        licence="CC0 (CPIC data); compilation Apache-2.0",
        generated_by="tools/build_synth_pgx_frequencies.py",
        notice="APPROXIMATION for synthetic data generation only; not for clinical use.",
    )


if __name__ == "__main__":
    main()
