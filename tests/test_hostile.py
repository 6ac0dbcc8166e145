"""The hostile corpus (tests/hostile/make_hostile.py) through the bounded worker and `ogi extract`.

Every file must end as parsed or quarantined with a reason naming what stopped it, within the
per-document budget (60 s, 1.5 GB resident in its worker), and a file that is half-read must say
so. Documents go through ``process_document`` (real worker processes under the real limits; each
result carries the worker's wall time and peak resident memory); what only the command line does
(refusing a FIFO, a device, a directory, an over-size file; exit codes; one-line reasons) goes
through real `ogi extract` subprocesses.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from ogi.core.config import Settings
from ogi.flows.process import EXTRACTION_WARNING, process_document
from ogi.flows.workers import pool
from tests.hostile.make_hostile import build

BUDGET_S = 60.0
BUDGET_RSS = 1536 << 20

QUARANTINED = "quarantined"
# case → (status, regex the reason must match (or a note, for parsed documents), facts expected)
EXPECTED: dict[str, tuple[str, str, int | None]] = {
    "nested_spans.html": (QUARANTINED, r"HTML nests elements [\d,]+ deep, limit 512 \(OGI_EXTRACT_MAX_DEPTH\)$", None),
    "merge_whole_sheet.xlsx": (QUARANTINED, r"merged range A1:XFD1048576 expands to 17\.2 G cells, limit 200 k "
                                            r"\(OGI_EXTRACT_MAX_TABLE_CELLS\)$", None),
    "far_corner_cell.xlsx": (QUARANTINED, r"content from A1:XFD1048576 expands to 17\.2 G cells, limit 200 k", None),
    "zip_bomb.docx": (QUARANTINED, r"unzips to 1 GB \(member word/document\.xml alone 1 GB\), limit 256 MB "
                                   r"\(OGI_EXTRACT_MAX_UNZIPPED_MB\)$", None),
    "zip_bomb.xlsx": (QUARANTINED, r"unzips to 1 GB \(member xl/sharedStrings\.xml alone 1 GB\), limit 256 MB", None),
    "flate_bomb.pdf": (QUARANTINED, r"PDF stream at byte [\d,]+ inflates to over 256 MB, limit 256 MB "
                                    r"\(OGI_EXTRACT_MAX_STREAM_MB\)$", None),
    "restricted.pdf": (QUARANTINED, r"no table of the annual report", None),  # read, not refused
    "huge_gridspan.docx": (QUARANTINED, r"table 1 expands to 500 k cells, limit 200 k", None),
    "wide_colspans.html": (QUARANTINED, r"table 1 expands to 50 M cells, limit 200 k \(OGI_EXTRACT_MAX_TABLE_CELLS\)$",
                           None),
    "million_rows.xlsx": (QUARANTINED, r"stores 1,000,000 cells, limit 200 k", None),
    "full_width_merges.xlsx": (QUARANTINED, r"its 2,000 merged ranges expand to 32\.8 M cells, limit 200 k", None),
    "one_huge_cell.html": (QUARANTINED, r"table cell holds over 52\.4 M characters, limit 100 k "
                                        r"\(OGI_EXTRACT_MAX_CELL_CHARS\)$", None),
    "many_tables.html": (QUARANTINED, r"document holds 100 k tables, limit 2 k \(OGI_EXTRACT_MAX_TABLES\)$", None),
    "many_rows.html": (QUARANTINED, r"table 1 expands to 600 k cells, limit 200 k", None),
    "backticks.js": (QUARANTINED, r"no table of the annual report", None),
    "huge_pages.pdf": (QUARANTINED, r"page 1 is 5\.08 × 5\.08 m \(25\.8 m²\), limit 2 m² \(OGI_EXTRACT_MAX_PAGE_AREA_M2\)$",
                       None),
    # half-read before: repaired now, and the repair is said
    "nul_bytes.html": ("parsed", r"dropped 3\d\d NUL bytes \(never page content\)", 200),
    "control_chars.html": ("parsed", r"dropped 3\d\d control characters", 200),
    "mixed_utf8_gbk.html": ("parsed", r"page mixes UTF-8 and GB18030: decoded piece by piece, \d+ of \d+ pieces GB18030",
                            200),
    "no_table.html": (QUARANTINED, r"no table of the annual report \(二/三/四\) found in the document$", None),
    "report_in_attachment.html": ("container", r"the report is in its attachment\(s\): P02025011124301\.pdf$", None),
    # handled well before: kept
    "empty.pdf": (QUARANTINED, r"empty document", None),
    "truncated.pdf": (QUARANTINED, r"PDF is corrupt", None),
    "truncated.docx": (QUARANTINED, r"not a readable \.docx file", None),
    "truncated.xlsx": (QUARANTINED, r"not a readable \.xlsx file", None),
    "password.pdf": (QUARANTINED, r"PDF is encrypted \(password required\)", None),
    "billion_laughs.docx": (QUARANTINED, r"not a readable \.docx file: .*entity amplification", None),
    "xxe.xlsx": (QUARANTINED, r"not a readable \.xlsx file .*undefined entity", None),
    "report_really_pdf.xlsx": ("parsed", r"", 200),
    "report_really_html.pdf": ("parsed", r"", 200),
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("hostile")


@pytest.fixture(scope="module")
def settings() -> Settings:
    return Settings(extract_workers=2)


@pytest.mark.parametrize("name", list(EXPECTED))
def test_hostile_document_ends_within_budget_with_its_reason(name, corpus, settings):
    path = build(name, corpus)
    data = path.read_bytes()
    status, pattern, n_facts = EXPECTED[name]
    result = process_document(data, sha256=hashlib.sha256(data).hexdigest(), filename=path.name,
                              find_attachments=True, settings=settings)
    if path.stat().st_size > (8 << 20):
        path.unlink()
    assert result["status"] == status, result.get("reason")
    assert result["seconds"] <= BUDGET_S and result["peak_rss_bytes"] <= BUDGET_RSS, result
    if status == "parsed":
        facts = result["report"]["facts"]
        assert len(facts) == n_facts
        warnings = [n.removeprefix(EXTRACTION_WARNING) for n in result["report"]["notes"]
                    if n.startswith(EXTRACTION_WARNING)]
        if pattern:
            assert any(re.search(pattern, w) for w in warnings), warnings
    else:
        reason = result["reason"]
        assert "\n" not in reason and reason.startswith(f"{path.name}: "), reason
        assert re.search(pattern, reason), reason


def test_a_repaired_page_gives_the_numbers_of_the_good_page(corpus, settings):
    """Dropping NULs and control bytes and decoding mixed pieces changes no number."""
    from tests.hostile.make_hostile import GOOD_HTML

    def values(data: bytes) -> dict:
        r = process_document(data, sha256=hashlib.sha256(data).hexdigest(), filename="a.html", settings=settings)
        return {(f["row_code"], f["col_code"]): (f["value"], f["value_status"]) for f in r["report"]["facts"]}

    good = values(GOOD_HTML.read_bytes())
    assert len(good) == 200
    for name in ("nul_bytes.html", "control_chars.html", "mixed_utf8_gbk.html"):
        assert values(build(name, corpus).read_bytes()) == good, name


# ----------------------------------------------------------------------------- the limits themselves


def test_memory_limit_stops_a_worker_and_the_next_document_is_fine(corpus):
    """With the stream check lifted, PDFium inflates the 1 GB stream: the worker is killed at a
    256 MB limit, the document quarantined naming the limit, and a new worker takes the next one."""
    small = Settings(extract_workers=1, extract_max_memory_mb=256, extract_max_stream_mb=4096)
    data = build("flate_bomb.pdf", corpus).read_bytes()
    t0 = time.monotonic()
    result = process_document(data, sha256="bomb", filename="flate_bomb.pdf", settings=small)
    assert result["status"] == QUARANTINED
    assert re.search(r"extraction used \d+ MB of memory, limit 256 MB \(OGI_EXTRACT_MAX_MEMORY_MB\)$",
                     result["reason"]), result["reason"]
    assert result["peak_rss_bytes"] < 512 << 20 and time.monotonic() - t0 < BUDGET_S
    good = build("report_really_html.pdf", corpus).read_bytes()
    after = process_document(good, sha256="good", filename="report.html", settings=small)
    assert after["status"] == "parsed", (after.get("reason"), after.get("peak_rss_bytes"))


def test_timeout_stops_a_worker(corpus):
    slow = Settings(extract_workers=1, extract_timeout_s=0.3)
    data = build("report_really_pdf.xlsx", corpus).read_bytes()  # a real PDF: seconds of Camelot
    result = process_document(data, sha256="pdf", filename="report.pdf", settings=slow)
    assert result["status"] == QUARANTINED
    assert re.search(r"extraction stopped after \d+ s, limit 0\.3 s \(OGI_EXTRACT_TIMEOUT\)$", result["reason"])
    assert result["seconds"] < 5


def test_a_worker_that_dies_costs_only_its_job():
    settings = Settings(extract_workers=1)
    outcome = pool().run("os:abort", {}, settings=settings, limits={})
    assert outcome.failure and "SIGABRT" in outcome.failure and outcome.limit == "died"
    again = pool().run("os:getpid", {}, settings=settings, limits={})
    assert again.failure is None and isinstance(again.result, int)


def _worker_children() -> int:
    """Extraction workers that are children of this process right now."""
    n = 0
    for tid in os.listdir(f"/proc/{os.getpid()}/task"):
        with open(f"/proc/{os.getpid()}/task/{tid}/children") as fh:
            for pid in fh.read().split():
                try:
                    with open(f"/proc/{pid}/cmdline", "rb") as c:
                        n += b"ogi.flows.workers" in c.read()
                except OSError:
                    pass
    return n


def test_many_threads_share_at_most_extract_workers_processes(corpus):
    """Prefect's thread pool submits a batch at once: documents queue for the workers, whose number
    never exceeds the setting, so memory does not add up across the batch."""
    settings = Settings(extract_workers=2)
    data = build("report_really_html.pdf", corpus).read_bytes()
    results: list[dict] = []
    most = 0
    done = threading.Event()

    def one(i: int) -> None:
        results.append(process_document(data, sha256=f"t{i}", filename="r.html", settings=settings))

    def watch() -> None:
        nonlocal most
        while not done.is_set():
            most = max(most, _worker_children())
            time.sleep(0.02)

    watcher = threading.Thread(target=watch)
    watcher.start()
    threads = [threading.Thread(target=one, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done.set()
    watcher.join()
    assert [r["status"] for r in results] == ["parsed"] * 8
    assert 1 <= most <= 2


# ----------------------------------------------------------------------------- `ogi extract`


MEASURE = Path(__file__).parent / "hostile" / "run_measured.py"


def _ogi_extract(path: Path | str, tmp_path: Path) -> tuple[int, list[str], str, float, int]:
    """(exit code, stderr lines, stdout, seconds, peak resident bytes of the command and its worker)."""
    out, err = tmp_path / "out", tmp_path / "err"
    measured = subprocess.run([sys.executable, str(MEASURE), str(BUDGET_S * 2), str(out), str(err),
                               sys.executable, "-m", "ogi", "extract", str(path)],
                              capture_output=True, check=True, cwd=tmp_path, timeout=BUDGET_S * 3)
    m = json.loads(measured.stdout)
    lines = err.read_text(encoding="utf-8").splitlines()
    return m["code"], lines, out.read_text(encoding="utf-8"), m["seconds"], m["peak_rss_bytes"]


@pytest.mark.parametrize("name, what", [("fifo.pdf", "a FIFO \\(named pipe\\)"), ("directory.pdf", "a directory"),
                                        ("dev_zero", "a character device")])
def test_extract_refuses_what_is_not_a_file_at_once(name, what, corpus, tmp_path):
    path = build(name, corpus)
    code, err, out, seconds, _ = _ogi_extract(path, tmp_path)
    assert code == 2 and out == "" and len(err) == 1, err
    assert re.fullmatch(rf"ogi extract: {re.escape(str(path))}: is {what}, not a regular file: refused", err[0])
    assert seconds < 20  # start-up only: nothing is read


def test_extract_refuses_an_oversize_file_before_reading_it(corpus, tmp_path):
    path = build("huge_page.html", corpus)
    code, err, _, seconds, peak = _ogi_extract(path, tmp_path)
    path.unlink()
    assert code == 1 and len(err) == 1, err
    assert err[0].endswith("huge_page.html: document is 200 MB, limit 64 MB (OGI_EXTRACT_MAX_INPUT_MB)")
    assert peak < 200 << 20 and seconds < 20


def test_extract_exit_codes_and_one_line_reasons(corpus, tmp_path):
    code, err, out, seconds, peak = _ogi_extract(build("zip_bomb.docx", corpus), tmp_path)
    assert code == 1 and out == "" and len(err) == 1 and "OGI_EXTRACT_MAX_UNZIPPED_MB" in err[0]
    assert seconds <= BUDGET_S and peak <= BUDGET_RSS
    code, err, out, _, _ = _ogi_extract(build("report_in_attachment.html", corpus), tmp_path)
    assert code == 1 and out == "" and err == [
        f"ogi extract: {corpus / 'report_in_attachment.html'}: no report tables on this page; "
        "the report is in its attachment(s): P02025011124301.pdf"]
    code, err, out, _, _ = _ogi_extract(build("no_table.html", corpus), tmp_path)
    assert code == 1 and out == "" and len(err) == 1 and err[0].endswith("no table of the annual report (二/三/四) "
                                                                         "found in the document")


def test_extract_says_what_it_repaired_and_names_odd_files_on_one_line(corpus, tmp_path):
    code, err, out, _, _ = _ogi_extract(build("nul_bytes.html", corpus), tmp_path)
    assert code == 0 and len(out.splitlines()) == 201
    assert any(re.fullmatch(r"# warning: dropped \d+ NUL bytes \(never page content\)", line) for line in err), err
    odd = build("odd_filename", corpus)
    code, err, out, _, _ = _ogi_extract(odd, tmp_path)
    assert code == 0 and len(out.splitlines()) == 201
    assert len(err) == 1 and "\\nnewline.html: template 2021" in err[0]


def test_stream_check_ends_on_any_bytes():
    """The PDF stream check inflates into a discarded buffer: it must end (and pass) on streams that
    are complete, truncated, followed by other data, or not zlib at all."""
    import random
    import zlib as z

    from ogi.core.limits import Limits, use_limits
    from ogi.extract.budget import check_pdf_streams

    rng = random.Random(3)
    noise = bytes(rng.getrandbits(8) for _ in range(200_000))
    whole = z.compress(noise)
    cases = [b"stream\n" + whole + b"\nendstream", b"stream\r\n" + whole[: len(whole) // 2],
             b"stream\n" + whole + b"stream\n" + whole + noise, b"stream\n" + noise, b"stream\n", noise]
    with use_limits(Limits.from_settings(Settings())):
        for data in cases:
            check_pdf_streams(data)
