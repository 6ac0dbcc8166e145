"""A night over portals serving the hostile corpus: it finishes, loads the documents that can be read
(repaired ones included) and quarantines the others, each with the reason that names what stopped it.

Each hostile file is the one annual report of an agency of its own on a loopback site, so the real
crawler fetches it, the real bounded workers extract it and the real loader stores the outcome.
"""

from __future__ import annotations

import re

import duckdb

from ogi.demo_server import serve_directory
from tests.hostile.make_hostile import build
from tests.test_hostile import EXPECTED

# cheap to build and to serve, one of each kind: repaired, over a limit, a bomb, broken, refused
CASES = ["nul_bytes.html", "mixed_utf8_gbk.html", "wide_colspans.html", "zip_bomb.docx", "flate_bomb.pdf",
         "truncated.pdf", "password.pdf", "xxe.xlsx", "no_table.html", "report_really_html.pdf"]


def _site(root, corpus, cases=CASES, scale: str = "test") -> list[str]:
    """One agency per case: a listing page linking its report; the registry rows."""
    rows = ["agency_id,name,kind,level,division_code,parent_id,listing_url"]
    for i, name in enumerate(cases):
        agency = f"h{i:02d}"
        folder = root / agency / "ndbg"
        folder.mkdir(parents=True)
        src = build(name, corpus, scale)
        target = folder / f"report{i}{src.suffix}"
        target.write_bytes(src.read_bytes())
        title = f"示范第{i}局2024年政府信息公开工作年度报告"
        (folder / "index.html").write_text(
            f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>年报</title></head><body><ul>'
            f'<li><a href="./{target.name}" title="{title}">{title}</a><span>2025-01-10</span></li>'
            f"</ul></body></html>", encoding="utf-8")
        rows.append(f"{agency},示范第{i}局,department,county,990321,,/{agency}/ndbg/index.html")
    return rows


def test_hostile_portals_night_loads_the_good_and_quarantines_the_rest(prefect_harness, tmp_path, monkeypatch):
    from ogi.flows.nightly import nightly

    site = tmp_path / "site"
    registry = tmp_path / "sites.csv"
    registry.write_text("\n".join(_site(site, tmp_path / "corpus")) + "\n", encoding="utf-8")
    monkeypatch.setenv("OGI_MIN_INTERVAL", "0")
    monkeypatch.setenv("OGI_EXTRACT_WORKERS", "2")
    with serve_directory(site) as base_url:
        summary = nightly(registry=str(registry), base_url=base_url, home=str(tmp_path / "home"),
                          expected_years=[2024], include_universe=False, export=False)
    assert summary["status"] == "completed"
    con = duckdb.connect(str(tmp_path / "home" / "snapshot" / "ogi.duckdb"), read_only=True)
    docs = {url.rsplit("/", 1)[-1]: (status, reason, facts) for url, status, reason, facts in con.execute(
        "SELECT d.url, d.status, d.quarantine_reason, (SELECT count(*) FROM facts f WHERE f.sha256 = d.sha256) "
        "FROM documents d").fetchall()}
    for i, name in enumerate(CASES):
        got = next((v for k, v in docs.items() if k.startswith(f"report{i}.")), None)
        assert got is not None, f"{name}: not fetched ({sorted(docs)})"
        status, pattern, facts = EXPECTED[name]
        if status == "parsed":
            assert got[0] == "loaded" and got[2] == facts, (name, got)
        else:
            assert got[0] == status, (name, got)
            assert got[1] and re.search(pattern, got[1]), (name, got[1])
