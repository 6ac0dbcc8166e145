"""Registry loading, division codes from the divisions package, the expected universe."""

from __future__ import annotations

import csv
import re

import pytest

from ogi.core.config import DATA_DIR
from ogi.fetch.registry import REGISTRY_CSV, Agency, RegistryError, load_registry, resolve_division_code
from ogi.fetch.universe import UNIVERSE_CSV, expected_governments, expected_report_rows, load_universe


def test_shipped_registry_loads_and_codes_agree_with_the_divisions_package():
    agencies = load_registry()
    ids = {a.agency_id for a in agencies}
    assert {"gov-320813", "dept-310000-bgt", "gov-350128", "gov-350128-syq", "dept-350128-dsj"} <= ids
    for a in agencies:
        assert Agency.from_dict(a.to_dict()) == a
        resolved = resolve_division_code(a.name)
        if resolved is not None:  # zones and towns the package does not list resolve to None
            assert resolved == a.division_code, a.name
        if a.hints.get("title_regex"):
            re.compile(a.hints["title_regex"])
        assert all(u.startswith("https://") for u in a.listing_urls)
    pingtan = {a.agency_id: a for a in agencies if "pingtan" in " ".join(a.listing_urls)}
    assert {u for a in pingtan.values() for u in a.listing_urls} == {"https://www.pingtan.gov.cn/zwgk/zfxxgk/zfxxgknb/"}
    assert pingtan["gov-350128"].hosts() == {"www.pingtan.gov.cn"}


def test_demo_sites_need_a_base_url():
    path = DATA_DIR / "demo" / "sites.csv"
    agencies = load_registry(path, base_url="http://127.0.0.1:8123")
    assert agencies[0].listing_urls[0].startswith("http://127.0.0.1:8123/") and agencies[0].hosts() == {"127.0.0.1:8123"}
    with pytest.raises(RegistryError, match="needs a base_url"):
        load_registry(path)


def test_bad_registry_rows_name_file_and_line(tmp_path):
    bad = tmp_path / "r.csv"
    bad.write_text("agency_id,name,kind,level,division_code\nx,某局,bureau,county,320813\n", encoding="utf-8")
    with pytest.raises(RegistryError, match=r"r\.csv:2: kind 'bureau'"):
        load_registry(bad)
    bad.write_text("agency_id,name,kind,level,division_code\nx,某局,department,county,3208\n", encoding="utf-8")
    with pytest.raises(RegistryError, match="not 6 digits"):
        load_registry(bad)
    with pytest.raises(RegistryError, match="not found"):
        load_registry(tmp_path / "missing.csv")


@pytest.mark.parametrize(("name", "code"), [
    ("淮安市洪泽区人民政府", "320813"),
    ("上海市人民政府办公厅", "310000"),
    ("平潭县人民政府", "350128"),
    ("北京市朝阳区", "110105"),
    ("吉林省长春市朝阳区人民政府", "220104"),
    ("朝阳区", None),  # several 朝阳区: ambiguous without a parent
    ("石家庄镇人民政府", None),  # townships are not in the package
])
def test_resolve_division_code(name, code):
    assert resolve_division_code(name) == code


def test_universe_file_matches_the_package_and_is_complete():
    govs = expected_governments()
    levels = {lv: sum(g.level == lv for g in govs) for lv in ("province", "prefecture", "county")}
    assert levels["province"] == 31  # 22 provinces + 5 autonomous regions + 4 municipalities
    assert 330 <= levels["prefecture"] <= 340 and 2800 <= levels["county"] <= 2900
    codes = {g.division_code for g in govs}
    assert all(g.parent_division_code in codes for g in govs if g.parent_division_code)
    assert all(re.fullmatch(r"\d{6}", c) for c in codes)
    by_id = {g.agency_id: g for g in govs}
    assert by_id["gov-320813"].name == "洪泽区人民政府" and by_id["gov-320813"].parent_division_code == "320800"
    assert by_id["gov-152900"].name == "阿拉善盟行政公署"
    assert by_id["gov-441900"].level == "prefecture"  # 东莞市: no districts
    assert by_id["gov-429004"].parent_division_code == "420000"  # 仙桃市: under the province
    # the committed CSV is what the package generates (regenerate with scripts/build_universe.py)
    assert load_universe(UNIVERSE_CSV) == govs
    assert UNIVERSE_CSV.stat().st_size < 2_000_000
    rows = expected_report_rows([2023, 2024], govs[:2])
    assert rows == [{"agency_id": govs[0].agency_id, "report_year": 2023}, {"agency_id": govs[0].agency_id, "report_year": 2024},
                    {"agency_id": govs[1].agency_id, "report_year": 2023}, {"agency_id": govs[1].agency_id, "report_year": 2024}]


def test_registry_government_ids_follow_the_universe():
    universe = {g.agency_id for g in load_universe()}
    with REGISTRY_CSV.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["kind"] == "government" and re.fullmatch(r"gov-\d{6}", row["agency_id"]):
                assert row["agency_id"] in universe
