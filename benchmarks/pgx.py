"""PGx calling benchmark: CPU-seconds per sample end to end, wall time, peak memory.

    .venv/bin/python benchmarks/pgx.py [--samples 10000] [--sites 4000000] [--workdir DIR]

(a) a multi-sample bgzipped VCF with genotypes at every PGx definition position (random pairs
    of named alleles per gene, unphased), `--samples` samples;
(b) a single-sample whole-genome-sized VCF (`--sites` records across chr1-22, X, with the PGx
    positions among them), bgzipped and tabix-indexed (htslib's bgzip/tabix when installed).
Each measurement runs in a fresh subprocess so its peak RSS is its own. Prints one JSON line.
Targets (issue 4): (a) ≤ 0.05 CPU-s per sample; (b) ≤ 2 s wall; peak RSS < 300 MB.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pmed.pgx.calling import vcf_genes


def _pgx_records(rng: random.Random, n_samples: int) -> list[tuple[str, int, str]]:
    """(chrom, pos, line) for every definition position, genotypes for n_samples."""
    out = []
    for g in vcf_genes():
        names = [a for a in g.alleles]
        weights = [50.0 if a.reference or a.name == "*1" else 1.0 for a in names]
        picks = [rng.choices(names, weights, k=2) for _ in range(n_samples)]
        for i, v in enumerate(g.variants):
            alts: list[str] = []
            gts = []
            for a, b in picks:
                idx = []
                for al in (a, b):
                    acc = al.accepts[i]
                    base = v.ref if v.ref in acc else sorted(acc)[0]
                    if base == v.ref:
                        idx.append("0")
                    else:
                        if base not in alts:
                            alts.append(base)
                        idx.append(str(alts.index(base) + 1))
                gts.append("/".join(idx))
            line = (
                f"{g.chromosome}\t{v.position}\t{v.rsid or '.'}\t{v.ref}\t"
                f"{','.join(alts) or '.'}\t.\tPASS\t.\tGT\t" + "\t".join(gts)
            )
            out.append((g.chromosome, v.position, line))
    return out


def _order(chrom: str) -> int:
    c = chrom.removeprefix("chr")
    return int(c) if c.isdigit() else 23 if c == "X" else 24


def _compress(vcf: Path, index: bool) -> Path:
    bgzip, tabix = shutil.which("bgzip"), shutil.which("tabix")
    if bgzip:
        subprocess.run([bgzip, "-f", "-@", "2", str(vcf)], check=True)
        gz = vcf.with_name(vcf.name + ".gz")
    else:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from tests.pgx.vcf_builder import bgzip as py_bgzip

        gz = py_bgzip(vcf)
        vcf.unlink()
    if index and tabix:
        subprocess.run([tabix, "-f", "-p", "vcf", str(gz)], check=True)
    return gz


def make_multi_sample(workdir: Path, n: int) -> Path:
    rng = random.Random(4)
    records = sorted(_pgx_records(rng, n), key=lambda r: (_order(r[0]), r[1]))
    path = workdir / f"multi_{n}.vcf"
    with path.open("w") as fh:
        fh.write("##fileformat=VCFv4.2\n##reference=GRCh38\n")
        fh.write("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t")
        fh.write("\t".join(f"S{i}" for i in range(n)) + "\n")
        for _, _, line in records:
            fh.write(line + "\n")
    return _compress(path, index=False)


def make_whole_genome(workdir: Path, sites: int) -> Path:
    rng = random.Random(5)
    pgx = {(r[0], r[1]): r[2] for r in _pgx_records(rng, 1)}
    chroms = [f"chr{i}" for i in range(1, 23)] + ["chrX"]
    per = sites // len(chroms)
    path = workdir / "genome.vcf"
    bases = "ACGT"
    with path.open("w") as fh:
        fh.write("##fileformat=VCFv4.2\n##reference=GRCh38\n")
        fh.write("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tSAMPLE\n")
        for chrom in chroms:
            wanted = sorted(p for c, p in pgx if c == chrom)
            step = 240_000_000 // per if chrom != "chrX" else 150_000_000 // per
            positions = sorted(set(range(10_000, 10_000 + per * step, step)) | set(wanted))
            buf = []
            for p in positions:
                line = pgx.get((chrom, p))
                if line is None:
                    r = bases[rng.randrange(4)]
                    a = bases[(bases.index(r) + 1 + rng.randrange(3)) % 4]
                    dp = rng.randrange(10, 60)
                    alt_reads = rng.randrange(dp)
                    gt = "0/1" if rng.random() < 0.6 else "1/1"
                    line = (
                        f"{chrom}\t{p}\trs{rng.randrange(1, 10**9)}\t{r}\t{a}\t"
                        f"{rng.randrange(30, 3000)}.{rng.randrange(100)}\tPASS\t"
                        f"AC=1;AF=0.5;AN=2;DP={dp};MQ=60.00;QD={rng.random() * 30:.2f}\t"
                        f"GT:AD:DP:GQ:PL\t{gt}:{dp - alt_reads},{alt_reads}:{dp}:99:"
                        f"{rng.randrange(1000)},0,{rng.randrange(1000)}"
                    )
                buf.append(line)
                if len(buf) >= 100_000:
                    fh.write("\n".join(buf) + "\n")
                    buf = []
            if buf:
                fh.write("\n".join(buf) + "\n")
    return _compress(path, index=True)


def _run_child(vcf: str) -> dict[str, float]:
    """Run in a fresh interpreter: call every sample (and recommend, when available)."""
    t0, c0 = time.perf_counter(), time.process_time()
    import pmed.pgx as pgx

    recommend = getattr(pgx, "recommend", None)
    n = 0
    for sample in pgx.iter_calls(vcf):
        n += 1
        if recommend is not None:
            lookup = {g: c.lookup_key for g, c in sample.genes.items() if c.lookup_key}
            recommend(lookup)
    cpu = time.process_time() - c0
    wall = time.perf_counter() - t0
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "samples": n,
        "cpu_s": cpu,
        "wall_s": wall,
        "process_cpu_s": usage.ru_utime + usage.ru_stime,  # with interpreter start and imports
        "peak_rss_mb": usage.ru_maxrss / 1024,
        "recommend": recommend is not None,
    }


def _measure(vcf: Path) -> dict[str, float]:
    t = time.perf_counter()
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(vcf)], check=True, capture_output=True, text=True
    ).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    result["process_wall_s"] = time.perf_counter() - t
    return result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=10_000)
    ap.add_argument("--sites", type=int, default=4_000_000)
    ap.add_argument("--workdir", type=Path)
    ap.add_argument("--child")
    ap.add_argument("--only", choices=["a", "b"], help="run one of the two measurements")
    args = ap.parse_args()
    if args.child:
        print(json.dumps(_run_child(args.child)))
        return
    result: dict[str, object] = {"benchmark": "pgx"}
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        work = Path(tmp)
        if args.only in (None, "a"):
            t = time.perf_counter()
            multi = make_multi_sample(work, args.samples)
            result["a_generate_s"] = round(time.perf_counter() - t, 1)
            a = _measure(multi)
            multi.unlink()
            n = max(int(a["samples"]), 1)
            result.update(
                a_samples=a["samples"],
                a_cpu_s_per_sample=round(a["cpu_s"] / n, 5),
                a_process_cpu_s_per_sample=round(a["process_cpu_s"] / n, 5),
                a_cpu_s_total=round(a["cpu_s"], 2),
                a_wall_s=round(a["wall_s"], 2),
                a_peak_rss_mb=round(a["peak_rss_mb"], 1),
                end_to_end_includes_recommend=bool(a["recommend"]),
            )
        if args.only in (None, "b"):
            t = time.perf_counter()
            genome = make_whole_genome(work, args.sites)
            result["b_generate_s"] = round(time.perf_counter() - t, 1)
            b = _measure(genome)
            result.update(
                b_sites=args.sites,
                b_indexed=genome.with_name(genome.name + ".tbi").exists(),
                b_vcf_mb=round(genome.stat().st_size / 1e6, 1),
                b_cpu_s=round(b["cpu_s"], 3),
                b_wall_s=round(b["wall_s"], 3),
                b_process_cpu_s=round(b["process_cpu_s"], 3),
                b_process_wall_s=round(b["process_wall_s"], 3),
                b_peak_rss_mb=round(b["peak_rss_mb"], 1),
            )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
