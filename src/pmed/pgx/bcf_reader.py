"""BCF2 (binary VCF) input, pure Python: the same `VcfData` as the VCF text reader.

Format: samtools/hts-specs VCFv4.3 §6 "BCF specification" (BCF2.2): a BGZF stream holding the
magic `BCF\\2\\2`, the VCF header text, then records with a shared part (CHROM, POS, rlen, QUAL,
ID, alleles, FILTER, INFO as typed values) and a per-sample part (each FORMAT field as one typed
vector over samples; GT encoded as (allele + 1) << 1 | phased). A `.csi` index beside the file
(bcftools index) is used to read only the PGx regions.
"""

from __future__ import annotations

import gzip
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from pmed.errors import InputError
from pmed.pgx.bgzf_index import find_index, read_index
from pmed.pgx.vcf_reader import (
    Recorder,
    VcfData,
    VcfHeader,
    _parse_header,
    _Targets,
    norm_chrom,
    select_samples,
)

__all__ = ["read_bcf", "read_bcf_header"]

_SIZES = {1: 1, 2: 2, 3: 4, 5: 4, 7: 1}
_FMT = {1: "b", 2: "h", 3: "i", 5: "f", 7: "c"}
_MISSING = {1: -128, 2: -32768, 3: -(2**31)}
_END = {1: -127, 2: -32767, 3: -(2**31) + 1}


def _fail(path: Path, reason: str) -> InputError:
    return InputError(reason, file=str(path))


class _Dicts:
    """The header's string dictionary (PASS, FILTER/INFO/FORMAT IDs) and contig dictionary."""

    def __init__(self, text: str) -> None:
        self.strings: dict[int, str] = {0: "PASS"}
        self.contigs: dict[int, str] = {}
        seen = {"PASS"}
        n_contig = 0
        for line in text.splitlines():
            if not line.startswith("##"):
                continue
            kind = line[2:].split("=", 1)[0]
            if kind not in ("FILTER", "INFO", "FORMAT", "contig") or "=<" not in line:
                continue
            body = line.split("=<", 1)[1].rstrip(">")
            attrs = dict(p.split("=", 1) for p in _split_attrs(body) if "=" in p)
            ident = attrs.get("ID")
            if ident is None:
                continue
            idx = attrs.get("IDX")
            if kind == "contig":
                self.contigs[int(idx) if idx and idx.isdigit() else n_contig] = ident
                n_contig += 1
            elif ident not in seen:
                seen.add(ident)
                key = int(idx) if idx and idx.isdigit() else len(self.strings)
                self.strings[key] = ident
            elif idx and idx.isdigit():
                self.strings[int(idx)] = ident


def _split_attrs(body: str) -> list[str]:
    out: list[str] = []
    buf: list[str] = []
    quoted = False
    for ch in body:
        if ch == '"':
            quoted = not quoted
        if ch == "," and not quoted:
            out.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
    out.append("".join(buf))
    return out


def _open(path: Path) -> BinaryIO:
    return gzip.open(path, "rb")  # type: ignore[return-value]


def _read_exact(fh: BinaryIO | gzip.GzipFile, n: int, path: Path) -> bytes:
    try:
        data = fh.read(n)
    except EOFError as exc:
        raise _fail(path, "truncated BCF: the compressed stream ends early") from exc
    except (OSError, zlib.error) as exc:
        raise _fail(path, f"corrupt BCF data ({exc})") from exc
    if len(data) != n:
        raise _fail(path, "truncated BCF: a record ends early")
    return data


def _header(fh: BinaryIO, path: Path) -> tuple[VcfHeader, _Dicts, int]:
    magic = _read_exact(fh, 5, path)
    if magic[:4] != b"BCF\x02":
        raise _fail(path, "not a BCF2 file")
    (l_text,) = struct.unpack("<I", _read_exact(fh, 4, path))
    text = _read_exact(fh, l_text, path).rstrip(b"\0").decode("utf-8", errors="replace")
    if "#CHROM" not in text:
        raise _fail(path, "not a valid BCF: the header text has no #CHROM line")
    header = _parse_header(path, iter(text.splitlines(keepends=True)))
    return header, _Dicts(text), 9 + l_text


def read_bcf_header(path: str | Path) -> VcfHeader:
    path = Path(path)
    with _open(path) as fh:
        return _header(fh, path)[0]


def _typed(buf: bytes, off: int) -> tuple[int, int, int]:
    """(type, count, offset after the descriptor) of a typed value."""
    desc = buf[off]
    off += 1
    typ, count = desc & 0x0F, desc >> 4
    if count == 15:
        t2, _c2, off = _typed(buf, off)
        (count,) = struct.unpack_from("<" + _FMT[t2], buf, off)
        off += _SIZES[t2]
    return typ, count, off


def _values(buf: bytes, off: int, typ: int, count: int) -> tuple[Any, int]:
    if typ == 0 or count == 0:
        return (), off
    size = _SIZES[typ]
    if typ == 7:
        return buf[off : off + count].rstrip(b"\0").decode("utf-8", "replace"), off + count
    return struct.unpack_from(f"<{count}{_FMT[typ]}", buf, off), off + size * count


def _records(fh: BinaryIO | gzip.GzipFile, path: Path) -> Iterator[tuple[bytes, bytes]]:
    while True:
        try:
            head = fh.read(8)
        except EOFError as exc:
            raise _fail(path, "truncated BCF: the compressed stream ends early") from exc
        except (OSError, zlib.error) as exc:
            raise _fail(path, f"corrupt BCF data ({exc})") from exc
        if not head:
            return
        if len(head) != 8:
            raise _fail(path, "truncated BCF: a record ends early")
        l_shared, l_indiv = struct.unpack("<II", head)
        yield _read_exact(fh, l_shared, path), _read_exact(fh, l_indiv, path)


def _gt_text(values: tuple[int, ...], typ: int) -> str:
    end, parts, phased = _END[typ], [], False
    for k, v in enumerate(values):
        if v == end:
            break
        if k == 1:
            phased = bool(v & 1)
        parts.append("." if (v >> 1) == 0 else str((v >> 1) - 1))
    return ("|" if phased else "/").join(parts) if parts else "."


def _scan(
    path: Path,
    records: Iterator[tuple[bytes, bytes]],
    dicts: _Dicts,
    targets: _Targets,
    columns: list[int] | slice | None,
    recorder: Recorder,
    stop: tuple[int, int] | None = None,
) -> None:
    exact, by_chrom = targets.exact, targets.by_chrom
    names: dict[int, str] = {}
    for shared, indiv in records:
        chrom_id, pos0, _rlen, _qual, n_allele_info, n_fmt_sample = struct.unpack_from(
            "<iiifII", shared
        )
        if stop is not None and (chrom_id != stop[0] or pos0 + 1 > stop[1]):
            return
        chrom = names.get(chrom_id)
        if chrom is None:
            chrom = names[chrom_id] = norm_chrom(dicts.contigs.get(chrom_id, str(chrom_id)))
        pos = pos0 + 1
        hit = (chrom, str(pos)) in exact
        if not hit and chrom not in by_chrom:
            continue
        n_allele, n_info = n_allele_info >> 16, n_allele_info & 0xFFFF
        n_fmt, n_sample = n_fmt_sample >> 24, n_fmt_sample & 0xFFFFFF
        off = 24
        typ, count, off = _typed(shared, off)  # ID
        off += _SIZES.get(typ, 0) * count
        alleles = []
        for _ in range(n_allele):
            typ, count, off = _typed(shared, off)
            text, off = _values(shared, off, typ, count)
            alleles.append(text)
        typ, count, off = _typed(shared, off)  # FILTER
        off += _SIZES.get(typ, 0) * count
        end = None
        for _ in range(n_info):
            ktyp, kcount, off = _typed(shared, off)
            key, off = _values(shared, off, ktyp, kcount)
            typ, count, off = _typed(shared, off)
            value, off = _values(shared, off, typ, count)
            if dicts.strings.get(key[0] if key else -1) == "END" and value:
                end = int(value[0])
        if not hit and (end is None or end <= pos):
            continue
        gts: list[str] | None = None
        ps: list[int | None] | None = None
        off = 0
        for _ in range(n_fmt):
            ktyp, kcount, off = _typed(indiv, off)
            key, off = _values(indiv, off, ktyp, kcount)
            typ, count, off = _typed(indiv, off)
            size = _SIZES.get(typ, 0) * count
            name = dicts.strings.get(key[0] if key else -1)
            if name in ("GT", "PS") and typ in (1, 2, 3):
                flat = struct.unpack_from(f"<{count * n_sample}{_FMT[typ]}", indiv, off)
                per = [flat[i * count : (i + 1) * count] for i in range(n_sample)]
                per = (
                    per[columns]
                    if isinstance(columns, slice)
                    else ([per[c] for c in columns] if columns is not None else per)
                )
                if name == "GT":
                    gts = [_gt_text(v, typ) for v in per]
                else:
                    missing = _MISSING[typ]
                    ps = [None if not v or v[0] == missing else int(v[0]) for v in per]
            off += size * n_sample
        if gts is None:
            raise _fail(path, f"missing GT field in FORMAT at {chrom}:{pos}")
        alts = tuple(a for a in alleles[1:] if a != ".")
        recorder.add(chrom, pos, alleles[0] if alleles else "N", alts, end, hit, gts, ps)


def read_bcf(
    path: Path,
    targets: _Targets,
    *,
    sample: str | None = None,
    sample_range: tuple[int, int] | None = None,
) -> VcfData:
    """Read the genotypes at the target positions of a BCF file (CSI index used when present)."""
    with _open(path) as fh:
        header, dicts, _ = _header(fh, path)
        columns, selected = select_samples(path, header, sample, sample_range)
        data = VcfData(str(path), header, selected, {}, [])
        recorder = Recorder(path, data, targets)
        index_path = find_index(path)
        if index_path is None:
            _scan(path, _records(fh, path), dicts, targets, columns, recorder)
            return data
    data.indexed = True
    regions: dict[str, list[tuple[int, int]]] = {}
    for chrom, plist in targets.by_chrom.items():
        regions[chrom] = [(plist[0] - 1, plist[-1] + 1)]
    contig_ids = {norm_chrom(n): i for i, n in dicts.contigs.items()}
    try:
        # a BCF's CSI has no names: references are the header's contig ids, in order
        index = read_index(
            index_path, {str(i): regions[c] for c, i in contig_ids.items() if c in regions}
        )
    except (OSError, ValueError, EOFError, struct.error) as exc:
        raise _fail(index_path, f"unreadable index ({exc})") from exc
    index.names = [str(i) for i in range(len(index.bins))]
    for chrom, spans in regions.items():
        rid = contig_ids.get(chrom)
        if rid is None or rid >= len(index.bins):
            continue
        for beg, end in spans:
            voff = index.start_offset(str(rid), beg, end)
            if voff is None:
                continue
            with path.open("rb") as raw:
                raw.seek(voff >> 16)
                with gzip.GzipFile(fileobj=raw) as gz:
                    gz.read(voff & 0xFFFF)
                    _scan(path, _records(gz, path), dicts, targets, columns, recorder, (rid, end))
    return data
