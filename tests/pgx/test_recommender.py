"""CPIC recommender: one clinical expectation per guideline file, checked against the source file.

Each case names a guideline file, a drug and a lookup key, and states what CPIC says for it as
pmed's action category (written here from the guideline, not computed): the test checks that the
key exists in the CPIC file (tests/data/pgx/cpic, CC0) with the expected strength, and that
`recommend()` returns the expected action and dose numbers.
"""

from __future__ import annotations

import html
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from pmed.errors import NotFoundError
from pmed.findings import FindingKind, Severity
from pmed.knowledge import load
from pmed.pgx import DrugRecommendation, drugs, recommend, to_findings

CPIC_DIR = Path(__file__).resolve().parents[1] / "data" / "pgx" / "cpic"

#: (file stem after "CPIC_", drug, lookup, population or None, action, strength, facts to check)
CASES: list[tuple[str, str, dict[str, str], str | None, str, str | None, dict[str, Any]]] = [
    ("abacavir_and_HLA_B", "abacavir", {"HLA-B": "*57:01 positive"}, None, "avoid", "strong", {}),
    ("allopurinol_and_HLA_B", "allopurinol", {"HLA-B": "*58:01 positive"}, None, "avoid",
     "strong", {}),
    (
        "amikacin_gentamicin_kanamycin_paromomycin_plazomicin_streptomycin_tobramycin_and_MT_RNR1",
        "gentamicin",
        {"MT-RNR1": "increased risk of aminoglycoside-induced hearing loss"},
        None, "avoid", "strong", {},
    ),
    (
        "amitriptyline_and_CYP2C19_CYP2D6", "amitriptyline",
        {"CYP2C19": "Normal Metabolizer", "CYP2D6": "0.0"},
        None, "avoid", "strong", {"if_used": {"action": "reduce-dose", "dose_factor": 0.5}},
    ),
    ("atazanavir_and_UGT1A1", "atazanavir", {"UGT1A1": "Poor Metabolizer"}, None,
     "consider-alternative", "strong", {}),
    ("atomoxetine_and_CYP2D6", "atomoxetine", {"CYP2D6": "0.0"}, "adults",
     "titrate-with-monitoring", "moderate", {"monitoring": ["therapeutic-drug-monitoring"]}),
    ("atorvastatin_and_SLCO1B1", "atorvastatin", {"SLCO1B1": "Poor Function"}, None,
     "limit-dose", "moderate", {"max_dose_mg": 20.0}),
    (
        "azathioprine_and_NUDT15_TPMT", "azathioprine",
        {"TPMT": "Poor Metabolizer", "NUDT15": "Normal Metabolizer"}, None, "reduce-dose", "strong",
        {"dose_factor": 0.1, "dose_frequency": "three times weekly"},
    ),
    ("capecitabine_and_DPYD", "capecitabine", {"DPYD": "1.0"}, None, "reduce-dose", "strong",
     {"dose_factor": 0.5}),
    (
        "carbamazepine_and_HLA_A_HLA_B", "carbamazepine",
        {"HLA-A": "*31:01 negative", "HLA-B": "*15:02 positive"}, "CBZ naive", "avoid", "strong",
        {},
    ),
    (
        "celecoxib_flurbiprofen_ibuprofen_lornoxicam_and_CYP2C9", "celecoxib", {"CYP2C9": "0.0"},
        None, "reduce-dose", "moderate",
        {"dose_factor_range": [0.25, 0.5], "dose_basis": "lowest-recommended-starting-dose"},
    ),
    ("citalopram_escitalopram_and_CYP2C19", "citalopram", {"CYP2C19": "Poor Metabolizer"}, None,
     "consider-alternative", "strong", {"if_used": {"action": "reduce-dose"}}),
    (
        "clomipramine_and_CYP2C19_CYP2D6", "clomipramine",
        {"CYP2C19": "Normal Metabolizer", "CYP2D6": "1.0"}, None, "reduce-dose", "optional",
        {"dose_factor": 0.75},
    ),
    ("clopidogrel_and_CYP2C19", "clopidogrel", {"CYP2C19": "Poor Metabolizer"}, "CVI ACS PCI",
     "use-alternative", "strong", {}),
    ("codeine_and_CYP2D6", "codeine", {"CYP2D6": "0.0"}, None, "avoid", "strong", {}),
    (
        "dapsone_methylene_blue_pegloticase_rasburicase_tafenoquine_toluidine_blue_and_G6PD",
        "rasburicase", {"G6PD": "Deficient"}, None, "avoid", "strong", {},
    ),
    (
        "desflurane_enflurane_halothane_isoflurane_methoxyflurane_sevoflurane_succinylcholine_and_CACNA1S_RYR1",
        "sevoflurane",
        {"RYR1": "Malignant Hyperthermia Susceptibility", "CACNA1S": "Uncertain Susceptibility"},
        None, "avoid", "strong", {},
    ),
    ("desipramine_and_CYP2D6", "desipramine", {"CYP2D6": "≥3.25"}, None, "avoid", "optional", {}),
    ("dexlansoprazole_and_CYP2C19", "dexlansoprazole", {"CYP2C19": "Ultrarapid Metabolizer"},
     None, "increase-dose", "optional", {"dose_factor": 2.0}),
    (
        "doxepin_and_CYP2C19_CYP2D6", "doxepin",
        {"CYP2C19": "Normal Metabolizer", "CYP2D6": "2.0"}, None, "use-label-dose", "strong", {},
    ),
    ("efavirenz_and_CYP2B6", "efavirenz", {"CYP2B6": "Poor Metabolizer"}, None, "reduce-dose",
     "moderate", {"dose": {"value": 400.0, "unit": "mg/day"}, "dose_alternatives": [200.0]}),
    ("fluorouracil_and_DPYD", "fluorouracil", {"DPYD": "1.0"}, None, "reduce-dose", "strong",
     {"dose_factor": 0.5}),
    (
        "fluvastatin_and_CYP2C9_SLCO1B1", "fluvastatin",
        {"CYP2C9": "0.0", "SLCO1B1": "Normal Function"}, None, "limit-dose", "moderate",
        {"max_dose_mg": 20.0},
    ),
    ("fluvoxamine_and_CYP2D6", "fluvoxamine", {"CYP2D6": "0.0"}, None, "reduce-dose", "optional",
     {"dose_factor_range": [0.5, 0.75]}),
    (
        "fosphenytoin_phenytoin_and_CYP2C9_HLA_B", "phenytoin",
        {"CYP2C9": "1.0", "HLA-B": "*15:02 negative"}, "PHT naive", "reduce-dose", "moderate",
        {"dose_factor": 0.75, "dose_applies_to": "maintenance"},
    ),
    ("hydrocodone_and_CYP2D6", "hydrocodone", {"CYP2D6": "0.0"}, None, "use-label-dose",
     "optional", {}),
    (
        "imipramine_and_CYP2C19_CYP2D6", "imipramine",
        {"CYP2C19": "Ultrarapid Metabolizer", "CYP2D6": "2.0"}, None, "consider-alternative",
        "optional", {"if_used": {"action": "titrate-with-monitoring"}},
    ),
    ("ivacaftor_and_CFTR", "ivacaftor", {"CFTR": "ivacaftor responsive in CF patients"}, None,
     "use-label-dose", "moderate", {}),
    ("lansoprazole_omeprazole_pantoprazole_and_CYP2C19", "omeprazole",
     {"CYP2C19": "Poor Metabolizer"}, None, "reduce-dose", "moderate",
     {"dose_applies_to": "maintenance"}),
    ("lovastatin_and_SLCO1B1", "lovastatin", {"SLCO1B1": "Poor Function"}, None,
     "use-alternative", "moderate", {}),
    ("meloxicam_and_CYP2C9", "meloxicam", {"CYP2C9": "0.0"}, None, "use-alternative",
     "moderate", {}),
    (
        "mercaptopurine_and_NUDT15_TPMT", "mercaptopurine",
        {"TPMT": "Normal Metabolizer", "NUDT15": "Poor Metabolizer"}, None, "reduce-dose", "strong",
        {"dose": {"value": 10.0, "unit": "mg/m2/day"}},
    ),
    ("nitrofurantoin_and_G6PD", "nitrofurantoin", {"G6PD": "Deficient"}, None,
     "use-with-caution", "optional", {"monitoring": ["anemia"]}),
    ("nortriptyline_and_CYP2D6", "nortriptyline", {"CYP2D6": "1.0"}, None, "reduce-dose",
     "optional", {"dose_factor": 0.75}),
    ("ondansetron_and_CYP2D6", "ondansetron", {"CYP2D6": "≥3.25"}, None, "use-alternative",
     "moderate", {}),
    ("oxcarbazepine_and_HLA_B", "oxcarbazepine", {"HLA-B": "*15:02 positive"}, "OXC naive",
     "avoid", "strong", {}),
    ("paroxetine_and_CYP2D6", "paroxetine", {"CYP2D6": "0.0"}, None, "reduce-dose", "moderate",
     {"dose_factor": 0.5}),
    ("peginterferon_alfa_2a_peginterferon_alfa_2b_ribavirin_and_IFNL3", "peginterferon alfa-2a",
     {"IFNL3": "Favorable response genotype"}, None, "use-label-dose", "strong", {}),
    ("piroxicam_and_CYP2C9", "piroxicam", {"CYP2C9": "0.0"}, None, "use-alternative",
     "moderate", {}),
    ("pitavastatin_and_SLCO1B1", "pitavastatin", {"SLCO1B1": "Poor Function"}, None,
     "limit-dose", "moderate", {"max_dose_mg": 1.0}),
    ("pravastatin_and_SLCO1B1", "pravastatin", {"SLCO1B1": "Poor Function"}, None, "limit-dose",
     "moderate", {"max_dose_mg": 40.0}),
    ("primaquine_and_G6PD", "primaquine", {"G6PD": "Deficient"}, None, "avoid", "strong", {}),
    (
        "rosuvastatin_and_ABCG2_SLCO1B1", "rosuvastatin",
        {"ABCG2": "Normal Function", "SLCO1B1": "Poor Function"}, None, "limit-dose", "moderate",
        {"max_dose_mg": 20.0},
    ),
    (
        "sertraline_and_CYP2B6_CYP2C19", "sertraline",
        {"CYP2B6": "Normal Metabolizer", "CYP2C19": "Poor Metabolizer"}, None, "reduce-dose",
        "moderate", {"dose_factor": 0.5, "dose_applies_to": "maintenance"},
    ),
    ("simvastatin_and_SLCO1B1", "simvastatin", {"SLCO1B1": "Poor Function"}, None,
     "use-alternative", "strong", {}),
    ("tacrolimus_and_CYP3A5", "tacrolimus", {"CYP3A5": "Normal Metabolizer"}, None,
     "increase-dose", "strong", {"dose_factor_range": [1.5, 2.0]}),
    ("tamoxifen_and_CYP2D6", "tamoxifen", {"CYP2D6": "0.0"}, None, "use-alternative", "strong",
     {}),
    ("tenoxicam_and_CYP2C9", "tenoxicam", {"CYP2C9": "0.0"}, None, "use-alternative",
     "optional", {}),
    (
        "thioguanine_and_NUDT15_TPMT", "thioguanine",
        {"TPMT": "Intermediate Metabolizer", "NUDT15": "Normal Metabolizer"}, None,
        "reduce-dose", "moderate", {"dose_factor_range": [0.5, 0.8]},
    ),
    ("tramadol_and_CYP2D6", "tramadol", {"CYP2D6": "0.0"}, None, "avoid", "strong", {}),
    (
        "trimipramine_and_CYP2C19_CYP2D6", "trimipramine",
        {"CYP2C19": "Normal Metabolizer", "CYP2D6": "0.0"}, None, "avoid", "optional",
        {"if_used": {"action": "reduce-dose", "dose_factor": 0.5}},
    ),
    ("tropisetron_and_CYP2D6", "tropisetron", {"CYP2D6": "≥3.25"}, None, "use-alternative",
     "moderate", {}),
    ("venlafaxine_and_CYP2D6", "venlafaxine", {"CYP2D6": "0.0"}, None, "consider-alternative",
     "optional", {}),
    ("voriconazole_and_CYP2C19", "voriconazole", {"CYP2C19": "Poor Metabolizer"}, "adults",
     "use-alternative", "moderate", {}),
    ("vortioxetine_and_CYP2D6", "vortioxetine", {"CYP2D6": "0.0"}, None, "reduce-dose",
     "moderate", {"dose_factor": 0.5}),
    ("warfarin_and_CYP2C9_CYP4F2_VKORC1", "warfarin", {"CYP2C9": "1.0", "VKORC1": "-1639 GG"},
     "adults of non-African ancestry", "calculate-dose", "strong", {}),
]  # fmt: skip

#: Guidelines whose PharmCAT package has no lookup-key recommendations (pmed curates them).
CURATED = {
    "peginterferon_alfa_2a_peginterferon_alfa_2b_ribavirin_and_IFNL3",
    "warfarin_and_CYP2C9_CYP4F2_VKORC1",
}


@cache
def _source(stem: str) -> dict[str, Any]:
    return json.loads((CPIC_DIR / f"CPIC_{stem}.json").read_text(encoding="utf-8"))


def _text(raw: str) -> str:
    first = re.split(r"<h\d", raw, maxsplit=1)[0]
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", first))).strip()


def _pick(recs: list[DrugRecommendation], population: str | None) -> DrugRecommendation:
    chosen = [r for r in recs if population is None or r.population == population]
    assert len(chosen) == 1, [(r.population, r.action) for r in recs]
    return chosen[0]


def test_every_guideline_file_has_a_case() -> None:
    files = sorted(p.name for p in CPIC_DIR.glob("CPIC_*.json"))
    assert len(files) == 56
    assert sorted(f"CPIC_{case[0]}.json" for case in CASES) == files


@pytest.mark.parametrize("case", CASES, ids=[c[1] for c in CASES])
def test_guideline_key_gives_expected_action(case: tuple[Any, ...]) -> None:
    stem, drug, lookup, population, action, strength, facts = case
    source = _source(stem)
    if stem in CURATED:
        assert source["recommendations"] == []
    else:
        matches = [
            r
            for r in source["recommendations"]
            if r["relatedChemicals"][0]["name"] == drug
            and r["lookupKey"] == lookup
            and (population is None or r["population"] == population)
        ]
        assert len(matches) == 1, f"{drug} {lookup} not a single CPIC entry"
        assert matches[0]["classification"]["term"].lower() == strength
    rec = _pick(recommend(lookup, [drug]), population)
    assert rec.action == action
    assert rec.strength == strength
    assert rec.lookup_key == lookup or rec.curated
    for key, expected in facts.items():
        got = rec.facts.get(key)
        if isinstance(expected, dict):
            assert isinstance(got, dict)
            assert {k: got.get(k) for k in expected} == expected
        else:
            assert got == expected, key
    assert rec.summary.count(drug) >= 1
    assert rec.guideline.url.startswith("https://")


def test_shipped_knowledge_keeps_no_cpic_recommendation_text() -> None:
    shipped = json.dumps(load("pgx/cpic_recommendations").data, ensure_ascii=False)
    leaked = set()
    for path in CPIC_DIR.glob("CPIC_*.json"):
        for rec in json.loads(path.read_text(encoding="utf-8"))["recommendations"]:
            text = _text(rec["text"]["html"])
            for sentence in re.split(r"(?<=\.)\s+", text):
                if len(sentence) > 40 and sentence in shipped:
                    leaked.add(sentence)
            for implication in rec.get("implications") or []:
                if len(implication) > 40 and implication in shipped:
                    leaked.add(implication)
    assert not leaked


def test_every_parsed_recommendation_has_a_specific_action() -> None:
    data = load("pgx/cpic_recommendations").data
    generic = [r["source_id"] for r in data["recommendations"] if r["action"] == "see-guideline"]
    assert generic == []
    provenance = load("pgx/cpic_recommendations").provenance
    assert "CC0" in provenance.licence


def test_dpyd_zero_activity_avoids_fluorouracil() -> None:
    (rec,) = recommend({"DPYD": "0.0"}, ["fluorouracil"])
    assert rec.action == "avoid"
    assert rec.severity is Severity.HIGH


def test_hla_b_diplotype_is_read_as_allele_status() -> None:
    (positive,) = recommend({"HLA-B": "*57:01/*08:01"}, ["abacavir"])
    (negative,) = recommend({"HLA-B": "*08:01/*44:02"}, ["abacavir"])
    assert positive.action == "avoid"
    assert negative.action == "use-label-dose"


def test_cyp2d6_score_above_listed_scores_uses_the_at_least_key() -> None:
    (rec,) = recommend({"CYP2D6": "3.25"}, ["codeine"])
    assert rec.lookup_key == {"CYP2D6": "≥3.25"}
    assert rec.action == "avoid"
    (exact,) = recommend({"CYP2D6": "1.0"}, ["codeine"])
    assert exact.lookup_key == {"CYP2D6": "1.0"}
    assert exact.action == "use-label-dose"


def test_two_gene_drug_with_one_gene_untested_uses_cpic_no_result_entry() -> None:
    (rec,) = recommend({"TPMT": "Poor Metabolizer"}, ["azathioprine"])
    assert rec.lookup_key == {"TPMT": "Poor Metabolizer", "NUDT15": "No Result"}
    assert rec.missing_genes == ["NUDT15"]
    assert rec.action == "reduce-dose"


def test_missing_gene_without_cpic_entry_names_the_gene_needed() -> None:
    (warfarin,) = recommend({"CYP2C9": "1.0"}, ["warfarin"])
    assert warfarin.action == "needs-genotype"
    assert warfarin.missing_genes == ["VKORC1"]
    assert "VKORC1" in warfarin.summary
    (codeine,) = recommend({}, ["codeine"])
    assert codeine.action == "needs-genotype"
    assert codeine.missing_genes == ["CYP2D6"]


def test_hla_b_status_for_another_allele_is_not_guessed() -> None:
    (rec,) = recommend({"HLA-A": "*31:01 negative", "HLA-B": "*57:01 positive"}, ["carbamazepine"])
    assert rec.action == "needs-genotype"
    assert rec.missing_genes == ["HLA-B"]
    assert any("*15:02" in note for note in rec.notes)


def test_result_outside_the_guideline_is_not_covered() -> None:
    (rec,) = recommend({"CYP2C19": "Slow Metabolizer"}, ["clopidogrel"])
    assert rec.action == "not-covered"
    assert any("Poor Metabolizer" in note for note in rec.notes)


def test_unknown_drug_lists_close_names() -> None:
    with pytest.raises(NotFoundError, match="clopidogrel"):
        recommend({"CYP2C19": "Poor Metabolizer"}, ["clopidogrl"])


def test_without_drug_list_every_drug_of_the_given_genes_is_returned() -> None:
    recs = recommend({"CYP2C19": "Normal Metabolizer"})
    names = {r.drug for r in recs}
    assert {"clopidogrel", "citalopram", "voriconazole", "omeprazole"} <= names
    assert "codeine" not in names


def test_drugs_lists_rxnorm_and_guideline() -> None:
    infos = {d.name: d for d in drugs()}
    assert len(infos) >= 80
    assert infos["clopidogrel"].rxnorm == "32968"
    assert infos["clopidogrel"].genes == ["CYP2C19"]
    assert infos["warfarin"].guideline.url.startswith("https://cpicpgx.org/")
    assert all(d.guideline.url for d in infos.values())


def test_recommendations_become_findings_with_rxnorm_and_citation() -> None:
    recs = recommend({"CYP2C19": "Poor Metabolizer"}, ["clopidogrel"])
    findings = to_findings(recs, subject="Patient/p1")
    acs = next(f for f in findings if f.details["population"] == "CVI ACS PCI")
    assert acs.kind is FindingKind.RECOMMENDATION
    assert acs.code.code == "32968"
    assert acs.code.system == "http://www.nlm.nih.gov/research/umls/rxnorm"
    assert acs.severity is Severity.HIGH
    assert (
        acs.evidence[0].url
        == "https://cpicpgx.org/guidelines/guideline-for-clopidogrel-and-cyp2c19/"
    )
    assert acs.evidence[0].strength == "strong"
    assert "pgx/cpic_recommendations" in acs.provenance.knowledge
    json.dumps(recs[0].to_dict())  # serialisable


def _group() -> click.Group:
    from pmed.cli.commands._pgx_recommend import register

    group = click.Group("pgx")
    register(group)
    return group


def test_cli_drugs_json() -> None:
    result = CliRunner().invoke(_group(), ["drugs", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert any(r["name"] == "abacavir" and r["rxnorm"] == "190521" for r in rows)


def test_cli_recommend_from_lookup_json() -> None:
    result = CliRunner().invoke(
        _group(),
        ["recommend", "--lookup", "DPYD=1.0", "--drug", "fluorouracil", "--json"],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    (rec,) = report["recommendations"]
    assert rec["action"] == "reduce-dose"
    assert rec["facts"]["dose_factor"] == 0.5


def test_cli_recommend_rejects_malformed_lookup() -> None:
    result = CliRunner().invoke(_group(), ["recommend", "--lookup", "DPYD"])
    assert result.exit_code == 2


def test_cli_recommend_from_vcf_uses_the_called_activity_score() -> None:
    vcf = Path(__file__).resolve().parents[1] / "data" / "pgx" / "test-vcfs" / "DPYD"
    result = CliRunner().invoke(
        _group(),
        ["recommend", "--vcf", str(vcf / "c2846het.vcf"), "--drug", "fluorouracil", "--json"],
    )
    assert result.exit_code == 0, result.output
    (entry,) = json.loads(result.output)
    assert entry["lookup"]["DPYD"] == "1.5"
    (rec,) = entry["recommendations"]
    assert rec["action"] == "reduce-dose"
    assert rec["facts"]["dose_factor"] == 0.5


def test_cyp4f2_diplotype_stands_in_for_carrier_key() -> None:
    from pmed.pgx import GeneCall, SampleCalls, lookup_from_calls

    calls = SampleCalls(
        sample="s",
        genes={
            "CYP2C9": GeneCall(gene="CYP2C9", diplotypes=["*1/*1"], lookup_key="2.0"),
            "VKORC1": GeneCall(gene="VKORC1", diplotypes=["x"], lookup_key="-1639 GG"),
            "CYP4F2": GeneCall(gene="CYP4F2", diplotypes=["*1/*3"]),
        },
    )
    lookup = lookup_from_calls(calls)
    assert lookup["CYP4F2"] == "*1/*3"
    increase = [r for r in recommend(lookup, ["warfarin"]) if r.action == "increase-dose"]
    assert [r.facts["dose_factor_range"] for r in increase] == [[1.05, 1.1]]


def test_likely_phenotype_uses_confirmed_entry_when_cpic_has_no_likely_entry() -> None:
    (rec,) = recommend({"CYP2B6": "Likely Poor Metabolizer"}, ["efavirenz"])
    assert rec.lookup_key == {"CYP2B6": "Poor Metabolizer"}
    assert rec.action == "reduce-dose"
    assert any("read as CPIC's 'Poor Metabolizer'" in note for note in rec.notes)
