"""Write the release bundle: resources as CSV and Parquet, datapackage.json, README.md, MANIFEST.json,
then a zip of the directory.

Determinism: every query has a total order, CSV and Parquet come from DuckDB COPY (byte-stable for
the same rows and settings, whatever the thread count), the zip has fixed timestamps and
permissions, and the only run-dependent values (release date, run id) come from the database's
own ``runs`` table unless given. The directory is built beside its destination and renamed into
place; the zip is written under a temporary name and renamed.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from ogi.core.atomic import atomic_directory, atomic_file
from ogi.core.config import EXTRACTOR_VERSION, TRANSFORM_VERSION, __version__
from ogi.store.csvout import columns, copy_csv
from ogi.store.release.datapackage import build_datapackage
from ogi.store.release.readme import render_readme
from ogi.store.release.resources import RESOURCES, Filters, Resource

FORMAT_VERSION = 1
COPY_PARQUET = "(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)"


class NothingMatches(ValueError):
    """The filters select no facts: the release would be empty."""


@dataclass(frozen=True)
class ReleaseOptions:
    years: tuple[int, ...] = ()
    agencies: tuple[str, ...] = ()  # agency ids or exact names
    sections: tuple[str, ...] = ()
    release_date: date | None = None  # default: the day the latest completed run finished
    force: bool = False
    license: str = "CC-BY-4.0"


@dataclass
class FileInfo:
    path: str
    resource: str | None
    rows: int | None
    bytes: int = 0
    sha256: str = ""
    fields: list[tuple[str, str]] = field(default_factory=list)  # (name, DuckDB type)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def resolve_agencies(con: duckdb.DuckDBPyConnection, wanted: tuple[str, ...]) -> tuple[str, ...]:
    """Agency ids for ids or exact names; an unknown one is an error that names it."""
    ids: list[str] = []
    for w in wanted:
        found = [r[0] for r in con.execute(
            "SELECT agency_id FROM agencies WHERE agency_id = ? OR name = ? ORDER BY agency_id", [w, w]).fetchall()]
        if not found:
            raise NothingMatches(f"no agency {w!r} (agency id or exact name) in the database")
        ids += found
    return tuple(sorted(set(ids)))


def latest_run(con: duckdb.DuckDBPyConnection) -> tuple[str | None, date | None]:
    rows = con.execute("SELECT run_id, finished_at FROM runs WHERE status = 'completed' AND finished_at IS NOT NULL "
                      "ORDER BY finished_at DESC, run_id LIMIT 1").fetchall()
    if rows:
        return rows[0][0], rows[0][1].date()
    newest = con.execute("SELECT max(fetched_at) FROM documents").fetchall()[0][0]
    return None, (newest.date() if newest else None)


def _write_resource(con: duckdb.DuckDBPyConnection, res: Resource, flt: Filters, root: Path) -> list[FileInfo]:
    if res.prepare:
        res.prepare(con, flt)
    query, params = res.query(flt)
    fields = columns(con, query, params)
    for name, dtype in fields:
        if dtype.endswith("]") or dtype.startswith(("STRUCT", "MAP")):
            raise TypeError(f"release column {res.name}.{name} has type {dtype}: flatten it in the resource query")
    parquet = root / "parquet" / f"{res.name}.parquet"
    rows = int(con.execute(f"COPY ({query}) TO '{parquet}' {COPY_PARQUET}", params).fetchall()[0][0])
    copy_csv(con, query, params, root / "csv" / f"{res.name}.csv")
    if res.prepare:
        con.execute(f"DROP TABLE IF EXISTS _release_{res.name}")
    return [FileInfo(f"csv/{res.name}.csv", res.name, rows, fields=fields),
            FileInfo(f"parquet/{res.name}.parquet", res.name, rows, fields=fields)]


def _zip(src: Path, dest: Path, top: str, stamp: date) -> None:
    """A zip whose bytes depend only on the files: sorted entries, fixed time and permissions."""
    when = (max(stamp.year, 1980), stamp.month, stamp.day, 0, 0, 0)
    with atomic_file(dest, "wb") as fh, zipfile.ZipFile(fh, "w") as zf:
        for path in sorted(p for p in src.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(f"{top}/{path.relative_to(src).as_posix()}", date_time=when)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o100644 << 16
            info.create_system = 3
            size = path.stat().st_size
            with open(path, "rb") as data, zf.open(info, "w", force_zip64=size > 2**31 - 1) as entry:
                shutil.copyfileobj(data, entry, 1 << 20)


def build_release(con: duckdb.DuckDBPyConnection, out: Path, options: ReleaseOptions | None = None,
                  on_file: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Write the bundle ``out/`` and ``out.zip``; return the manifest."""
    opts = options or ReleaseOptions()
    out = Path(out)
    zip_path = out.with_name(out.name + ".zip")
    for p in (out, zip_path):
        if p.exists() and not opts.force:
            raise FileExistsError(f"{p} exists (use --force to replace it)")
    flt = Filters(tuple(sorted(set(opts.years))), resolve_agencies(con, opts.agencies),
                  tuple(sorted(set(opts.sections))))
    run_id, run_day = latest_run(con)
    day = opts.release_date or run_day
    if day is None:
        raise ValueError("no completed run and no documents to date the release: pass --date YYYY-MM-DD")
    name = f"ogi-release-{day.isoformat()}"
    step = on_file or (lambda _name: None)

    with atomic_directory(out, overwrite=opts.force) as root:
        (root / "csv").mkdir()
        (root / "parquet").mkdir()
        files: list[FileInfo] = []
        for res in RESOURCES:
            files += _write_resource(con, res, flt, root)
            step(res.name)
        facts_rows = next(f.rows for f in files if f.resource == "facts")
        if facts_rows == 0 and (flt.years or flt.agency_ids or flt.sections):
            raise NothingMatches(f"no facts match the filters {json.dumps(flt.as_dict(), ensure_ascii=False)}")
        for f in files:
            f.bytes = (root / f.path).stat().st_size
            f.sha256 = _sha256(root / f.path)
        meta = {
            "name": name, "format_version": FORMAT_VERSION, "date": day.isoformat(), "ogi_version": __version__,
            "extractor_version": EXTRACTOR_VERSION, "transform_version": TRANSFORM_VERSION, "run_id": run_id,
            "filters": flt.as_dict(), "license": opts.license,
        }
        package = build_datapackage(con, meta, files, flt)
        _write_text(root / "datapackage.json", json.dumps(package, ensure_ascii=False, indent=2) + "\n")
        step("datapackage.json")
        _write_text(root / "README.md", render_readme(con, root, meta, files, flt))
        step("README.md")
        listed = []
        for rel in sorted(["datapackage.json", "README.md", *(f.path for f in files)]):
            rows = next((f.rows for f in files if f.path == rel), None)
            listed.append({"path": rel, "rows": rows, "bytes": (root / rel).stat().st_size,
                           "sha256": _sha256(root / rel)})
        manifest = {**meta, "files": listed}
        _write_text(root / "MANIFEST.json", json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
    _zip(out, zip_path, name, day)
    step("zip")
    return {**manifest, "directory": str(out), "zip": str(zip_path)}


def _write_text(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
