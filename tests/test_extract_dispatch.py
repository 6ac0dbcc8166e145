"""Media-type sniffing and routing of extract_document."""

from __future__ import annotations

import importlib.util
import io
import zipfile

import pytest

from ogi.core.media import DOC, DOCX, HTML, JAVASCRIPT, OCTET, PDF, TEXT, WPS, XLS, XLSX, sniff_media_type
from ogi.core.models import ExtractionError
from ogi.extract import extract_document
from tests.conftest import shared_path

OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504


def _zip(*names: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        for n in names:
            zf.writestr(n, "<x/>")
    return buf.getvalue()


def test_magic_bytes_beat_extension_and_declared_type():
    assert sniff_media_type(b"%PDF-1.4\n...", "report.html", "text/html") == PDF
    assert sniff_media_type(b"\xef\xbb\xbf<!DOCTYPE html><html>", "report.pdf", "application/pdf") == HTML


def test_zip_containers_are_told_apart_by_part_names():
    assert sniff_media_type(_zip("word/document.xml"), None, None) == DOCX
    assert sniff_media_type(_zip("xl/workbook.xml"), "x.docx", None) == XLSX
    # a zip that is neither falls back on the extension
    assert sniff_media_type(_zip("other.txt"), "a.xlsx", None) == XLSX


def test_ole2_by_extension_then_stream_names():
    assert sniff_media_type(OLE2, "报告.wps", None) == WPS
    assert sniff_media_type(OLE2, "报告.doc", None) == DOC
    assert sniff_media_type(OLE2 + "Workbook".encode("utf-16-le"), "download", None) == XLS
    assert sniff_media_type(OLE2 + "WordDocument".encode("utf-16-le"), None, None) == DOC


def test_text_documents():
    assert sniff_media_type(b"  <table><tr><td>1</td></tr></table>", None, None) == HTML
    assert sniff_media_type(b'var html = "<table><tr><td>1</td></tr></table>";', None, None) == JAVASCRIPT
    assert sniff_media_type(b"hello", "page.shtml", None) == HTML
    assert sniff_media_type(b"hello", "download.do?id=3", "text/html; charset=gbk") == HTML
    assert sniff_media_type(b"hello", None, None) == TEXT
    assert sniff_media_type("二、主动公开政府信息情况\n规章\t0".encode("gb18030"), None, None) == TEXT
    assert sniff_media_type(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", None, None) == OCTET


def test_plain_text_report_keeps_its_text_for_the_text_layout_reader():
    text = "一、本年新收政府信息公开申请数量\t3\t0\t0\t0\t0\t0\t3\n"
    doc = extract_document(text.encode("gb18030"), sha256="t", filename="report.txt")
    assert doc.tables == [] and "本年新收政府信息公开申请数量" in doc.text


def test_shared_js_sample_is_javascript():
    data = shared_path("samples", "2019_shanghai-shi-bgt.js").read_bytes()
    assert sniff_media_type(data, "2019_shanghai-shi-bgt.js", None) == JAVASCRIPT
    assert sniff_media_type(data, None, "application/octet-stream") == JAVASCRIPT


def test_unsupported_bytes_are_an_extraction_error_naming_the_file():
    with pytest.raises(ExtractionError, match=r"unsupported document type \(blob.bin\)"):
        extract_document(b"\x00\x01\x02 binary", sha256="x", filename="blob.bin")
    with pytest.raises(ExtractionError, match="empty document"):
        extract_document(b"", sha256="x", filename="a.pdf")


def test_pdf_route():
    data = shared_path("samples", "2024_hongze-qu.pdf").read_bytes()
    doc = extract_document(data, sha256="h", filename=None, media_type="application/octet-stream")
    assert doc.media_type == PDF and doc.tables


@pytest.mark.skipif(
    importlib.util.find_spec("ogi.extract.html_tables") is None, reason="ogi.extract.html_tables not built yet"
)
def test_js_route_reaches_the_html_extractor():
    data = shared_path("samples", "2019_shanghai-shi-bgt.js").read_bytes()
    doc = extract_document(data, sha256="s", filename="2019_shanghai-shi-bgt.js")
    assert doc.tables and "申请人情况" in "".join(c or "" for t in doc.tables for r in t.rows for c in r)
