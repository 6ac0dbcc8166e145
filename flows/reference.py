"""Reference tables (codebook with label paths, crosswalk) as rows for the loader."""

from __future__ import annotations

import csv
from fnmatch import fnmatch
from typing import Any

from ogi.core.config import DATA_DIR
from ogi.core.datafiles import open_text
from ogi.transform.knowledge.codebook import load_codebook


def _read_csv(name: str) -> list[dict[str, str]]:
    path = DATA_DIR / name
    if not path.is_file():
        return []
    with open_text(path) as fh:
        return list(csv.DictReader(fh))


def reference_rows() -> dict[str, list[dict[str, Any]]]:
    cb = load_codebook()
    codebook = []
    for name in sorted(p.name for p in DATA_DIR.iterdir() if fnmatch(p.name, "*codebook*.csv")):
        for r in _read_csv(name):
            codebook.append({
                **r,
                "order": int(r["order"]) if r.get("order") else None,
                "signed": str(r.get("signed", "")).lower() == "true",
                "parent": r.get("parent") or None,
                "label_path": cb.label_path(r["code"]),
            })
    crosswalk = [{**r, "seq": i} for i, r in enumerate(_read_csv("crosswalk.csv"), start=1)]
    return {"codebook": codebook, "crosswalk": crosswalk}
