"""``datapackage.json``: a Frictionless Tabular Data Package describing every file, field, type and
unit, with primary and foreign keys. Descriptions come from the one data dictionary
(``data/dictionary.csv``) and, for the panel's series, from the crosswalk.

Each resource is its CSV file (validated by ``frictionless validate``: types, keys, hashes); the
Parquet file with the same rows is named in the resource's ``parquet`` property (Frictionless
tools read no Parquet without a plugin, and need not).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import duckdb

from ogi.store.dictionary import load_dictionary
from ogi.store.release.resources import RESOURCES, Filters, panel_series

if TYPE_CHECKING:
    from ogi.store.release.bundle import FileInfo

LICENSES = {
    "CC-BY-4.0": ("Creative Commons Attribution 4.0", "https://creativecommons.org/licenses/by/4.0/"),
    "CC0-1.0": ("Creative Commons Zero v1.0 Universal", "https://creativecommons.org/publicdomain/zero/1.0/"),
    "ODC-BY-1.0": ("Open Data Commons Attribution License v1.0", "https://opendatacommons.org/licenses/by/1-0/"),
}


def frictionless_type(duckdb_type: str) -> str:
    t = duckdb_type.upper()
    if t in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"):
        return "integer"
    if t in ("DOUBLE", "FLOAT", "REAL") or t.startswith("DECIMAL"):
        return "number"
    if t == "BOOLEAN":
        return "boolean"
    if t.startswith("TIMESTAMP"):
        return "datetime"
    if t == "DATE":
        return "date"
    return "string"


def series_descriptions(con: duckdb.DuckDBPyConnection, flt: Filters) -> dict[str, tuple[str, str | None]]:
    """The wide panel's series columns → (description, unit), from the crosswalk."""
    out: dict[str, tuple[str, str | None]] = {}
    for s in panel_series(con, flt.sections):
        text = f"{s['label_en']} ({s['label_zh']}); comparability across templates: {s['comparability']}"
        if s["derived"]:
            text += f"; derived ({s['derived']}): {s['formula']}"
        text += ". The report's headline value (the 总计 column where the series has one), reviewed corrections applied."
        out[s["series_id"]] = (text, s["unit"])
    return out


def build_datapackage(con: duckdb.DuckDBPyConnection, meta: dict[str, Any], files: list[FileInfo],
                      flt: Filters) -> dict[str, Any]:
    d = load_dictionary()
    title, path = LICENSES.get(meta["license"], (meta["license"], None))
    licence: dict[str, str] = {"name": meta["license"], "title": title}
    if path:
        licence["path"] = path
    resources = []
    for res in RESOURCES:
        obj = f"release.{res.name}"
        series = series_descriptions(con, flt) if res.name == "panel_wide" else {}
        pair = [f for f in files if f.resource == res.name]
        fields = []
        for name, dtype in pair[0].fields:
            text, unit = series.get(name) or (d.describe(obj, name), d.unit(obj, name))
            f: dict[str, Any] = {"name": name, "type": frictionless_type(dtype)}
            if text:
                f["description"] = text
            if unit:
                f["unit"] = unit
            if f["type"] == "datetime":
                f["format"] = "%Y-%m-%dT%H:%M:%S.%fZ"
            if name in res.primary_key:
                f["constraints"] = {"required": True}
            fields.append(f)
        schema: dict[str, Any] = {"fields": fields, "missingValues": [""]}
        if res.primary_key:
            schema["primaryKey"] = list(res.primary_key)
        if res.foreign_keys:
            schema["foreignKeys"] = [
                {"fields": list(fk.fields), "reference": {"resource": fk.resource, "fields": list(fk.reference)}}
                for fk in res.foreign_keys]
        description = d.describe(obj)
        csv_file = next(fi for fi in pair if fi.path.endswith(".csv"))
        parquet = next(fi for fi in pair if fi.path.endswith(".parquet"))
        resources.append({
            "name": res.name,
            "path": csv_file.path,
            "profile": "tabular-data-resource",
            "format": "csv",
            "mediatype": "text/csv",
            "encoding": "utf-8-sig",
            "bytes": csv_file.bytes,
            "hash": f"sha256:{csv_file.sha256}",
            "description": description,
            "dialect": {"delimiter": ",", "quoteChar": '"', "doubleQuote": True, "header": True},
            "schema": schema,
            # the same rows, typed, in Parquet (Frictionless tools read the CSV; DuckDB, pandas, R
            # and Spark read this)
            "parquet": {"path": parquet.path, "mediatype": "application/vnd.apache.parquet",
                        "bytes": parquet.bytes, "hash": f"sha256:{parquet.sha256}"},
        })
    return {
        "profile": "tabular-data-package",
        "name": meta["name"],
        "title": "ogi: government information disclosure annual reports (政府信息公开工作年度报告) as one fact table",
        "description": d.describe("release"),
        "version": f"{meta['date']}",
        "created": f"{meta['date']}T00:00:00Z",
        "licenses": [licence],
        "keywords": ["government information disclosure", "政府信息公开", "China", "FOI", "panel data"],
        "ogi": {k: meta[k] for k in ("format_version", "ogi_version", "extractor_version", "transform_version",
                                     "run_id", "filters")},
        "resources": resources,
    }
