"""Accuracy and speed benchmark: the real extractor + normalizer against a naive Camelot baseline
(and against perfect tables, to measure the normalizer alone).

    python -m bench.run            # 5 reports per layout
    python -m bench.run --quick    # 2 reports per layout
    python -m bench.run --per-layout 10 --regenerate

Generates (or reuses, under var/bench/) a corpus of synthetic reports with known cell values
(bench/corpus.py), then for each layout runs, in a fresh worker process (so peak memory is per
layout and one crash cannot stop the run):

- ``ogi``: ``extract.extract_document`` → ``transform.parse.parse_report`` (→ ``transform.validate``
  when present), the pipeline's own path;
- ``baseline``: ``camelot.read_pdf(pages="all")`` default lattice on every page, no arbitration or
  stitching, then the same normalizer (PDF layouts only).

It prints per layout: cell accuracy (values exactly right / all truth values), values wrong, wrong
values nothing warns about (silent_wrong), values missing, missing values no failed check names
(silent_missing; ``names_cell`` says what a check names), values unplaced, reports with a planted
identity error that were flagged (found/planted) and clean reports flagged anyway, seconds per report
and peak RSS of the worker.
The real samples in ../shared/samples have no truth: for them it prints what was placed and checked.
Results are also written to var/bench/results.json.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import hashlib
import importlib
import json
import mimetypes
import os
import re
import resource
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from bench.corpus import (
    BASE_LAYOUTS,
    CORPUS_VERSION,
    LAYOUTS,
    NEEDS_SOFFICE,
    generate_corpus,
    read_truth,
    unavailable,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DIR = Path(os.environ.get("OGI_SHARED_DIR", REPO_ROOT.parent / "shared"))
BENCH_HOME = REPO_ROOT / "var" / "bench"
WORKER_TIMEOUT_PER_DOC_S = 300
SAMPLE_YEARS = {"2024_hongze-qu.pdf": 2024, "2019_shanghai-shi-bgt.js": 2019, "2024_shijiazhuang-zhen.txt": 2024}


# ----------------------------------------------------------------------------- the two methods


def missing(module: str, name: str) -> str | None:
    """None when ``module.name`` imports; otherwise why not (the stage may not be written yet)."""
    try:
        getattr(__import__(module, fromlist=[name]), name)
    except Exception as exc:  # ImportError, AttributeError, or a half-written module
        return f"{module}.{name}: {type(exc).__name__}: {exc}"
    return None


def _validate(report, text: str):
    from ogi.transform.checks.validate import validate

    return validate(report, text)


def run_ogi(path: Path, year: int | None):
    """The pipeline's own path on one file, in this process: ``flows.process.analyse`` (extract,
    then parse and validate with arbitration between candidate readings, the second reader asked
    when the first is in doubt); returns the report and table count."""
    from ogi.flows.process import analyse

    data = path.read_bytes()
    media_type = mimetypes.guess_type(path.name)[0]
    report = analyse(data, sha256=hashlib.sha256(data).hexdigest(), filename=path.name, media_type=media_type,
                     report_year=year)
    return report, len({f.table_index for f in report.facts if f.table_index is not None})


def run_baseline(path: Path, year: int | None):
    """Camelot's default lattice on every page, every table taken as is, then the same normalizer."""
    import camelot
    import pypdfium2 as pdfium

    from ogi.core.models import ExtractedDocument, RawTable
    from ogi.transform.parse import parse_report

    data = path.read_bytes()
    tables = camelot.read_pdf(str(path), pages="all")
    raw = [RawTable(index=i, rows=[[str(x) for x in row] for row in t.df.to_numpy().tolist()], page=int(t.page),
                    method="camelot-lattice") for i, t in enumerate(tables)]
    pdf = pdfium.PdfDocument(str(path))
    try:
        text = "\n".join(page.get_textpage().get_text_range() for page in pdf)
        pages = len(pdf)
    finally:
        pdf.close()
    doc = ExtractedDocument(sha256=hashlib.sha256(data).hexdigest(), media_type="application/pdf", tables=raw,
                            text=text, page_count=pages, extractor="baseline-camelot-lattice")
    return _validate(parse_report(doc, report_year=year), text), len(raw)


def run_oracle(path: Path, year: int | None):
    """Perfect tables (the generator's own grids) straight into the normalizer: its accuracy alone."""
    from bench.corpus import ReportSpec, grid_rows, report_grids, report_title
    from ogi.core.models import ExtractedDocument, RawTable
    from ogi.transform.parse import parse_report

    truth_path = path.with_name(path.name.rsplit(".", 1)[0] + ".truth.csv")
    meta = json.loads(truth_path.with_suffix(".json").read_text(encoding="utf-8"))
    spec = ReportSpec(agency=meta["agency"], year=meta["year"], version=meta["template_version"],
                      values=read_truth(truth_path), seed=meta["seed"])
    grids = report_grids(spec, vertical=meta.get("style", {}).get("vertical", False))
    raw = [RawTable(index=i, rows=grid_rows(g), method="oracle") for i, g in enumerate(grids)]
    text = "\n".join([report_title(spec), *(g.title for g in grids)])
    doc = ExtractedDocument(sha256=meta["document"], media_type="oracle", tables=raw, text=text,
                            extractor="oracle")
    return _validate(parse_report(doc, report_year=year), text), len(raw)


METHODS = {"ogi": run_ogi, "baseline": run_baseline, "oracle": run_oracle}


# ----------------------------------------------------------------------------- scoring


def peak_rss_mb() -> float:
    """This process's peak RSS. VmHWM, not ru_maxrss: on Linux ru_maxrss survives exec, so a worker
    would report its parent's peak (the corpus generator) instead of its own."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def names_cell(check, key: tuple[str, str, str]) -> bool:
    """Whether a check points a reviewer at this truth cell (section, row_code, col_code).

    It does when its ``identity_id`` or ``detail`` contains
    - the cell: ``row@col``, as identity checks list their terms (``s3.new@s3c.total(5)``);
    - the row as a whole: the row code not followed by ``@`` (a term names one cell only), e.g.
      ``s3.row_total[s3.new]``, ``registration.s3.new``;
    - the section as a whole: the section code as a token of its own, e.g. ``completeness.s3``,
      ``structure[s3]`` (``s3.balance[…]`` is an identity family, not the section; ``s3c.…`` a column).
    Codes are whole tokens: ``s3.refused`` does not name ``s3.refused.secret``. The check's own
    ``section`` field is not used: every 三 identity has section s3 and would name all of 三.
    """
    section, row, col = key
    text = f"{check.identity_id} {check.detail}"
    return bool(re.search(rf"(?<!\w){re.escape(row)}@{re.escape(col)}(?![\w.])", text)
                or re.search(rf"(?<!\w){re.escape(row)}(?![\w.@])", text)
                or re.search(rf"(?<!\w){re.escape(section)}(?![\w.@])", text))


def failed_error_checks(report) -> list:
    """The checks that flag a report for review: failed, severity error (warnings do not)."""
    return [c for c in report.checks if c.status == "failed" and c.severity == "error"]


def read_truth_statuses(csv_path: Path) -> dict[tuple[str, str, str], str]:
    """value_status per truth cell: a cell printed as "/" or "无" has no value, only its status."""
    with csv_path.open(encoding="utf-8") as fh:
        return {(r["section"], r["row_code"], r["col_code"]): r["value_status"] for r in csv.DictReader(fh)}


def _exact(fact, want: float | None, status: str | None) -> bool:
    if want is None:
        return fact.value is None and (status is None or fact.value_status == status)
    return fact.value is not None and abs(fact.value - want) < 1e-6


def score(report, truth: dict, statuses: dict | None = None) -> dict[str, int]:
    """Compare placed facts with the truth, cell by cell (a value counts only if exactly right; a
    truth cell without a value — printed "/", "—", "无" — is right when a fact with no value and the
    same status is there).

    ``silent_wrong`` counts the wrong values that nothing warns about: placed with full confidence
    and named by no failed error check (``names_cell``); ``silent_missing`` the truth cells with no
    fact that no failed error check names (today only identity checks exist, and they name cells
    that are present, so nearly every missing cell is silent).
    """
    got: dict[tuple[str, str, str], Any] = {}
    for f in report.facts:
        got.setdefault((f.section, f.row_code, f.col_code), f)
    failed = failed_error_checks(report)
    right = wrong = missing = silent = silent_missing = 0
    for key, want in truth.items():
        fact = got.get(key)
        if fact is None:
            missing += 1
            if not any(names_cell(c, key) for c in failed):
                silent_missing += 1
        elif _exact(fact, want, None if statuses is None else statuses.get(key)):
            right += 1
        else:
            wrong += 1
            if fact.confidence >= 1.0 and not any(names_cell(c, key) for c in failed):
                silent += 1
    return {"cells": len(truth), "right": right, "wrong": wrong, "missing": missing,
            "extra": sum(1 for k in got if k not in truth), "unplaced": len(report.unplaced),
            "silent_wrong": silent, "silent_missing": silent_missing}


def _flagged(report) -> bool:
    return any(c.status == "failed" and c.severity == "error" for c in report.checks)


def warm_up() -> float:
    """Import what every method uses, once, before any report is timed: a nightly worker process
    pays this once (~1–2 s: pandas, Camelot, cv2, pdfium), not per report. Returns the seconds."""
    t0 = time.perf_counter()
    for module in ("pandas", "camelot", "pypdfium2", "ogi.extract", "ogi.transform.parse",
                   "ogi.transform.checks.validate", "ogi.extract.pdf_tables", "ogi.extract.ocr"):
        with contextlib.suppress(Exception):
            importlib.import_module(module)
    return round(time.perf_counter() - t0, 2)


def work(corpus: Path, layout: str, method: str) -> dict[str, Any]:
    """Run one method over one layout's documents (inside a worker process)."""
    fn = METHODS[method]
    docs = []
    import_s = warm_up()
    for truth_path in sorted((corpus / layout).glob("*.truth.csv")):
        meta = json.loads(truth_path.with_suffix(".json").read_text(encoding="utf-8"))
        path = truth_path.parent / meta["document"]
        rec: dict[str, Any] = {"document": path.name, "planted": bool(meta["failed_identities"])}
        t0 = time.perf_counter()
        try:
            report, n_tables = fn(path, meta["year"])
            rec.update(score(report, read_truth(truth_path), read_truth_statuses(truth_path)), tables=n_tables,
                       flagged=_flagged(report),
                       version=report.template_version)
        except Exception as exc:
            rec.update(error=f"{type(exc).__name__}: {exc}"[:300], cells=len(read_truth(truth_path)), right=0,
                       flagged=False)
        rec["seconds"] = round(time.perf_counter() - t0, 3)
        docs.append(rec)
    return {"layout": layout, "method": method, "docs": docs, "import_s": import_s,
            "peak_rss_mb": peak_rss_mb()}


def work_samples(method: str) -> dict[str, Any]:
    out = []
    warm_up()
    samples = SHARED_DIR / "samples"
    for path in sorted(p for p in samples.glob("*") if p.is_file() and p.name in SAMPLE_YEARS):
        if method == "baseline" and path.suffix != ".pdf":
            continue
        t0 = time.perf_counter()
        rec: dict[str, Any] = {"document": path.name}
        try:
            report, n_tables = METHODS[method](path, SAMPLE_YEARS[path.name])
            failed = [c.identity_id for c in report.checks if c.status == "failed" and c.severity == "error"]
            rec.update(tables=n_tables, facts=len(report.facts), unplaced=len(report.unplaced),
                       checks=len(report.checks), failed=failed, version=report.template_version)
        except Exception as exc:
            rec["error"] = f"{type(exc).__name__}: {exc}"[:300]
        rec["seconds"] = round(time.perf_counter() - t0, 3)
        out.append(rec)
    return {"method": method, "samples": out,
            "peak_rss_mb": peak_rss_mb()}


def _spawn(args: list[str], timeout_s: float) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "bench.run", "--worker", *args]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, cwd=REPO_ROOT)
    except subprocess.TimeoutExpired:
        return {"error": f"worker timed out after {timeout_s:.0f} s"}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        return {"error": f"worker failed rc={proc.returncode}: {proc.stderr.strip()[-400:]}"}
    return json.loads(lines[-1])


# ----------------------------------------------------------------------------- summary


def summarize(result: dict[str, Any]) -> dict[str, Any]:
    docs = result.get("docs", [])
    cells = sum(d.get("cells", 0) for d in docs)
    right = sum(d.get("right", 0) for d in docs)
    planted = [d for d in docs if d.get("planted")]
    clean = [d for d in docs if not d.get("planted")]
    return {
        "reports": len(docs),
        "accuracy": round(right / cells, 4) if cells else None,
        "wrong": sum(d.get("wrong", 0) for d in docs),
        "silent_wrong": sum(d.get("silent_wrong", 0) for d in docs),
        "missing": sum(d.get("missing", 0) for d in docs),
        "silent_missing": sum(d.get("silent_missing", 0) for d in docs),
        "unplaced": sum(d.get("unplaced", 0) for d in docs),
        "errors": sum(1 for d in docs if "error" in d),
        "found_planted": f"{sum(1 for d in planted if d.get('flagged'))}/{len(planted)}",
        "false_alarms": f"{sum(1 for d in clean if d.get('flagged') and 'error' not in d)}/{len(clean)}",
        "s_per_report": round(sum(d["seconds"] for d in docs) / len(docs), 2) if docs else None,
        "s_max": round(max(d["seconds"] for d in docs), 2) if docs else None,
        "peak_rss_mb": result.get("peak_rss_mb"),
        "first_error": next((d["error"][:80] for d in docs if "error" in d), ""),
    }


def _table(rows: list[dict[str, Any]], cols: list[str]) -> str:
    widths = {c: max([len(c), *(len(str(r.get(c, ""))) for r in rows)]) for c in cols}
    out = [" | ".join(c.ljust(widths[c]) for c in cols), "-|-".join("-" * widths[c] for c in cols)]
    out += [" | ".join(str(r.get(c, "")).ljust(widths[c]) for c in cols) for r in rows]
    return "\n".join(out)


def ensure_corpus(per_layout: int, seed: int, regenerate: bool, layouts: list[str]) -> tuple[Path, float]:
    """Reuse var/bench/corpus-v{V}-s{seed}-n{N} when complete; otherwise generate it."""
    corpus = BENCH_HOME / f"corpus-v{CORPUS_VERSION}-s{seed}-n{per_layout}"
    manifest = corpus / "manifest.json"
    have = json.loads(manifest.read_text(encoding="utf-8"))["layouts"] if manifest.exists() else []
    todo = list(layouts) if regenerate else [x for x in layouts if x not in have]
    if not todo:
        return corpus, 0.0
    t0 = time.perf_counter()  # only the layouts asked for and not there yet (seeds do not depend on which)
    docs = generate_corpus(corpus, per_layout=per_layout, seed=seed, layouts=todo)
    made = sorted((set(have) - set(todo)) | {d.layout for d in docs})
    corpus.mkdir(parents=True, exist_ok=True)
    manifest.write_text(json.dumps({"layouts": made, "seed": seed, "per_layout": per_layout}), encoding="utf-8")
    return corpus, time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.run", description="ogi accuracy/speed benchmark")
    ap.add_argument("--quick", action="store_true", help="2 reports per layout")
    ap.add_argument("--per-layout", type=int, default=None)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--layouts", default="", help="comma-separated subset of: " + ", ".join(LAYOUTS))
    ap.add_argument("--regenerate", action="store_true")
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--corpus", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--layout", help=argparse.SUPPRESS)
    ap.add_argument("--method", default="ogi", help=argparse.SUPPRESS)
    ap.add_argument("--samples", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.worker:  # one layout × one method, result as one JSON line
        res = work_samples(args.method) if args.samples else work(args.corpus, args.layout, args.method)
        print(json.dumps(res, ensure_ascii=False))
        return 0

    per_layout = args.per_layout or (2 if args.quick else 5)
    layouts = [x for x in args.layouts.split(",") if x] or list(LAYOUTS)
    unknown = [x for x in layouts if x not in LAYOUTS]
    if unknown:
        ap.error(f"unknown layouts {unknown}")
    for x in [x for x in layouts if unavailable(x)]:
        print(f"{x} skipped: needs {unavailable(x)}")
        layouts.remove(x)
    BENCH_HOME.mkdir(parents=True, exist_ok=True)
    corpus, gen_s = ensure_corpus(per_layout, args.seed, args.regenerate, layouts)
    n_docs = sum(1 for x in layouts for _ in (corpus / x).glob("*.truth.csv"))
    print(f"corpus: {corpus} ({n_docs} reports, {len(layouts)} layouts"
          + (f", generated in {gen_s:.1f} s)" if gen_s else ", reused)"))

    results: dict[str, Any] = {"corpus": str(corpus), "per_layout": per_layout, "layouts": {}, "samples": {}}
    no_parse = missing("ogi.transform.parse", "parse_report")
    no_extract = missing("ogi.extract", "extract_document")
    if no_parse:
        print(f"extractor not available (normalizer missing: {no_parse}): only the corpus was generated")
        results["extractor"] = f"not available: {no_parse}"
        (BENCH_HOME / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
        return 0
    if no_extract:
        print(f"extractor not available ({no_extract}): only the baseline is measured")
        results["extractor"] = f"not available: {no_extract}"
    methods_all = ([] if no_extract else ["ogi"]) + ([] if args.no_baseline else ["baseline"])

    # the normalizer alone on perfect tables, once per (template version, vertical labels) combination
    oracle_for: dict[tuple[str, bool], str] = {}
    for layout in (x for x in layouts if x in BASE_LAYOUTS):  # producer layouts print blank markers
        oracle_for.setdefault((LAYOUTS[layout][1], LAYOUTS[layout][2].vertical), layout)
    rows = []
    for layout in layouts:
        methods = [m for m in methods_all if m == "ogi" or LAYOUTS[layout][0] in NEEDS_SOFFICE]
        if not args.no_baseline and layout in oracle_for.values():
            methods.append("oracle")
        for method in methods:
            res = _spawn(["--corpus", str(corpus), "--layout", layout, "--method", method],
                         timeout_s=WORKER_TIMEOUT_PER_DOC_S * per_layout)
            results["layouts"].setdefault(layout, {})[method] = res
            summary = summarize(res) if "docs" in res else {"errors": res.get("error")}
            rows.append({"layout": layout, "method": method, **summary})
            print(f"  {layout:22s} {method:8s} {json.dumps(summary, ensure_ascii=False)}", flush=True)

    print()
    print(_table(rows, ["layout", "method", "reports", "accuracy", "wrong", "silent_wrong", "missing", "silent_missing",
                        "unplaced", "errors", "found_planted", "false_alarms", "s_per_report", "s_max", "peak_rss_mb"]))
    errors = [(r["layout"], r["method"], r["first_error"]) for r in rows if r.get("first_error")]
    for layout, method, err in errors:
        print(f"  {layout} / {method}: {err}")

    if (SHARED_DIR / "samples").is_dir():
        srows = []
        for method in methods_all:
            res = _spawn(["--samples", "--method", method], timeout_s=WORKER_TIMEOUT_PER_DOC_S * 3)
            results["samples"][method] = res
            for s in res.get("samples", []):
                srows.append({"sample": s["document"], "method": method, "tables": s.get("tables"),
                              "facts": s.get("facts"), "unplaced": s.get("unplaced"),
                              "failed_checks": len(s.get("failed", [])) if "error" not in s else "",
                              "seconds": s.get("seconds"), "error": s.get("error", "")[:60]})
            if "error" in res:
                srows.append({"sample": "(all)", "method": method, "error": res["error"][:60]})
        print("\nreal samples (../shared/samples; no truth: what was placed and checked)")
        print(_table(srows, ["sample", "method", "tables", "facts", "unplaced", "failed_checks", "seconds", "error"]))
    else:
        print(f"\n{SHARED_DIR / 'samples'} not found: real samples skipped")

    out = BENCH_HOME / "results.json"
    out.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"\nfull results: {out}")
    return 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    except Exception:
        traceback.print_exc()
        raise SystemExit(1) from None
