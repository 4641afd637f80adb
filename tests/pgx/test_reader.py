"""The VCF reader and build check: formats, genotypes and bad input (VCFv4.3 spec; PharmCAT's
preprocessor behaviour for gVCF blocks)."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest

from pmed.errors import InputError
from pmed.pgx import call
from tests.pgx.vcf_builder import (
    HEADER_37,
    allele_bases,
    bgzip,
    gene,
    records_for,
    tabix,
    write_vcf,
)

CYP2C19 = gene("CYP2C19")


def _s1s2(tmp_path: Path, name: str = "s.vcf", **kw: object) -> Path:
    lines = records_for(CYP2C19, [allele_bases(CYP2C19, "*1"), allele_bases(CYP2C19, "*2")], **kw)  # type: ignore[arg-type]
    return write_vcf(tmp_path / name, lines)


def test_cyp2c19_star1_star2_is_intermediate_metabolizer(tmp_path: Path) -> None:
    c = call(_s1s2(tmp_path))[0].genes["CYP2C19"]
    assert c.diplotypes == ["*1/*2"]
    assert c.phenotype == "Intermediate Metabolizer"
    assert c.missing_positions == []


def test_chromosome_names_without_chr_prefix_give_the_same_call(tmp_path: Path) -> None:
    c = call(_s1s2(tmp_path, chr_prefix=False))[0].genes["CYP2C19"]
    assert c.diplotypes == ["*1/*2"]


def test_bgzipped_vcf_with_and_without_index(tmp_path: Path) -> None:
    gz = bgzip(_s1s2(tmp_path))
    assert call(gz)[0].genes["CYP2C19"].diplotypes == ["*1/*2"]
    if tabix(gz) is None:
        pytest.skip("htslib tabix not installed")
    assert call(gz)[0].genes["CYP2C19"].diplotypes == ["*1/*2"]
    gz.with_name(gz.name + ".tbi").unlink()
    tabix(gz, csi=True)
    assert call(gz)[0].genes["CYP2C19"].diplotypes == ["*1/*2"]


def test_indexed_whole_genome_vcf_is_read_only_at_pgx_regions(tmp_path: Path) -> None:
    if shutil.which("tabix") is None:
        pytest.skip("htslib tabix not installed")
    body = [f"chr1\t{p}\t.\tA\tG\t.\tPASS\t.\tGT\t0/1" for p in range(1_000, 2_000_000, 97)]
    pgx = records_for(CYP2C19, [allele_bases(CYP2C19, "*1"), allele_bases(CYP2C19, "*2")])
    tail = [f"chr22\t{p}\t.\tC\tT\t.\tPASS\t.\tGT\t1/1" for p in range(1_000, 500_000, 89)]
    vcf = write_vcf(tmp_path / "wg.vcf", body + pgx + tail)
    gz = bgzip(vcf)
    tabix(gz)
    result = call(gz)[0]
    assert result.genes["CYP2C19"].diplotypes == ["*1/*2"]


def test_gvcf_reference_blocks_count_as_reference(tmp_path: Path) -> None:
    v = CYP2C19.variants
    block = (
        f"chr10\t{v[0].position - 10}\t.\tN\t<NON_REF>\t.\tPASS\tEND={v[-1].position + 10}\tGT\t0/0"
    )
    star2 = allele_bases(CYP2C19, "*2")
    star1 = allele_bases(CYP2C19, "*1")
    # only the positions where *1 or *2 differ from the reference get variant records
    keep = [
        line
        for i, line in enumerate(records_for(CYP2C19, [star1, star2]))
        if star1[i] != v[i].ref or star2[i] != v[i].ref
    ]
    c = call(write_vcf(tmp_path / "g.vcf", [block, *keep]))[0].genes["CYP2C19"]
    assert c.diplotypes == ["*1/*2"]
    assert c.missing_positions == []


def test_multi_sample_vcf_and_sample_selection(tmp_path: Path) -> None:
    s1 = records_for(CYP2C19, [allele_bases(CYP2C19, "*1"), allele_bases(CYP2C19, "*2")])
    s2 = records_for(CYP2C19, [allele_bases(CYP2C19, "*2"), allele_bases(CYP2C19, "*2")])
    lines = []
    for a, b in zip(s1, s2, strict=True):
        fa, fb = a.split("\t"), b.split("\t")
        alts = [x for x in (fa[4].split(",") + fb[4].split(",")) if x != "."]
        alts = list(dict.fromkeys(alts))

        def gt(f: list[str], alts: list[str] = alts) -> str:
            own = [x for x in f[4].split(",") if x != "."]
            return "/".join(
                "0" if i == "0" else str(alts.index(own[int(i) - 1]) + 1) for i in f[9].split("/")
            )

        lines.append("\t".join([*fa[:4], ",".join(alts) or ".", *fa[5:9], gt(fa), gt(fb)]))
    vcf = write_vcf(tmp_path / "m.vcf", lines, samples=("A", "B"))
    results = call(vcf)
    assert [r.sample for r in results] == ["A", "B"]
    assert results[1].genes["CYP2C19"].diplotypes == ["*2/*2"]
    assert results[1].genes["CYP2C19"].phenotype == "Poor Metabolizer"
    only = call(vcf, sample="B")
    assert len(only) == 1 and only[0].genes["CYP2C19"].diplotypes == ["*2/*2"]
    with pytest.raises(InputError, match="sample 'C' not found"):
        call(vcf, sample="C")


def test_wide_vcf_is_read_in_sample_batches_with_the_same_calls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pmed.pgx import calling

    lines = []
    for line in records_for(CYP2C19, [allele_bases(CYP2C19, "*1"), allele_bases(CYP2C19, "*2")]):
        gt = line.rsplit("\t", 1)[1]
        lines.append(line + "\t0/0\t" + gt)
    vcf = write_vcf(tmp_path / "w.vcf", lines, samples=("A", "B", "C"))
    whole = [(r.sample, r.genes["CYP2C19"].diplotypes) for r in call(vcf)]
    monkeypatch.setattr(calling, "SAMPLE_BATCH", 2)
    batched = [(r.sample, r.genes["CYP2C19"].diplotypes) for r in call(vcf)]
    assert batched == whole
    # all-reference CYP2C19 is *38, the reference allele of the current definitions
    assert whole[1][1] == ["*38/*38"] and whole[2][1] == ["*1/*2"]


def test_tpmt_phase_sets_decide_between_star3a_and_star3b_star3c(tmp_path: Path) -> None:
    tpmt = gene("TPMT")
    b, c = allele_bases(tpmt, "*3B"), allele_bases(tpmt, "*3C")
    same_set = records_for(tpmt, [b, c], sep="|", ps=7)
    assert call(write_vcf(tmp_path / "p.vcf", same_set))[0].genes["TPMT"].diplotypes == ["*3B/*3C"]
    unphased = records_for(tpmt, [b, c])
    # unphased: PharmCAT's top candidate, *1/*3A, outscores *3B/*3C
    assert call(write_vcf(tmp_path / "u.vcf", unphased))[0].genes["TPMT"].diplotypes == ["*1/*3A"]
    # two different phase sets do not tell the strands apart either
    lines = records_for(tpmt, [b, c], sep="|", ps=7)
    split = [
        line.replace(":7", ":9")
        if line.split("\t")[1] == str(tpmt.variants[i].position) and c[i] != tpmt.variants[i].ref
        else line
        for i, line in enumerate(lines)
    ]
    got = call(write_vcf(tmp_path / "s.vcf", split))[0].genes["TPMT"].diplotypes
    assert got == ["*1/*3A"]


def test_g6pd_haploid_male_call_is_one_haplotype(tmp_path: Path) -> None:
    g6pd = gene("G6PD")
    bases = allele_bases(g6pd, "A- 202A_376G")
    lines = [
        line.rsplit("\t", 1)[0] + "\t" + ("1" if b != v.ref else "0")
        for line, b, v in zip(records_for(g6pd, [bases, bases]), bases, g6pd.variants, strict=True)
    ]
    c = call(write_vcf(tmp_path / "m.vcf", lines))[0].genes["G6PD"]
    assert c.diplotypes == ["A- 202A_376G"]
    assert c.phenotype == "Deficient"


def test_grch37_vcf_gives_the_same_call_and_says_so(tmp_path: Path) -> None:
    strands = [allele_bases(CYP2C19, "*1"), allele_bases(CYP2C19, "*2")]
    lines = records_for(CYP2C19, strands, build="GRCh37")
    r = call(write_vcf(tmp_path / "b37.vcf", lines, header=HEADER_37))[0]
    assert r.build == "GRCh37"
    assert r.genes["CYP2C19"].diplotypes == ["*1/*2"]
    assert any("GRCh37" in n for n in r.notes)
    # without any header hint the reference alleles decide
    bare = write_vcf(tmp_path / "bare.vcf", lines, header="##fileformat=VCFv4.2\n")
    r2 = call(bare)[0]
    assert r2.build == "GRCh37" and r2.genes["CYP2C19"].diplotypes == ["*1/*2"]


def test_grch37_coordinates_under_a_grch38_header_are_refused(tmp_path: Path) -> None:
    strands = [allele_bases(CYP2C19, "*1"), allele_bases(CYP2C19, "*2")]
    lines = records_for(CYP2C19, strands, build="GRCh37")
    vcf = write_vcf(tmp_path / "wrong.vcf", lines)  # header says GRCh38
    with pytest.raises(InputError, match="wrong genome build") as exc:
        call(vcf)
    assert "wrong.vcf" in str(exc.value)


def test_contradicting_reference_and_contig_lengths_are_refused(tmp_path: Path) -> None:
    header = "##fileformat=VCFv4.2\n##reference=GRCh38\n##contig=<ID=chr10,length=135534747>\n"
    vcf = write_vcf(
        tmp_path / "c.vcf", records_for(CYP2C19, [allele_bases(CYP2C19, "*1")] * 2), header=header
    )
    with pytest.raises(InputError, match="contig"):
        call(vcf)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("hello world\n", "not a VCF"),
        ("", "not a VCF"),
        ("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n", "no sample"),
        (
            "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS\n"
            "chr10\t94781859\t.\tG\tA\t.\tPASS\t.\tDP\t12\n",
            "missing GT",
        ),
        (
            "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS\n"
            "chr3\t1000\t.\tG\tA\t.\tPASS\t.\tGT\t0/1\n",
            "no PGx positions",
        ),
    ],
)
def test_bad_input_is_an_input_error_naming_the_file(
    tmp_path: Path, content: str, reason: str
) -> None:
    path = tmp_path / "bad.vcf"
    path.write_text(content)
    with pytest.raises(InputError, match=reason) as exc:
        call(path)
    assert str(path) in str(exc.value)


def test_truncated_gzip_is_an_input_error(tmp_path: Path) -> None:
    gz = tmp_path / "t.vcf.gz"
    full = gzip.compress(_s1s2(tmp_path).read_bytes() * 20)
    gz.write_bytes(full[: len(full) // 2])
    with pytest.raises(InputError, match=r"truncated|corrupt") as exc:
        call(gz)
    assert "t.vcf.gz" in str(exc.value)


def test_garbled_bcf_is_an_input_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "x.bcf"
    path.write_bytes(gzip.compress(b"BCF\x02\x02" + b"\0" * 20))
    with pytest.raises(InputError, match="BCF") as exc:
        call(path)
    assert "x.bcf" in str(exc.value)


BCF = Path(__file__).parents[1] / "data" / "pgx" / "bcf"


def _summary(path: Path) -> list[tuple[str, dict[str, tuple[list[str], str | None]]]]:
    return [
        (r.sample, {g: (c.diplotypes, c.phenotype) for g, c in r.genes.items() if c.diplotypes})
        for r in call(path)
    ]


def test_bcf_gives_the_same_calls_as_its_vcf_with_and_without_index(tmp_path: Path) -> None:
    want = _summary(BCF / "two_samples.vcf")
    assert want[0][1]["TPMT"] == (["*3B/*3C"], "Poor Metabolizer")  # phased, PS 5
    assert want[0][1]["G6PD"] == (["A- 202A_376G"], "Deficient")  # haploid (male)
    assert want[1][1]["CYP2C19"] == (["*2/*2"], "Poor Metabolizer")
    assert _summary(BCF / "two_samples.bcf") == want  # CSI index beside it
    bare = tmp_path / "copy.bcf"
    shutil.copy(BCF / "two_samples.bcf", bare)
    assert _summary(bare) == want  # streamed
    only_b = call(bare, sample="B")
    assert [r.sample for r in only_b] == ["B"]
    assert only_b[0].genes["CYP2C19"].diplotypes == ["*2/*2"]


def test_missing_positions_are_reported_and_calls_remain(tmp_path: Path) -> None:
    lines = records_for(CYP2C19, [allele_bases(CYP2C19, "*1"), allele_bases(CYP2C19, "*2")])
    kept = lines[5:]
    c = call(write_vcf(tmp_path / "p.vcf", kept))[0].genes["CYP2C19"]
    assert c.missing_positions == sorted(v.position for v in CYP2C19.variants[:5])
    assert c.diplotypes == ["*1/*2"]


def test_record_with_too_few_sample_columns_is_an_input_error(tmp_path: Path) -> None:
    lines = records_for(CYP2C19, [allele_bases(CYP2C19, "*1"), allele_bases(CYP2C19, "*2")])
    vcf = write_vcf(tmp_path / "short.vcf", lines, samples=("A", "B"))
    with pytest.raises(InputError, match="has 1 sample columns, the header names 2"):
        call(vcf, sample="B")
