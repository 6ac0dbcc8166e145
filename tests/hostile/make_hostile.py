"""Generate the hostile corpus: documents built to exhaust memory or time, or to be half-read.

Nothing binary is committed: every file is made here, deterministically, in a few seconds (bombs
are built from a repeated deflate block, not by compressing gigabytes). ``scale="test"`` makes each
bomb just large enough to cross the default limits quickly; ``scale="issue"`` makes the sizes of
issue 13's measurements (a 4 GB docx member, a 2 GB PDF stream, a 200 MB page, 1 M rows, ...).

    python tests/hostile/make_hostile.py --out /tmp/hostile [--scale issue] [NAME ...]

Good documents to damage come from the bundled demo sites and from ``bench.corpus`` (a report
spec whose numbers are known), so a repaired file can be checked against 200 placed values.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import struct
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from ogi.core.config import DATA_DIR

DEMO = DATA_DIR / "demo"
GOOD_HTML = DEMO / "qingwu-xian/gkml/ndbg/202501/t20250127_24101.html"  # UTF-8, 200 values
GOOD_PDF = DEMO / "qingwu-xian/gkml/ndbg/202501/P02025012724101.pdf"  # ruled, 4 pages, 200 values
CONTAINER_HTML = DEMO / "shiqiao-zhen/xxgk/ndbg/202501/t20250111_24301.html"  # prose + attachment link
PROSE_HTML = DEMO / "shiqiao-zhen/xxgk/ndbg/202401/t20240119_23301.html"  # prose only

MiB = 1 << 20


@dataclass(frozen=True)
class Case:
    name: str  # the file's name in the output directory
    what: str  # what it does, in the issue's words
    build: Callable[[Path, str], Path]  # (output directory, scale) -> path to hand to `ogi extract`


def _big(scale: str, test: int, issue: int) -> int:
    return issue if scale == "issue" else test


# ----------------------------------------------------------------------------- zip and deflate


def crc32_combine(crc1: int, crc2: int, len2: int) -> int:
    """crc32 of A + B from crc32(A), crc32(B) and len(B), without touching the bytes (zlib's
    crc32_combine: apply len2 zero bytes to crc1 by squaring the one-zero-bit operator)."""

    def times(mat: list[int], vec: int) -> int:
        out, i = 0, 0
        while vec:
            if vec & 1:
                out ^= mat[i]
            vec >>= 1
            i += 1
        return out

    def square(mat: list[int]) -> list[int]:
        return [times(mat, mat[i]) for i in range(32)]

    if len2 <= 0:
        return crc1
    odd = [0xEDB88320] + [1 << i for i in range(31)]  # one zero bit
    even = square(odd)  # two zero bits
    odd = square(even)  # four zero bits
    while True:
        even = square(odd)  # first pass: one zero byte
        if len2 & 1:
            crc1 = times(even, crc1)
        len2 >>= 1
        if not len2:
            break
        odd = square(even)
        if len2 & 1:
            crc1 = times(odd, crc1)
        len2 >>= 1
        if not len2:
            break
    return crc1 ^ crc2


def adler32_combine(adler1: int, adler2: int, len2: int) -> int:
    """adler32 of A + B from the two parts' checksums and len(B) (zlib's adler32_combine)."""
    base = 65521
    rem = len2 % base
    sum1 = adler1 & 0xFFFF
    sum2 = (rem * sum1) % base
    sum1 += (adler2 & 0xFFFF) + base - 1
    sum2 += ((adler1 >> 16) & 0xFFFF) + ((adler2 >> 16) & 0xFFFF) + base - rem
    sum1 = sum1 - base if sum1 >= base else sum1
    sum1 = sum1 - base if sum1 >= base else sum1
    sum2 = sum2 - (base << 1) if sum2 >= (base << 1) else sum2
    sum2 = sum2 - base if sum2 >= base else sum2
    return sum1 | (sum2 << 16)


def _checksums(parts: list[tuple[bytes, int]]) -> tuple[int, int]:
    """(crc32, adler32) of the concatenation of ``block * n`` for each (block, n), by doubling:
    gigabytes are never built."""
    crc, adler = 0, 1
    for block, n in parts:
        part = (zlib.crc32(block), zlib.adler32(block), len(block))
        k = n
        while k:
            if k & 1:
                crc = crc32_combine(crc, part[0], part[2])
                adler = adler32_combine(adler, part[1], part[2])
            part = (crc32_combine(part[0], part[0], part[2]), adler32_combine(part[1], part[1], part[2]),
                    2 * part[2])
            k >>= 1
    return crc, adler


def deflate_bomb(prefix: bytes, byte: int, size: int, suffix: bytes = b"",
                 block: int = MiB) -> tuple[bytes, int, int, int]:
    """A raw deflate stream of ``prefix + bytes([byte]) * size + suffix`` built from one compressed
    block repeated (after a full flush every identical block compresses identically); returns
    (stream, crc32, adler32, uncompressed size)."""
    assert size % block == 0
    chunk = bytes([byte]) * block
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = comp.compress(prefix) + comp.flush(zlib.Z_FULL_FLUSH)
    first = comp.compress(chunk) + comp.flush(zlib.Z_FULL_FLUSH)
    again = comp.compress(chunk) + comp.flush(zlib.Z_FULL_FLUSH)
    assert first == again
    n = size // block
    stream = head + again * n + comp.compress(suffix) + comp.flush()
    crc, adler = _checksums([(prefix, 1), (chunk, n), (suffix, 1)])
    return stream, crc, adler, len(prefix) + size + len(suffix)


@dataclass
class Member:
    name: str
    data: bytes | None = None  # stored/deflated by us
    raw: tuple[bytes, int, int] | None = None  # (raw deflate stream, crc32, uncompressed size)


def write_zip(path: Path, members: Iterable[Member]) -> Path:
    """A zip written by hand, so a member can carry a prebuilt deflate stream (a bomb) with its true
    sizes and CRC: zipfile cannot write raw compressed data."""
    out = bytearray()
    central = bytearray()
    count = 0
    for m in members:
        if m.raw is not None:
            comp, crc, usize = m.raw
        else:
            assert m.data is not None
            c = zlib.compressobj(6, zlib.DEFLATED, -15)
            comp, crc, usize = c.compress(m.data) + c.flush(), zlib.crc32(m.data), len(m.data)
        assert usize < 1 << 32 and len(comp) < 1 << 32, "no zip64 here"
        name = m.name.encode()
        offset = len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(comp), usize, len(name), 0)
        out += name + comp
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, crc, len(comp), usize,
                               len(name), 0, 0, 0, 0, 0, offset)
        central += name
        count += 1
    cd_offset = len(out)
    out += central
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, len(central), cd_offset, 0)
    path.write_bytes(bytes(out))
    return path


# ----------------------------------------------------------------------------- xlsx / docx by hand

_CT = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
       '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
       '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
       '<Default Extension="xml" ContentType="application/xml"/>{overrides}</Types>')
_REL = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        '{type}" Target="{target}"/></Relationships>')
_SML = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def _xlsx_members(sheet_xml: bytes, extra: Iterable[Member] = ()) -> list[Member]:
    over = ('<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            'spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="'
            'application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>')
    return [
        Member("[Content_Types].xml", _CT.format(overrides=over).encode()),
        Member("_rels/.rels", _REL.format(type="officeDocument", target="xl/workbook.xml").encode()),
        Member("xl/workbook.xml", (f'<workbook xmlns="{_SML}" xmlns:r="{_R}"><sheets>'
                                   '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>').encode()),
        Member("xl/_rels/workbook.xml.rels", _REL.format(type="worksheet", target="worksheets/sheet1.xml").encode()),
        Member("xl/worksheets/sheet1.xml", sheet_xml),
        *extra,
    ]


def _cell(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def _sheet(rows: str, merges: Iterable[str] = (), head: str = "") -> bytes:
    merges = list(merges)
    merge_xml = (f'<mergeCells count="{len(merges)}">' + "".join(f'<mergeCell ref="{m}"/>' for m in merges)
                 + "</mergeCells>") if merges else ""
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="{_SML}">{head}'
            f"<sheetData>{rows}</sheetData>{merge_xml}</worksheet>").encode()


_SMALL_ROWS = ('<row r="1">' + _cell("A1", "一、本年新收政府信息公开申请数量") + '<c r="B1"><v>3</v></c></row>'
               '<row r="2">' + _cell("A2", "二、上年结转政府信息公开申请数量") + '<c r="B2"><v>1</v></c></row>')


def _xlsx_merge_whole_sheet(out: Path, scale: str) -> Path:
    return write_zip(out / "merge_whole_sheet.xlsx", _xlsx_members(_sheet(_SMALL_ROWS, ["A1:XFD1048576"])))


def _xlsx_far_corner(out: Path, scale: str) -> Path:
    rows = _SMALL_ROWS + '<row r="1048576">' + _cell("XFD1048576", "x") + "</row>"
    return write_zip(out / "far_corner_cell.xlsx", _xlsx_members(_sheet(rows)))


def _xlsx_full_width_merges(out: Path, scale: str) -> Path:
    n = 2000
    rows = "".join(f'<row r="{r}">{_cell(f"A{r}", str(r))}</row>' for r in range(1, n + 1))
    return write_zip(out / "full_width_merges.xlsx", _xlsx_members(_sheet(rows, [f"A{r}:XFD{r}" for r in range(1, n + 1)])))


def _xlsx_million_rows(out: Path, scale: str) -> Path:
    n = _big(scale, 1_000_000, 1_000_000)
    rows = "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>' for r in range(1, n + 1))
    return write_zip(out / "million_rows.xlsx", _xlsx_members(_sheet(rows)))


def _xlsx_zip_bomb(out: Path, scale: str) -> Path:
    size = _big(scale, 1024 * MiB, 2048 * MiB)
    # the shared-strings table, one string of nothing but spaces: openpyxl reads it whole
    prefix = f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{_SML}"><si><t xml:space="preserve">'.encode()
    stream, crc, _, usize = deflate_bomb(prefix, ord(" "), size, b"</t></si></sst>")
    members = _xlsx_members(_sheet('<row r="1"><c r="A1" t="s"><v>0</v></c></row>'))
    members[0] = Member("[Content_Types].xml", members[0].data.replace(  # type: ignore[union-attr]
        b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
                     b'officedocument.spreadsheetml.sharedStrings+xml"/></Types>'))
    members[3] = Member("xl/_rels/workbook.xml.rels", members[3].data.replace(  # type: ignore[union-attr]
        b"</Relationships>", b'<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/'
                             b'2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>'))
    return write_zip(out / "zip_bomb.xlsx", [*members, Member("xl/sharedStrings.xml", raw=(stream, crc, usize))])


def _xlsx_xxe(out: Path, scale: str) -> Path:
    sheet = (f'<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
             f'<worksheet xmlns="{_SML}"><sheetData><row r="1">{_cell("A1", "&xxe;")}</row></sheetData></worksheet>')
    return write_zip(out / "xxe.xlsx", _xlsx_members(sheet.encode()))


_WML = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _docx_members(document_xml: bytes, extra: Iterable[Member] = ()) -> list[Member]:
    over = ('<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            'wordprocessingml.document.main+xml"/>')
    return [
        Member("[Content_Types].xml", _CT.format(overrides=over).encode()),
        Member("_rels/.rels", _REL.format(type="officeDocument", target="word/document.xml").encode()),
        Member("word/document.xml", document_xml),
        *extra,
    ]


def _docx_body(inner: str, doctype: str = "") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>{doctype}'
            f'<w:document xmlns:w="{_WML}"><w:body>{inner}</w:body></w:document>').encode()


def _docx_zip_bomb(out: Path, scale: str) -> Path:
    size = _big(scale, 1024 * MiB, 4000 * MiB)
    # the document part itself: one run of text that is nothing but spaces
    prefix = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="{_WML}"><w:body>'
              '<w:p><w:r><w:t xml:space="preserve">').encode()
    stream, crc, _, usize = deflate_bomb(prefix, ord(" "), size, b"</w:t></w:r></w:p></w:body></w:document>")
    members = _docx_members(b"")
    members[2] = Member("word/document.xml", raw=(stream, crc, usize))
    return write_zip(out / "zip_bomb.docx", members)


def _docx_billion_laughs(out: Path, scale: str) -> Path:
    ents = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
    body = _docx_body("<w:p><w:r><w:t>&lol9;</w:t></w:r></w:p>", f"<!DOCTYPE lolz [{ents}]>")
    return write_zip(out / "billion_laughs.docx", _docx_members(body))


def _docx_huge_gridspan(out: Path, scale: str) -> Path:
    row = '<w:tr><w:tc><w:tcPr><w:gridSpan w:val="2000000000"/></w:tcPr><w:p><w:r><w:t>1</w:t></w:r></w:p></w:tc></w:tr>'
    return write_zip(out / "huge_gridspan.docx", _docx_members(_docx_body(f"<w:tbl>{row * 500}</w:tbl>")))


def _docx_truncated(out: Path, scale: str) -> Path:
    from bench.corpus import make_spec, write_docx

    good = write_docx(make_spec(7), out / "_good.docx")
    data = good.read_bytes()
    good.unlink()
    path = out / "truncated.docx"
    path.write_bytes(data[: len(data) // 2])
    return path


def _xlsx_truncated(out: Path, scale: str) -> Path:
    from bench.corpus import make_spec, write_xlsx

    good = write_xlsx(make_spec(7), out / "_good.xlsx")
    data = good.read_bytes()
    good.unlink()
    path = out / "truncated.xlsx"
    path.write_bytes(data[: len(data) // 2])
    return path


# ----------------------------------------------------------------------------- PDF by hand


def _rc4(key: bytes, data: bytes) -> bytes:
    s = list(range(256))
    j = 0
    for i in range(256):
        j = (j + s[i] + key[i % len(key)]) & 0xFF
        s[i], s[j] = s[j], s[i]
    out = bytearray(len(data))
    i = j = 0
    for n, byte in enumerate(data):
        i = (i + 1) & 0xFF
        j = (j + s[i]) & 0xFF
        s[i], s[j] = s[j], s[i]
        out[n] = byte ^ s[(s[i] + s[j]) & 0xFF]
    return bytes(out)


_PAD = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")


class _Encryption:
    """The standard security handler, revision 3 (RC4, 128-bit key): enough for an owner password
    with print/copy restrictions, or a user password that must be given to open the file."""

    def __init__(self, user: bytes, owner: bytes, permissions: int, file_id: bytes):
        okey = hashlib.md5((owner + _PAD)[:32]).digest()
        for _ in range(50):
            okey = hashlib.md5(okey).digest()
        o = _rc4(okey, (user + _PAD)[:32])
        for i in range(1, 20):
            o = _rc4(bytes(b ^ i for b in okey), o)
        key = hashlib.md5((user + _PAD)[:32] + o + struct.pack("<i", permissions) + file_id).digest()
        for _ in range(50):
            key = hashlib.md5(key).digest()
        u = _rc4(key, hashlib.md5(_PAD + file_id).digest())
        for i in range(1, 20):
            u = _rc4(bytes(b ^ i for b in key), u)
        self.key, self.o, self.u, self.p = key, o, u + bytes(16), permissions

    def crypt(self, num: int, data: bytes) -> bytes:
        k = hashlib.md5(self.key + struct.pack("<I", num)[:3] + b"\x00\x00").digest()
        return _rc4(k, data)

    def dictionary(self) -> bytes:
        return (f"<< /Filter /Standard /V 2 /R 3 /Length 128 /P {self.p} /O <{self.o.hex()}> "
                f"/U <{self.u.hex()}> >>").encode()


def write_pdf(path: Path, pages: list[tuple[tuple[float, float], bytes | tuple[bytes, int]]], *,
              encryption: _Encryption | None = None, file_id: bytes = b"0123456789abcdef") -> Path:
    """A PDF of ``pages`` ((width, height) in points, content stream or (raw Flate stream, size)),
    Helvetica as the one font, with a correct xref table."""
    objs: dict[int, bytes] = {}
    n_pages = len(pages)
    page_nums = [3 + 2 * i for i in range(n_pages)]
    font = 3 + 2 * n_pages
    objs[1] = b"<< /Type /Catalog /Pages 2 0 R >>"
    kids = " ".join(f"{n} 0 R" for n in page_nums)
    objs[2] = f"<< /Type /Pages /Kids [{kids}] /Count {n_pages} >>".encode()
    for num, ((w, h), content) in zip(page_nums, pages, strict=True):
        objs[num] = (f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {w:g} {h:g}] /Contents {num + 1} 0 R "
                     f"/Resources << /Font << /F1 {font} 0 R >> >> >>").encode()
        if isinstance(content, tuple):
            stream, _size = content
            objs[num + 1] = f"<< /Length {len(stream)} /Filter /FlateDecode >>\nstream\n".encode() + stream + \
                b"\nendstream"
        else:
            body = zlib.compress(content)
            if encryption:
                body = encryption.crypt(num + 1, body)
            objs[num + 1] = f"<< /Length {len(body)} /Filter /FlateDecode >>\nstream\n".encode() + body + \
                b"\nendstream"
    objs[font] = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
    trailer_extra = b""
    if encryption:
        enc = font + 1
        objs[enc] = encryption.dictionary()
        trailer_extra = f" /Encrypt {enc} 0 R".encode()
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for num in sorted(objs):
        offsets[num] = len(out)
        out += f"{num} 0 obj\n".encode() + objs[num] + b"\nendobj\n"
    xref = len(out)
    size = max(objs) + 1
    out += f"xref\n0 {size}\n0000000000 65535 f \n".encode()
    for num in range(1, size):
        out += f"{offsets[num]:010d} 00000 n \n".encode()
    out += (f"trailer\n<< /Size {size} /Root 1 0 R /ID [<{file_id.hex()}> <{file_id.hex()}>]".encode()
            + trailer_extra + f" >>\nstartxref\n{xref}\n%%EOF\n".encode())
    path.write_bytes(bytes(out))
    return path


def _ruled_table_content(rows: int = 12, cols: int = 4) -> bytes:
    """A ruled grid with a number in every cell: Camelot's lattice reads it."""
    x0, y0, cw, rh = 72, 720, 110, 24
    ops = ["0.5 w"]
    for r in range(rows + 1):
        ops.append(f"{x0} {y0 - r * rh} m {x0 + cols * cw} {y0 - r * rh} l S")
    for c in range(cols + 1):
        ops.append(f"{x0 + c * cw} {y0} m {x0 + c * cw} {y0 - rows * rh} l S")
    for r in range(rows):
        for c in range(cols):
            text = f"Row {r + 1}" if c == 0 else str((r + 1) * (c + 1))
            ops.append(f"BT /F1 10 Tf {x0 + c * cw + 6} {y0 - (r + 1) * rh + 8} Td ({text}) Tj ET")
    return "\n".join(ops).encode()


def _pdf_flate_bomb(out: Path, scale: str) -> Path:
    size = _big(scale, 1024 * MiB, 2048 * MiB)
    stream, _crc, adler, _ = deflate_bomb(b"", ord(" "), size)
    # PDF's FlateDecode is the zlib format: a header, the raw deflate stream, the Adler-32
    wrapped = b"\x78\xda" + stream + struct.pack(">I", adler)
    return write_pdf(out / "flate_bomb.pdf", [((595, 842), (wrapped, size))])


def _pdf_huge_pages(out: Path, scale: str) -> Path:
    # 200 x 200 inches (the largest page PDF allows), nothing drawn: no text layer, so OCR renders it
    return write_pdf(out / "huge_pages.pdf", [((14400, 14400), b"") for _ in range(41)])


def _pdf_restricted(out: Path, scale: str) -> Path:
    enc = _Encryption(b"", b"owner-secret", -3904, b"0123456789abcdef")  # no print, no copy
    return write_pdf(out / "restricted.pdf", [((595, 842), _ruled_table_content())], encryption=enc)


def _pdf_password(out: Path, scale: str) -> Path:
    enc = _Encryption(b"open-sesame", b"owner-secret", -4, b"0123456789abcdef")
    return write_pdf(out / "password.pdf", [((595, 842), _ruled_table_content())], encryption=enc)


def _pdf_truncated(out: Path, scale: str) -> Path:
    data = GOOD_PDF.read_bytes()
    path = out / "truncated.pdf"
    path.write_bytes(data[: len(data) // 3])
    return path


# ----------------------------------------------------------------------------- HTML and JS


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _html_nested_spans(out: Path, scale: str) -> Path:
    n = _big(scale, 1_000_000, 2_000_000)
    return _write(out / "nested_spans.html", b"<html><body><p>" + b"<span>" * n + b"x</p></body></html>")


def _html_wide_colspans(out: Path, scale: str) -> Path:
    row = "<tr>" + '<td colspan="1000">1</td>' * 50 + "</tr>"
    return _write(out / "wide_colspans.html", f"<html><body><table>{row * 1000}</table></body></html>".encode())


def _html_huge_page(out: Path, scale: str) -> Path:
    size = _big(scale, 200 * MiB, 200 * MiB)
    para = "<p>本机关坚持以习近平新时代中国特色社会主义思想为指导，持续深化政务公开。</p>\n".encode()
    path = out / "huge_page.html"
    with path.open("wb") as fh:
        fh.write(b"<html><body>")
        block = para * (MiB // len(para))
        for _ in range(size // len(block)):
            fh.write(block)
        fh.write(b"</body></html>")
    return path


def _html_one_huge_cell(out: Path, scale: str) -> Path:
    size = _big(scale, 50 * MiB, 50 * MiB)
    path = out / "one_huge_cell.html"
    with path.open("wb") as fh:
        fh.write("<html><body><table><tr><td>一、本年新收政府信息公开申请数量</td><td>".encode())
        block = b"1 2 3 4 5 6 7 8 " * (MiB // 16)
        for _ in range(size // len(block)):
            fh.write(block)
        fh.write(b"</td></tr></table></body></html>")
    return path


def _html_many_tables(out: Path, scale: str) -> Path:
    table = b"<table><tr><td>1</td><td>2</td></tr></table>\n"
    return _write(out / "many_tables.html", b"<html><body>" + table * 100_000 + b"</body></html>")


def _html_many_rows(out: Path, scale: str) -> Path:
    row = b"<tr><td>\xe4\xb8\x80</td><td>1</td><td>2</td></tr>\n"
    return _write(out / "many_rows.html", b"<html><body><table>" + row * 200_000 + b"</table></body></html>")


def _js_backticks(out: Path, scale: str) -> Path:
    # an unterminated template literal whose every later backtick is escaped: a scanner that
    # retries at each quote re-reads the rest of the file each time
    body = "var html = `<table><tr><td>1</td></tr></table>" + "\\`" * 100_000
    return _write(out / "backticks.js", body.encode())


def _good_html() -> bytes:
    return GOOD_HTML.read_bytes()


def _sprinkle(data: bytes, extra: list[bytes], every: int = 97) -> bytes:
    """``data`` with one of ``extra`` after every ``every`` bytes: inside tags, text and multi-byte
    characters alike, as a broken CMS export writes them."""
    return b"".join(data[i:i + every] + extra[(i // every) % len(extra)] for i in range(0, len(data), every))


def _html_nul_bytes(out: Path, scale: str) -> Path:
    return _write(out / "nul_bytes.html", _sprinkle(_good_html(), [b"\x00"]))


def _html_control_chars(out: Path, scale: str) -> Path:
    controls = [bytes([c]) for c in (*range(1, 9), 0x0B, *range(0x0E, 0x20), 0x7F)]
    return _write(out / "control_chars.html", _sprinkle(_good_html(), controls))


def _html_mixed_encoding(out: Path, scale: str) -> Path:
    text = _good_html().decode("utf-8")
    lines = text.split("\n")
    # every other line re-encoded as GBK: a page assembled from two templates
    data = b"\n".join(line.encode("gbk" if i % 2 else "utf-8") for i, line in enumerate(lines))
    return _write(out / "mixed_utf8_gbk.html", data)


def _html_no_table(out: Path, scale: str) -> Path:
    return _write(out / "no_table.html", PROSE_HTML.read_bytes())


def _html_in_attachment(out: Path, scale: str) -> Path:
    return _write(out / "report_in_attachment.html", CONTAINER_HTML.read_bytes())


# ----------------------------------------------------------------------------- inputs that are not files


def _fifo(out: Path, scale: str) -> Path:
    path = out / "fifo.pdf"
    if not path.exists():
        os.mkfifo(path)
    return path


def _directory(out: Path, scale: str) -> Path:
    path = out / "directory.pdf"
    path.mkdir(exist_ok=True)
    return path


def _dev_zero(out: Path, scale: str) -> Path:
    return Path("/dev/zero")


def _empty(out: Path, scale: str) -> Path:
    return _write(out / "empty.pdf", b"")


def _wrong_extension_pdf(out: Path, scale: str) -> Path:
    return _write(out / "report_really_pdf.xlsx", GOOD_PDF.read_bytes())


def _wrong_extension_html(out: Path, scale: str) -> Path:
    return _write(out / "report_really_html.pdf", _good_html())


def _odd_filename(out: Path, scale: str) -> Path:
    return _write(out / "年报 \"quoted\" 'single'\nnewline.html", _good_html())


CASES: list[Case] = [
    # unbounded memory
    Case("nested_spans.html", "HTML of nested <span>s", _html_nested_spans),
    Case("merge_whole_sheet.xlsx", ".xlsx whose one merge covers the whole sheet", _xlsx_merge_whole_sheet),
    Case("far_corner_cell.xlsx", ".xlsx with one cell in a far corner", _xlsx_far_corner),
    Case("zip_bomb.docx", ".docx zip bomb", _docx_zip_bomb),
    Case("zip_bomb.xlsx", ".xlsx zip bomb", _xlsx_zip_bomb),
    Case("flate_bomb.pdf", "flate-bomb PDF", _pdf_flate_bomb),
    Case("restricted.pdf", "PDF with print/copy restrictions", _pdf_restricted),
    Case("huge_gridspan.docx", ".docx table cells spanning 2 G grid columns", _docx_huge_gridspan),
    # unbounded time
    Case("wide_colspans.html", "HTML table with very wide colspans", _html_wide_colspans),
    Case("million_rows.xlsx", ".xlsx with 1 M rows", _xlsx_million_rows),
    Case("full_width_merges.xlsx", "2,000 full-width merges", _xlsx_full_width_merges),
    Case("huge_page.html", "a 200 MB HTML page", _html_huge_page),
    Case("one_huge_cell.html", "one 50 MB cell", _html_one_huge_cell),
    Case("many_tables.html", "100k tables", _html_many_tables),
    Case("many_rows.html", "200k rows", _html_many_rows),
    Case("backticks.js", "JS page full of backticks", _js_backticks),
    Case("huge_pages.pdf", "10 KB PDF of 41 huge pages", _pdf_huge_pages),
    Case("fifo.pdf", "a FIFO", _fifo),
    Case("dev_zero", "/dev/zero", _dev_zero),
    Case("directory.pdf", "a directory", _directory),
    # silent partial reads
    Case("nul_bytes.html", "NUL bytes inside a good HTML report", _html_nul_bytes),
    Case("control_chars.html", "control characters inside a good HTML report", _html_control_chars),
    Case("mixed_utf8_gbk.html", "mixed UTF-8/GBK", _html_mixed_encoding),
    Case("no_table.html", "a page with no table", _html_no_table),
    Case("report_in_attachment.html", "a report in an attachment", _html_in_attachment),
    # handled well already
    Case("empty.pdf", "empty file", _empty),
    Case("truncated.pdf", "truncated PDF", _pdf_truncated),
    Case("truncated.docx", "truncated .docx", _docx_truncated),
    Case("truncated.xlsx", "truncated .xlsx", _xlsx_truncated),
    Case("password.pdf", "password-protected PDF", _pdf_password),
    Case("billion_laughs.docx", "billion laughs in a .docx", _docx_billion_laughs),
    Case("xxe.xlsx", "XXE in an .xlsx", _xlsx_xxe),
    Case("report_really_pdf.xlsx", "a PDF named .xlsx", _wrong_extension_pdf),
    Case("report_really_html.pdf", "an HTML page named .pdf", _wrong_extension_html),
    Case("odd_filename", "file name with quotes and a newline", _odd_filename),
]
BY_NAME = {c.name: c for c in CASES}


def build(name: str, out: Path, scale: str = "test") -> Path:
    out.mkdir(parents=True, exist_ok=True)
    return BY_NAME[name].build(out, scale)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--scale", choices=["test", "issue"], default="test")
    ap.add_argument("names", nargs="*", help="cases to build (default: all)")
    args = ap.parse_args(argv)
    for name in args.names or [c.name for c in CASES]:
        path = build(name, Path(args.out), args.scale)
        size = path.stat().st_size if path.is_file() else 0
        print(f"{name}\t{path}\t{size}")
    return 0


if __name__ == "__main__":
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # bench/ of this checkout
    raise SystemExit(main())
