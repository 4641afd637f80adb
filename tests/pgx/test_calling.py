"""Matcher, phenotyper, outside calls, findings and CLI, as clinical specifications."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from pmed.cli import cli
from pmed.findings import FindingKind
from pmed.pgx import call, gene_findings, outside_call
from pmed.pgx.calling import vcf_genes
from pmed.pgx.gene_rules import call_gene
from pmed.pgx.models import Genotype
from tests.pgx.vcf_builder import allele_bases, gene, records_for, write_vcf

DATA = Path(__file__).parents[1] / "data" / "pgx" / "test-vcfs"


def test_heterozygous_at_every_position_of_every_gene_returns_quickly() -> None:
    for g in vcf_genes():
        gts = [Genotype((v.ref, v.alts[0] if v.alts else v.ref)) for v in g.variants]
        start = time.process_time()
        call_gene(g, gts)
        assert time.process_time() - start < 1.0, g.gene


def test_heterozygous_everywhere_vcf_end_to_end_is_fast(tmp_path: Path) -> None:
    lines = []
    for g in vcf_genes():
        for line in records_for(
            g, [[v.ref for v in g.variants], [v.alts[0] if v.alts else v.ref for v in g.variants]]
        ):
            lines.append(line)
    vcf = write_vcf(tmp_path / "het.vcf", lines)
    start = time.process_time()
    call(vcf)
    assert time.process_time() - start < 5.0


def test_dpyd_three_unphased_variants_use_the_two_lowest_function_alleles() -> None:
    dpyd = gene("DPYD")
    names = ["c.1905+1G>A (*2A)", "c.2846A>T", "c.1679T>G (*13)"]
    pats = [allele_bases(dpyd, n) for n in names]
    gts = []
    for i, v in enumerate(dpyd.variants):
        alt = next((p[i] for p in pats if p[i] != v.ref), None)
        gts.append(Genotype((v.ref, alt) if alt else (v.ref, v.ref)))
    m = call_gene(dpyd, gts, {"c.1905+1G>A (*2A)": 0.0, "c.2846A>T": 0.5, "c.1679T>G (*13)": 0.0})
    assert m.diplotypes == [("c.1679T>G (*13)", "c.1905+1G>A (*2A)")]
    assert any("lowest-function" in n for n in m.notes)


def test_nat2_missing_required_position_gives_no_call() -> None:
    nat2 = gene("NAT2")
    gts = [
        None if v.position in nat2.required_positions else Genotype((v.ref, v.ref))
        for v in nat2.variants
    ]
    m = call_gene(nat2, gts)
    assert m.diplotypes == []
    assert "required positions missing" in m.notes[0]


def test_slco1b1_rs4149056_alone_gives_decreased_function(tmp_path: Path) -> None:
    r = call(DATA / "SLCO1B1" / "multi.vcf")[0].genes["SLCO1B1"]
    assert r.phenotype == "Decreased Function"


def test_vkorc1_rs9923231_het_is_lookup_key_ag() -> None:
    r = call(DATA / "VKORC1" / "-1639G-1639A.vcf")[0].genes["VKORC1"]
    assert r.lookup_key == "-1639 AG"


def test_outside_cyp2d6_star1_star4_is_intermediate_with_activity_1() -> None:
    c = outside_call("CYP2D6", "*1/*4")
    assert c.activity_score == "1.0"
    assert c.phenotype == "Intermediate Metabolizer"
    assert c.lookup_key == "1.0"
    dup = outside_call("CYP2D6", "*1x2/*2")
    assert dup.activity_score == "3.0" and dup.phenotype == "Ultrarapid Metabolizer"


def test_outside_hla_b_5701_carrier_is_positive_for_abacavir_key() -> None:
    c = outside_call("HLA-B", "*57:01/*44:02")
    assert c.lookup_key is not None
    assert "*57:01 positive" in c.lookup_key and "*58:01 negative" in c.lookup_key


def test_outside_tsv_overrides_a_vcf_gene_and_adds_cyp2d6(tmp_path: Path) -> None:
    tsv = tmp_path / "outside.tsv"
    tsv.write_text("CYP2D6\t*4/*4\nCYP2C19\t\tPoor Metabolizer\nMT-RNR1\tm.1555A>G\n")
    r = call(DATA / "cyp2c19" / "s1s17.vcf", outside=tsv)[0]
    assert r.genes["CYP2D6"].phenotype == "Poor Metabolizer"
    assert r.genes["CYP2D6"].activity_score == "0.0"
    assert r.genes["CYP2C19"].source == "outside"
    assert r.genes["CYP2C19"].phenotype == "Poor Metabolizer"
    assert r.genes["MT-RNR1"].phenotype is not None


def test_findings_carry_genotype_and_phenotype_per_called_gene() -> None:
    r = call(DATA / "cyp2c19" / "s1s2.vcf")[0]
    findings = gene_findings(r, subject="Patient/p1")
    kinds = {(f.details["gene"], f.kind) for f in findings}
    assert ("CYP2C19", FindingKind.GENOTYPE) in kinds
    assert ("CYP2C19", FindingKind.PHENOTYPE) in kinds
    geno = next(f for f in findings if f.kind == FindingKind.GENOTYPE)
    assert geno.value == "*1/*2" and geno.code.code == "84413-4"


def test_cli_tsv_has_one_row_per_sample_and_gene_with_ties_joined() -> None:
    vcf = DATA / "cyp2c19" / "s4bs17rs28399504missing.vcf"
    out = CliRunner().invoke(cli, ["pgx", "call", str(vcf), "--format", "tsv"])
    assert out.exit_code == 0, out.output
    rows = [line.split("\t") for line in out.output.splitlines()]
    header = rows[0]
    for col in ("sample", "gene", "diplotype", "phenotype", "activity_score", "missing_positions"):
        assert col in header
    body = {r[1]: dict(zip(header, r, strict=True)) for r in rows[1:]}
    assert len(body) == len(vcf_genes())
    assert body["CYP2C19"]["diplotype"] == "*4/*4; *4/*17; *17/*17"


def test_cli_json_and_fhir_outputs(tmp_path: Path) -> None:
    vcf = DATA / "cyp2c19" / "s1s2.vcf"
    out = CliRunner().invoke(cli, ["pgx", "call", str(vcf), "--format", "json"])
    data = json.loads(out.output)
    assert data[0]["genes"]["CYP2C19"]["diplotypes"] == ["*1/*2"]
    out = CliRunner().invoke(cli, ["pgx", "call", str(vcf), "--format", "fhir", "--patient", "p1"])
    bundle = json.loads(out.output)
    codes = {e["resource"]["code"]["coding"][0]["code"] for e in bundle["entry"]}
    assert codes == {"84413-4", "53040-2"}
    assert all(e["resource"]["subject"]["reference"] == "Patient/p1" for e in bundle["entry"])


def test_cli_bad_input_exits_2_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pmed.cli import main

    bad = tmp_path / "x.vcf"
    bad.write_text("not a vcf\n")
    with pytest.raises(SystemExit) as exc:
        main(["pgx", "call", str(bad)])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "not a VCF" in err and "x.vcf" in err and "Traceback" not in err


def test_grch37_phased_sample_round_trip(tmp_path: Path) -> None:
    tpmt = gene("TPMT")
    lines = records_for(
        tpmt, [allele_bases(tpmt, "*3B"), allele_bases(tpmt, "*3C")], sep="|", build="GRCh37"
    )
    r = call(write_vcf(tmp_path / "t37.vcf", lines, header="##fileformat=VCFv4.2\n"))[0]
    assert r.build == "GRCh37"
    assert r.genes["TPMT"].diplotypes == ["*3B/*3C"]


def test_cyp2c9_rs12777823_is_reported_as_an_extra_position(tmp_path: Path) -> None:
    vcf = tmp_path / "x.vcf"
    vcf.write_text(
        "##fileformat=VCFv4.2\n##reference=GRCh38\n"
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS\n"
        "chr10\t94645745\trs12777823\tG\tA\t.\tPASS\t.\tGT\t0/1\n"
        "chr10\t94942290\trs1799853\tC\tT\t.\tPASS\t.\tGT\t0/1\n"
    )
    c = call(vcf)[0].genes["CYP2C9"]
    assert c.variants["rs12777823"] == "G/A"
    assert "*1/*2" in c.diplotypes  # other positions missing: ties remain possible


def test_dpyd_two_variants_in_cis_count_as_the_lowest_activity_haplotype() -> None:
    from pmed.pgx.phenotyper import phenotype_of

    p = phenotype_of("DPYD", [("Reference", "[c.1905+1G>A (*2A) + c.2846A>T]")])
    assert p.activity_score == "1.0"
    assert p.phenotype == "Intermediate Metabolizer"
