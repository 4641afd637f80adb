"""Small builders for test VCFs: records from allele definitions, BGZF writing, tabix indexing."""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from collections.abc import Iterable, Sequence
from pathlib import Path

from pmed.pgx.definitions import GeneDefinition, gene_definitions

HEADER_38 = "##fileformat=VCFv4.2\n##reference=GRCh38\n"
HEADER_37 = "##fileformat=VCFv4.2\n##reference=GRCh37\n"


def gene(name: str) -> GeneDefinition:
    return gene_definitions()[name]


def allele_bases(g: GeneDefinition, name: str) -> list[str]:
    a = next(x for x in g.alleles if x.name == name)
    pairs = zip(a.accepts, g.variants, strict=True)
    return [v.ref if v.ref in acc else sorted(acc)[0] for acc, v in pairs]


def records_for(
    g: GeneDefinition,
    strands: Sequence[Sequence[str]],
    *,
    sep: str = "/",
    build: str = "GRCh38",
    chr_prefix: bool = True,
    ps: int | None = None,
) -> list[str]:
    """One VCF line per definition position, GT built from per-strand bases (one sample)."""
    chrom = g.chromosome if chr_prefix else g.chromosome.removeprefix("chr")
    lines = []
    for i, v in enumerate(g.variants):
        pos = v.position if build == "GRCh38" else v.grch37_position
        ref = v.ref if build == "GRCh38" else (v.grch37_ref or v.ref)
        bases = [s[i] for s in strands]
        alts: list[str] = []
        idx = []
        for b in bases:
            if b == ref:
                idx.append("0")
            else:
                if b not in alts:
                    alts.append(b)
                idx.append(str(alts.index(b) + 1))
        fmt, sample = "GT", sep.join(idx)
        if ps is not None:
            fmt, sample = "GT:PS", f"{sample}:{ps}"
        lines.append(
            f"{chrom}\t{pos}\t{v.rsid or '.'}\t{ref}\t{','.join(alts) or '.'}"
            f"\t.\tPASS\t.\t{fmt}\t{sample}"
        )
    return lines


def write_vcf(
    path: Path, lines: Iterable[str], samples: Sequence[str] = ("S1",), *, header: str = HEADER_38
) -> Path:
    cols = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t" + "\t".join(samples)
    text = header + cols + "\n" + "".join(line + "\n" for line in lines)
    path.write_text(text)
    return path


def _bgzf_block(data: bytes) -> bytes:
    comp = zlib.compressobj(6, zlib.DEFLATED, -15)
    body = comp.compress(data) + comp.flush()
    header = struct.pack("<BBBBIBBHBBHH", 31, 139, 8, 4, 0, 0, 255, 6, 66, 67, 2, len(body) + 25)
    return header + body + struct.pack("<II", zlib.crc32(data), len(data))


def bgzip(src: Path, dest: Path | None = None) -> Path:
    """Write `src` as BGZF (SAMv1 §4.1) to `src + .gz`, pure Python."""
    dest = dest or src.with_name(src.name + ".gz")
    data = src.read_bytes()
    with dest.open("wb") as out:
        for start in range(0, len(data), 60_000):
            out.write(_bgzf_block(data[start : start + 60_000]))
        out.write(_bgzf_block(b""))
    return dest


def tabix(path: Path, csi: bool = False) -> Path | None:
    """Index with htslib's tabix when installed (None otherwise)."""
    exe = shutil.which("tabix")
    if exe is None:
        return None
    subprocess.run([exe, "-f", "-p", "vcf", *(["-C"] if csi else []), str(path)], check=True)
    return path.with_name(path.name + (".csi" if csi else ".tbi"))
