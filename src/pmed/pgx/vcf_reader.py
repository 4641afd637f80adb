"""Stream the genotypes at PGx positions out of a VCF (plain, bgzipped, tabix/CSI-indexed).

Reads VCF 4.x (samtools/hts-specs VCFv4.3): single or multi-sample, `chr`-prefixed or not,
multi-allelic sites, phased (`|`, FORMAT/PS phase sets) and unphased genotypes, haploid calls, and
gVCF reference blocks (INFO/END with a `<NON_REF>`/`<*>` ALT), which count as reference calls at
the PGx positions they cover (as PharmCAT's VCF preprocessor does). Only lines at wanted positions
are split further, so memory grows with PGx sites × samples (2 bytes each), never with the file.
"""

from __future__ import annotations

import gzip
import struct
import zlib
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pmed.errors import InputError
from pmed.pgx.bgzf_index import find_index, read_index, region_lines

__all__ = ["Site", "VcfData", "VcfHeader", "read_header", "read_vcf"]

#: parsed GT codes: (allele indices, None = missing; phased)
GtEntry = tuple[tuple[int | None, ...], bool]


@dataclass(slots=True)
class VcfHeader:
    samples: list[str]
    reference: str | None = None
    contigs: dict[str, int] = field(default_factory=dict)  # normalised name -> length


@dataclass(slots=True)
class Site:
    """One VCF record at a wanted position; `alts` empty and `block` True for a gVCF block."""

    chrom: str
    pos: int
    ref: str
    alts: tuple[str, ...]
    codes: array  # GT code per selected sample (index into VcfData.gt_table)
    ps: list[int | None] | None = None
    block: bool = False


@dataclass(slots=True)
class VcfData:
    path: str
    header: VcfHeader
    samples: list[str]  # the selected samples, in `codes` order
    sites: dict[tuple[str, int], list[Site]]
    gt_table: list[GtEntry]
    indexed: bool = False


def norm_chrom(name: str) -> str:
    low = name.lower()
    if low.startswith("chr"):
        name = name[3:]
    return "MT" if name in ("M", "m") else name


def _fail(path: Path, reason: str, line: int | None = None) -> InputError:
    return InputError(reason, file=str(path), line=line)


_BCF_MAGIC = b"BCF\x02"


def is_bcf(path: Path) -> bool:
    """True for a BCF2 file (BGZF-compressed or not)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(4)
        if head[:2] == b"\x1f\x8b":
            with gzip.open(path, "rb") as probe:
                head = probe.read(4)
    except (OSError, EOFError, zlib.error):
        return False
    return head == _BCF_MAGIC


def _open_lines(path: Path) -> Iterator[str]:
    try:
        with path.open("rb") as fh:
            head = fh.read(4)
    except OSError as exc:
        raise _fail(path, f"cannot read file ({exc.strerror or exc})") from exc
    if head.startswith(b"BCF"):
        raise _fail(
            path,
            "unsupported BCF version: pmed reads BCF2, VCF and bgzipped VCF",
        )
    if head[:2] == b"\x1f\x8b":
        with gzip.open(path, "rb") as probe:
            try:
                first = probe.read(4)
            except (OSError, EOFError, zlib.error) as exc:
                raise _fail(path, f"not a readable gzip file ({exc})") from exc
        if first.startswith(b"BCF"):
            raise _fail(
                path,
                "unsupported BCF version: pmed reads BCF2, VCF and bgzipped VCF",
            )
        return _guard(path, gzip.open(path, "rt", encoding="utf-8", errors="replace", newline=""))
    return _guard(path, path.open("r", encoding="utf-8", errors="replace", newline=""))


def _guard(path: Path, handle: Iterable[str]) -> Iterator[str]:
    try:
        yield from handle
    except EOFError as exc:
        raise _fail(path, "truncated gzip: the compressed stream ends early") from exc
    except (OSError, zlib.error) as exc:
        raise _fail(path, f"corrupt compressed data ({exc})") from exc
    finally:
        close = getattr(handle, "close", None)
        if close:
            close()


def _parse_header(path: Path, lines: Iterator[str]) -> VcfHeader:
    header = VcfHeader(samples=[])
    for n, line in enumerate(lines, 1):
        if n == 1 and not line.startswith("##fileformat=VCF") and not line.startswith("#CHROM"):
            raise _fail(path, "not a VCF: the first line is not '##fileformat=VCF…'", 1)
        if line.startswith("##"):
            if line.startswith("##reference="):
                header.reference = line[12:].strip()
            elif line.startswith("##contig=<"):
                body = line.strip()[10:-1]
                parts = dict(p.split("=", 1) for p in body.split(",") if "=" in p)
                if "ID" in parts and parts.get("length", "").isdigit():
                    header.contigs[norm_chrom(parts["ID"])] = int(parts["length"])
                if "assembly" in parts and not header.reference:
                    header.reference = parts["assembly"]
            continue
        if line.startswith("#CHROM"):
            cols = line.rstrip("\r\n").split("\t")
            if len(cols) < 8:
                raise _fail(path, "not a VCF: the #CHROM header has fewer than 8 columns", n)
            header.samples = cols[9:]
            return header
        raise _fail(path, "not a VCF: data before the #CHROM header line", n)
    raise _fail(path, "not a VCF: no #CHROM header line (empty or truncated file)")


def read_header(path: str | Path) -> VcfHeader:
    """The header of a VCF (samples, reference, contigs) without reading its records."""
    path = Path(path)
    if is_bcf(path):
        from pmed.pgx.bcf_reader import read_bcf_header

        return read_bcf_header(path)
    lines = _open_lines(path)
    try:
        return _parse_header(path, lines)
    finally:
        close = getattr(lines, "close", None)
        if close:
            close()


def _parse_gt(gt: str) -> GtEntry:
    phased = "|" in gt
    parts = gt.replace("|", "/").split("/")
    return (tuple(None if p in (".", "") else int(p) for p in parts), phased)


@dataclass(slots=True)
class _Targets:
    exact: set[tuple[str, str]]  # (normalised chrom, position text)
    by_chrom: dict[str, list[int]]  # sorted positions, for gVCF blocks
    chrom_names: dict[str, str] = field(default_factory=dict)  # raw -> normalised


def read_vcf(
    path: str | Path,
    positions: Iterable[tuple[str, int]],
    *,
    sample: str | None = None,
    sample_range: tuple[int, int] | None = None,
    use_index: bool = True,
) -> VcfData:
    """Read the genotypes at `positions` ((chrom without 'chr', 1-based pos)) of every sample,
    only `sample`, or only the samples `sample_range` (start, stop) — callers page through a
    very wide VCF so memory stays bounded. Raises InputError naming the file for bad input."""
    path = Path(path)
    pos_list = sorted(set(positions))
    by_chrom: dict[str, list[int]] = {}
    for c, p in pos_list:
        by_chrom.setdefault(c, []).append(p)
    targets = _Targets({(c, str(p)) for c, p in pos_list}, by_chrom)
    if is_bcf(path):
        from pmed.pgx.bcf_reader import read_bcf

        return read_bcf(path, targets, sample=sample, sample_range=sample_range)
    lines = _open_lines(path)
    header = _parse_header(path, lines)
    return _read_text(path, lines, header, targets, sample, sample_range, use_index)


def select_samples(
    path: Path, header: VcfHeader, sample: str | None, sample_range: tuple[int, int] | None
) -> tuple[list[int] | slice | None, list[str]]:
    """Columns to read and their sample names; InputError for no samples / unknown sample."""
    if not header.samples:
        raise _fail(path, "the VCF has no sample columns (sites-only VCF): no genotypes to call")
    if sample is not None:
        if sample not in header.samples:
            shown = ", ".join(header.samples[:10]) + (" …" if len(header.samples) > 10 else "")
            raise _fail(path, f"sample {sample!r} not found (samples: {shown})")
        return [header.samples.index(sample)], [sample]
    if sample_range is not None:
        cols = slice(*sample_range)
        return cols, header.samples[cols]
    return None, list(header.samples)


def _read_text(
    path: Path,
    lines: Iterator[str],
    header: VcfHeader,
    targets: _Targets,
    sample: str | None,
    sample_range: tuple[int, int] | None,
    use_index: bool,
) -> VcfData:
    columns, selected = select_samples(path, header, sample, sample_range)
    data = VcfData(str(path), header, selected, {}, [])
    index_path = find_index(path) if use_index else None
    if index_path is not None:
        close = getattr(lines, "close", None)
        if close:
            close()
        data.indexed = True
        _read_indexed(path, index_path, targets, columns, data)
    else:
        _scan(path, lines, targets, columns, data, line_no=None)
    return data


_Columns = list[int] | slice | None


def _read_indexed(
    path: Path, index_path: Path, targets: _Targets, columns: _Columns, data: VcfData
) -> None:
    regions: dict[str, list[tuple[int, int]]] = {}
    for chrom, plist in targets.by_chrom.items():
        # one region per cluster of positions (genes are < 1 Mb; split on gaps > 100 kb)
        spans = regions.setdefault(chrom, [])
        start = prev = plist[0]
        for p in [*plist[1:], None]:
            if p is not None and p - prev < 100_000:
                prev = p
                continue
            spans.append((start - 1, prev + 1))
            if p is not None:
                start = prev = p
    try:
        index = read_index(index_path, regions)
    except (OSError, ValueError, EOFError, struct.error) as exc:
        raise _fail(index_path, f"unreadable index ({exc})") from exc
    names = {norm_chrom(n): n for n in index.names}
    for chrom, spans in regions.items():
        raw = names.get(chrom)
        if raw is None:
            continue
        for beg, end in spans:
            voff = index.start_offset(raw, beg, end)
            if voff is not None:
                _scan(
                    path,
                    _guard(path, region_lines(path, voff)),
                    targets,
                    columns,
                    data,
                    line_no=None,
                    stop=(raw, end),
                )


def _scan(
    path: Path,
    lines: Iterable[str],
    targets: _Targets,
    columns: list[int] | slice | None,
    data: VcfData,
    *,
    line_no: int | None,
    stop: tuple[str, int] | None = None,
) -> None:
    exact = targets.exact
    chrom_names = targets.chrom_names
    by_chrom = targets.by_chrom
    recorder = Recorder(path, data, targets)
    n_samples = len(data.header.samples)
    for line in lines:
        if line.startswith("#"):
            continue
        head = line.split("\t", 2)
        raw_chrom = head[0]
        chrom = chrom_names.get(raw_chrom)
        if chrom is None:
            chrom = chrom_names[raw_chrom] = norm_chrom(raw_chrom)
        if stop is not None:
            if raw_chrom != stop[0]:
                return
            if len(head) > 1 and head[1].isdigit() and int(head[1]) > stop[1]:
                return
        if len(head) < 3:
            if line.strip():
                raise _fail(path, "not a VCF: a data line has fewer than 8 tab-separated columns")
            continue
        hit = (chrom, head[1]) in exact
        if not hit and (chrom not in by_chrom or "END=" not in head[2]):
            continue
        fields = line.rstrip("\r\n").split("\t")
        if len(fields) < 8 or not fields[1].isdigit():
            raise _fail(path, f"not a VCF: malformed data line at {raw_chrom}:{head[1][:20]}")
        pos = int(fields[1])
        end = None
        if not hit or "END=" in fields[7]:
            for item in fields[7].split(";"):
                if item.startswith("END="):
                    end = int(item[4:]) if item[4:].isdigit() else None
            if end is None or end <= pos:
                if not hit:
                    continue
                end = None
        if len(fields) < 10:
            raise _fail(path, f"no FORMAT/sample columns at {raw_chrom}:{pos}")
        fmt = fields[8].split(":")
        if "GT" not in fmt:
            raise _fail(path, f"missing GT field in FORMAT at {raw_chrom}:{pos}")
        gi = fmt.index("GT")
        psi = fmt.index("PS") if "PS" in fmt else None
        if len(fields) != 9 + n_samples:
            raise _fail(
                path,
                f"the record at {raw_chrom}:{pos} has {len(fields) - 9} sample columns, "
                f"the header names {n_samples}",
            )
        if columns is None:
            samples = fields[9:]
        elif isinstance(columns, slice):
            samples = fields[9 + columns.start : 9 + columns.stop]
        else:
            samples = [fields[9 + c] for c in columns]
        if gi == 0 and len(fmt) == 1:
            gts = samples
        else:
            gts = [s.split(":", gi + 1)[gi] if s.count(":") >= gi else "." for s in samples]
        ps = None
        if psi is not None:
            ps = []
            for s in samples:
                parts = s.split(":")
                v = parts[psi] if len(parts) > psi else "."
                ps.append(int(v) if v.lstrip("-").isdigit() else None)
        alts = tuple(a for a in fields[4].split(",") if a != ".")
        recorder.add(chrom, pos, fields[3], alts, end, hit, gts, ps)


class Recorder:
    """Stores records at wanted positions (and gVCF blocks over them) into a VcfData; shared by
    the VCF text scanner and the BCF reader."""

    def __init__(self, path: Path, data: VcfData, targets: _Targets) -> None:
        self.path = path
        self.data = data
        self.targets = targets
        self.codes_of = {_unparse(e): i for i, e in enumerate(data.gt_table)}

    def add(self, chrom: str, pos: int, ref: str, alts: tuple[str, ...], end: int | None,
            hit: bool, gts: list[str], ps: list[int | None] | None) -> None:  # fmt: skip
        table = self.data.gt_table
        codes_of = self.codes_of
        codes = array("H", bytes(0))
        for g in gts:
            c = codes_of.get(g)
            if c is None:
                try:
                    table.append(_parse_gt(g))
                except ValueError as exc:
                    raise _fail(self.path, f"malformed GT {g!r} at {chrom}:{pos}") from exc
                c = codes_of[g] = len(table) - 1
            codes.append(c)
        sites = self.data.sites
        if hit:
            sites.setdefault((chrom, pos), []).append(Site(chrom, pos, ref, alts, codes, ps))
        if end is not None and all(a.startswith("<") for a in alts):
            plist = self.targets.by_chrom.get(chrom, [])
            for p in plist[bisect_left(plist, pos + 1) : bisect_right(plist, end)]:
                sites.setdefault((chrom, p), []).append(
                    Site(chrom, p, "", (), codes, ps, block=True)
                )


def _unparse(entry: GtEntry) -> str:
    sep = "|" if entry[1] else "/"
    return sep.join("." if a is None else str(a) for a in entry[0])
