"""Random access to bgzipped VCFs through their tabix (.tbi) or CSI (.csi) index, pure Python.

Formats from the SAM/BAM specification (samtools/hts-specs, SAMv1 §4.1 BGZF and §5.1-5.2
indexing; CSIv1, TABIX): virtual offset = compressed block offset << 16 | offset within the
uncompressed block. A whole-genome VCF is then read only around the PGx positions, as PharmCAT's
preprocessor does with bcftools.
"""

from __future__ import annotations

import gzip
import io
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["BgzfIndex", "find_index", "read_index", "region_lines"]


@dataclass(slots=True)
class BgzfIndex:
    names: list[str]
    min_shift: int
    depth: int
    #: per reference: bin -> list of (begin, end) virtual offsets
    bins: list[dict[int, list[tuple[int, int]]]]
    #: per reference: linear index (tabix) or per-bin loffset (CSI)
    linear: list[list[int]]
    loffsets: list[dict[int, int]]

    def start_offset(self, chrom: str, beg: int, end: int) -> int | None:
        """Smallest virtual offset that can hold a record overlapping [beg, end) (0-based)."""
        if chrom not in self.names:
            return None
        rid = self.names.index(chrom)
        bins = self.bins[rid]
        min_off = 0
        lin = self.linear[rid]
        if lin:
            i = min(beg >> self.min_shift, len(lin) - 1)
            min_off = lin[i]
        best: int | None = None
        for b in _reg2bins(beg, end, self.min_shift, self.depth):
            chunks = bins.get(b)
            if not chunks:
                continue
            floor = max(min_off, self.loffsets[rid].get(b, 0))
            for cbeg, cend in chunks:
                if cend > floor:
                    start = max(cbeg, floor)
                    if best is None or start < best:
                        best = start
        return best


def _reg2bins(beg: int, end: int, min_shift: int, depth: int) -> Iterator[int]:
    end -= 1
    t, s = 0, min_shift + depth * 3
    for level in range(depth + 1):
        yield from range(t + (beg >> s), t + (end >> s) + 1)
        s -= 3
        t += 1 << (level * 3)


def find_index(path: Path) -> Path | None:
    for suffix in (".tbi", ".csi"):
        candidate = path.with_name(path.name + suffix)
        if candidate.exists():
            return candidate
    return None


def _names(blob: bytes) -> list[str]:
    return [n.decode() for n in blob.split(b"\0") if n]


def read_index(path: Path, regions: dict[str, list[tuple[int, int]]] | None = None) -> BgzfIndex:
    """Parse a .tbi or .csi file (both BGZF-compressed).

    With `regions` (reference name, with or without 'chr' → 0-based half-open intervals) only
    the bins overlapping them are decoded; everything else is skipped by offset arithmetic, so a
    whole-genome index costs one small unpack per bin."""
    raw = gzip.decompress(path.read_bytes())
    magic = raw[:4]
    if magic == b"TBI\1":
        n_ref, _fmt, _cs, _cb, _ce, _meta, _skip, l_nm = struct.unpack_from("<8i", raw, 4)
        off = 36
        names = _names(raw[off : off + l_nm])
        off += l_nm
        min_shift, depth, csi = 14, 5, False
    elif magic == b"CSI\1":
        min_shift, depth, l_aux = struct.unpack_from("<3i", raw, 4)
        aux = raw[16 : 16 + l_aux]
        names = _names(aux[28:]) if l_aux >= 28 else []
        off = 16 + l_aux
        (n_ref,) = struct.unpack_from("<i", raw, off)
        off += 4
        csi = True
    else:
        raise ValueError("not a tabix or CSI index")
    all_bins: list[dict[int, list[tuple[int, int]]]] = []
    linear: list[list[int]] = []
    loffsets: list[dict[int, int]] = []
    unpack = struct.unpack_from
    for rid in range(n_ref):
        name = names[rid] if rid < len(names) else str(rid)
        needed: set[int] | None = None
        if regions is not None:
            spans = regions.get(name) or regions.get(name.removeprefix("chr")) or []
            needed = {b for beg, end in spans for b in _reg2bins(beg, end, min_shift, depth)}
        keep = needed is None or bool(needed)
        (n_bin,) = unpack("<i", raw, off)
        off += 4
        bins: dict[int, list[tuple[int, int]]] = {}
        lo: dict[int, int] = {}
        head = 16 if csi else 8
        for _ in range(n_bin):
            if csi:
                b, loff, n_chunk = unpack("<IQi", raw, off)
            else:
                b, n_chunk = unpack("<Ii", raw, off)
                loff = 0
            off += head
            if keep and (needed is None or b in needed):
                chunks = unpack(f"<{2 * n_chunk}Q", raw, off)
                bins[b] = list(zip(chunks[::2], chunks[1::2], strict=True))
                if csi:
                    lo[b] = loff
            off += 16 * n_chunk
        all_bins.append(bins)
        loffsets.append(lo)
        if csi:
            linear.append([])
        else:
            (n_intv,) = unpack("<i", raw, off)
            off += 4
            linear.append(list(unpack(f"<{n_intv}Q", raw, off)) if keep else [])
            off += 8 * n_intv
    return BgzfIndex(names, min_shift, depth, all_bins, linear, loffsets)


def region_lines(path: Path, voffset: int) -> Iterator[str]:
    """Text lines of a BGZF file from a virtual offset on (the caller stops past its region)."""
    raw = path.open("rb")
    try:
        raw.seek(voffset >> 16)
        gz = gzip.GzipFile(fileobj=raw)
        text = io.TextIOWrapper(gz, encoding="utf-8", errors="replace", newline="")
        skip = voffset & 0xFFFF
        if skip:
            gz.read(skip)
        yield from text
    finally:
        raw.close()
