"""The ``ogi`` command line: run the pipeline, extract one file, export, query, coverage."""

from __future__ import annotations

import argparse
import contextlib
import csv
import hashlib
import json
import os
import stat
import sys
from pathlib import Path

from pydantic import ValidationError

from ogi.core.config import DATA_DIR, EXTRACTOR_VERSION, TRANSFORM_VERSION, Settings, __version__

DEMO_REGISTRY = DATA_DIR / "demo" / "sites.csv"


def _print_summary(summary: dict, out=None) -> None:
    out = out or sys.stdout  # looked up per call: a default bound at import outlives a swapped stdout
    p = lambda *a: print(*a, file=out)  # noqa: E731
    p("")
    p("ogi run summary")
    p(f"  agencies crawled        {summary['agencies']}")
    p(f"  reports found           {summary['reports_found']}")
    p(f"  documents processed     {summary['documents_processed']}  (unchanged, skipped: {summary['unchanged']})")
    p(f"  parsed and loaded       {summary['parsed']}")
    p(f"  quarantined             {len(summary['quarantined'])}")
    for q in summary["quarantined"]:
        p(f"    - {q['url']}\n      {q['reason']}")
    p(f"  facts loaded            {summary['facts_loaded']}")
    p(f"  identity checks failed  {summary['identity_failures']}")
    if summary.get("fetch_errors"):
        p(f"  fetch errors            {len(summary['fetch_errors'])}")
        for e in summary["fetch_errors"]:
            p(f"    - {e['url']}: {e['error']}")
    if summary.get("crawl_warnings"):
        p(f"  crawl warnings          {len(summary['crawl_warnings'])}")
        for w in summary["crawl_warnings"]:
            p(f"    - {w['url']}: {w['error']}")
    if summary.get("skipped_reports"):
        p(f"  reports kept out        {len(summary['skipped_reports'])}  (other agencies' reports in a column)")
        for k in summary["skipped_reports"]:
            p(f"    - {k['url']}: {k['reason']}")
    if summary.get("broken_sources"):
        p(f"  broken sources          {len(summary['broken_sources'])}")
        for b in summary["broken_sources"]:
            p(f"    - {b['agency_id']}: {b['reason']}")
    ch = summary.get("changes") or {}
    if ch.get("new_reports") or ch.get("revised_reports") or ch.get("broken_sources"):
        p(f"  since the last run      {len(ch.get('new_reports', []))} new, {len(ch.get('revised_reports', []))} revised "
          f"reports, {len(ch.get('broken_sources', []))} sources broke")
        for r in ch.get("revised_reports", []):
            p(f"    - revised: {r['url']}")
        for b in ch.get("broken_sources", []):
            p(f"    - broke: {b['agency_id']}: {b['reason']}")
    if summary.get("nothing_changed"):
        p("  nothing changed since the last run")
    t = summary["totals"]
    p(f"  database now holds      {t['documents_loaded']} loaded documents, {t['facts']} facts, "
      f"{t['identity_failures']} failed identities, {t['unplaced_values']} unplaced values")
    p(f"  took                    {summary.get('seconds')} s")
    p(f"  DuckDB file             {summary['db_path']}")
    for k, v in (summary.get("export") or {}).items():
        p(f"  export ({k:<8})       {v}")
    if summary.get("alert_error"):
        p(f"  alert                   {summary['alert_error']}")
    p(f"  night                   {summary.get('verdict') or 'ok'}")


def _night_exit(summary: dict) -> int:
    """0 for a good night; 1 when a source broke (the summary's last line names them)."""
    from ogi.flows.alert import needs_attention

    return 1 if needs_attention(summary) else 0


WORKERS_HELP = "extract documents in N worker processes (default: one process, threads)"
RUNNER_HELP = ("Prefect task runner: threads (default), process (a local pool), dask or ray (extras "
               "'dask'/'ray'; with --scheduler, an existing cluster)")


def _add_runner_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--workers", type=int, default=None, help=WORKERS_HELP)
    p.add_argument("--runner", choices=["threads", "process", "dask", "ray"], default=None, help=RUNNER_HELP)
    p.add_argument("--scheduler", metavar="ADDRESS", default=None,
                   help="address of a running Dask scheduler (tcp://host:8786) or Ray cluster (--runner dask|ray)")


def _flow(args: argparse.Namespace):
    """The nightly flow on the runner the command line asks for (checked before anything runs)."""
    from ogi.flows.runners import nightly_flow

    return nightly_flow(args.workers, args.runner, args.scheduler)


def cmd_demo(args: argparse.Namespace) -> int:
    from ogi.demo_server import serve_directory
    from ogi.flows.runners import shared_api

    run = _flow(args)  # an unknown or uninstalled runner stops here, before any server starts
    # The demo server is on loopback: no need to space requests out as for a real portal.
    os.environ.setdefault("OGI_MIN_INTERVAL", "0")
    # the demo's (fictional) reviewed corrections, in place of the package's data/corrections.csv
    os.environ.setdefault("OGI_CORRECTIONS", str(DATA_DIR / "demo" / "corrections.csv"))
    settings = Settings.from_env_with_home(Path(args.home)) if args.home else Settings.from_env()
    # A stable port keeps the demo URLs the same from run to run (so the second run sees them as
    # known and asks "changed since?"); fall back to any free port when it is taken.
    port = int(os.environ.get("OGI_DEMO_PORT", "8765"))
    try:
        server = serve_directory(port=port)
        base_url = server.__enter__()
    except OSError:
        server = serve_directory(port=0)
        base_url = server.__enter__()
        print(f"port {port} is busy: demo URLs differ from earlier runs, so documents show as new URLs")
    try:
        print(f"demo agency websites served at {base_url}")
        with shared_api(args.workers, args.runner):
            summary = run(
                registry=str(DEMO_REGISTRY), base_url=base_url, home=str(settings.home),
                expected_years=list(range(2020, 2025)), include_universe=False)
    finally:
        server.__exit__(None, None, None)
    _print_summary(summary or {})
    if args.json:
        Path(args.json).write_text(json.dumps(summary, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    return _night_exit(summary or {})


def cmd_nightly(args: argparse.Namespace) -> int:
    from ogi.flows.runners import shared_api

    run = _flow(args)
    with shared_api(args.workers, args.runner):
        summary = run(registry=args.registry, home=args.home)
    _print_summary(summary or {})
    return _night_exit(summary or {})


def cmd_deploy(args: argparse.Namespace) -> int:
    """Serve the deployment against the configured Prefect server (refused without one: Prefect's
    temporary server accepts the schedule and never fires it)."""
    from ogi.flows.server import NoServer, configured_api

    try:
        api = configured_api()
    except NoServer as exc:
        print(f"ogi deploy: {exc}", file=sys.stderr)
        return 2
    run = _flow(args)
    params = {k: v for k, v in (("registry", args.registry), ("home", args.home)) if v}
    when = f"every {args.interval:g} s" if args.interval else f"on cron '{args.cron}'"
    print(f"serving deployment 'ogi-nightly/nightly' {when} on {api} (Ctrl-C to stop)", flush=True)
    # one run at a time: a night still running when the next is due makes the next wait (the run
    # lock would refuse it)
    schedule = {"interval": args.interval} if args.interval else {"cron": args.cron}
    run.serve(name="nightly", parameters=params, limit=1, print_starting_message=False, **schedule)
    return 0


def cmd_server(args: argparse.Namespace) -> int:
    """Run a Prefect server until interrupted; print the PREFECT_API_URL once it answers."""
    import signal

    from ogi.flows.server import NoServer, database_url, prefect_server, shown

    settings = Settings.from_env_with_home(Path(args.home)) if args.home else Settings.from_env()

    def _stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    try:
        with prefect_server(settings.home, host=args.host, port=args.port, timeout_s=args.timeout) as (api, proc):
            print(f"Prefect server ready, database {shown(database_url(settings.home))}", flush=True)
            print(f"PREFECT_API_URL={api}", flush=True)
            return proc.wait()
    except NoServer as exc:
        print(f"ogi server: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0


_NOT_REGULAR = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def _not_regular(mode: int) -> str | None:
    if stat.S_ISREG(mode):
        return None
    return next((what for test, what in _NOT_REGULAR if test(mode)), "not a regular file")


def _read_document(path: Path, limit: int) -> tuple[bytes | None, str | None, int]:
    """The file's bytes, or (None, reason, exit code). Never blocks or reads unbounded input: the
    path is checked before it is opened (a FIFO, a device, a directory are refused), opened without
    blocking, checked again, and read up to the size limit."""
    from ogi.core.limits import size

    try:
        st = path.stat()
    except OSError as exc:
        return None, exc.strerror or str(exc), 2
    if what := _not_regular(st.st_mode):
        return None, f"is {what}, not a regular file: refused", 2
    too_big = f"document is {size(st.st_size)}, limit {size(limit)} (OGI_EXTRACT_MAX_INPUT_MB)"
    if st.st_size > limit:
        return None, too_big, 1
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        return None, exc.strerror or str(exc), 2
    with os.fdopen(fd, "rb") as fh:
        if what := _not_regular(os.fstat(fd).st_mode):  # replaced between stat and open
            return None, f"is {what}, not a regular file: refused", 2
        data = fh.read(limit + 1)
    if len(data) > limit:
        return None, too_big, 1
    return data, None, 0


def cmd_extract(args: argparse.Namespace) -> int:
    """Exit 0 with values placed; 1 when the document is quarantined or places nothing (one line on
    stderr says why); 2 when the path cannot be read as a file."""
    from ogi.core.models import ParsedReport
    from ogi.flows.process import EXTRACTION_WARNING, display_name, process_document
    from ogi.transform.parse import facts_to_rows

    settings = Settings.from_env()
    path = Path(args.file)
    shown = display_name(str(path))
    data, problem, code = _read_document(path, settings.extract_max_input_mb << 20)
    if data is None:
        print(f"ogi extract: {shown}: {problem}", file=sys.stderr)
        return code
    result = process_document(data, sha256=hashlib.sha256(data).hexdigest(), filename=path.name,
                              report_year=args.year, find_attachments=True, settings=settings)
    if result["status"] != "parsed":
        reason = str(result["reason"]).removeprefix(f"{display_name(path.name)}: ")
        print(f"ogi extract: {shown}: {reason}", file=sys.stderr)
        return 1
    report = ParsedReport.from_dict(result["report"])
    if report.facts:
        rows = facts_to_rows(report)
        fields = ["section", "row_code", "col_code", "row_path", "col_path", "value", "value_status", "page"]
        writer = csv.DictWriter(sys.stdout, fieldnames=fields, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    failed = [c for c in report.checks if c.status == "failed"]
    if args.verbose or not report.facts:
        for u in report.unplaced:
            print(f"#   unplaced p{u.page} t{u.table_index} r{u.row_index} c{u.col_index}: "
                  f"{u.row_label_raw!r} {u.raw_text!r} — {u.reason}", file=sys.stderr)
    if not report.facts:
        print(f"ogi extract: {shown}: placed no value of the annual report: {len(report.unplaced)} values found "
              "could not be placed (listed above)", file=sys.stderr)
        return 1
    print(
        f"# {display_name(path.name)}: template {report.template_version} ({report.version_evidence}); "
        f"year {report.report_year}; {len(report.facts)} values placed, {len(report.unplaced)} unplaced, "
        f"{len(report.checks)} identity checks, {len(failed)} failed",
        file=sys.stderr,
    )
    for note in report.notes:
        if note.startswith(EXTRACTION_WARNING):
            print(f"# warning: {note.removeprefix(EXTRACTION_WARNING)}", file=sys.stderr)
    if args.verbose:
        for c in failed:
            print(f"#   FAILED {c.identity_id}: {c.description}: {c.lhs} ≠ {c.rhs} {c.detail}", file=sys.stderr)
    return 0


def _read_connection(args: argparse.Namespace):
    """A read-only connection to the home's database (release and report read only through it)."""
    from ogi.store.db import connect

    return connect(_settings(args).db_path, read_only=True)


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env_with_home(Path(args.home)) if args.home else Settings.from_env()


def cmd_export(args: argparse.Namespace) -> int:
    from ogi.core import progress
    from ogi.store.export import ExportFilter, export_all

    settings = _settings(args)
    con = _read_connection(args)
    flt = ExportFilter(tuple(args.year or ()), tuple(args.agency or ()), tuple(args.section or ()),
                       all_documents=args.all_documents)
    out = Path(args.out) if args.out else settings.export_dir
    with progress.track("export", 4) as advance:
        paths = export_all(con, out, flt, on_file=lambda _n: advance(1))
    for name, path in paths.items():
        print(f"{name:<9} {path}")
    return 0


def cmd_release(args: argparse.Namespace) -> int:
    from datetime import date

    from ogi.core import progress
    from ogi.store.release import ReleaseOptions, build_release
    from ogi.store.release.resources import RESOURCES

    try:
        day = date.fromisoformat(args.date) if args.date else None
    except ValueError:
        raise ValueError(f"--date {args.date!r} is not YYYY-MM-DD") from None
    opts = ReleaseOptions(tuple(args.year or ()), tuple(args.agency or ()), tuple(args.section or ()), day,
                          force=args.force, license=_settings(args).release_license)
    con = _read_connection(args)
    with progress.track("release", len(RESOURCES) + 3) as advance:
        manifest = build_release(con, Path(args.out), opts, on_file=lambda _n: advance(1))
    rows = {f["path"]: f["rows"] for f in manifest["files"] if f["rows"] is not None}
    print(f"release {manifest['name']}: {manifest['directory']} and {manifest['zip']}")
    for path, n in rows.items():
        if path.startswith("csv/"):
            print(f"  {path[4:-4]:<12} {n} rows")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from ogi.store.report import build_report

    out = build_report(_read_connection(args), Path(args.out), force=args.force)
    print(f"report written to {out}")
    return 0


def cmd_corrections(args: argparse.Namespace) -> int:
    from ogi.store.corrections import check_corrections

    path = Path(args.file) if args.file else _settings(args).corrections_path
    if not path.is_file():
        raise FileNotFoundError(f"{path}: corrections file not found")
    n, problems = check_corrections(_read_connection(args), path)
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        print(f"{path}: {len(problems)} problem(s) in {n} correction(s)", file=sys.stderr)
        return 1
    print(f"{path}: {n} correction(s), all apply to a known document's cell and change its value")
    return 0


def cmd_sql(args: argparse.Namespace) -> int:
    """Queries on a locked-down read-only connection (``store.db.analyst_connect``): the published
    snapshot's tables and views, no files, no network, no extensions."""
    from ogi.store.db import analyst_connect, reader_path

    settings = Settings.from_env_with_home(Path(args.home)) if args.home else Settings.from_env()
    con = analyst_connect(settings.db_path)
    try:
        if args.query:
            _run_sql(con, args.query, args.csv)
            return 0
        if sys.stdin.isatty():
            print(f"ogi sql on {reader_path(settings.db_path)} (read-only). End each query with ';'. Ctrl-D quits.")
        buf = ""
        for line in sys.stdin:
            buf += line
            if buf.strip().endswith(";"):
                _run_sql(con, buf, args.csv)
                buf = ""
        if buf.strip():
            _run_sql(con, buf, args.csv)
        return 0
    finally:
        con.close()


def _run_sql(con, query: str, as_csv: bool) -> None:
    rel = con.sql(query)
    if rel is None:
        return
    if as_csv:
        rel.df().to_csv(sys.stdout, index=False)
    else:
        rel.show(max_width=200, max_rows=200)


def cmd_matrix(args: argparse.Namespace) -> int:
    from ogi.store.coverage import coverage_matrix, matrix_summary

    con = _read_connection(args)
    df = coverage_matrix(con, years=args.year or None)
    if args.agency or args.level or args.province:
        df = _filter_matrix(con, df, args)
        if df.empty:
            raise NoMatch(f"no agency-year matches {_filters_text(args)}")
    if args.year and df.empty:
        raise NoMatch(f"no agency-year matches {_filters_text(args)}")
    if args.summary:
        df = matrix_summary(con, df)
    if args.out:
        from ogi.core.atomic import atomic_file

        with atomic_file(Path(args.out), "w", encoding="utf-8-sig", newline="") as fh:
            df.to_csv(fh, index=False)
        print(f"matrix written to {args.out} ({len(df)} rows)")
    else:
        print(df.to_string(index=False))
    return 0


def _filters_text(args: argparse.Namespace) -> str:
    parts = [f"--year {y}" for y in args.year or ()] + [f"--agency {a}" for a in args.agency or ()]
    parts += [f"--level {lv}" for lv in args.level or ()] + [f"--province {p}" for p in args.province or ()]
    return " ".join(parts)


def _filter_matrix(con, df, args: argparse.Namespace):
    ag = con.execute("SELECT agency_id, name, division_code FROM agencies").df()
    keep = df.merge(ag[["agency_id", "division_code"]], on="agency_id", how="left")
    mask = keep["agency_id"].notna()
    if args.agency:
        mask &= keep["agency_id"].isin(args.agency) | keep["name"].isin(args.agency)
    if args.level:
        mask &= keep["level"].isin(args.level)
    if args.province:
        prov = ag[ag["division_code"].str.endswith("0000", na=False)]
        codes = {str(p)[:2] for p in args.province if str(p)[:2].isdigit()}
        codes |= {c[:2] for c, n in zip(prov["division_code"], prov["name"], strict=True)
                  if any(str(p) and str(n).startswith(str(p)) for p in args.province)}
        mask &= keep["division_code"].str[:2].isin(codes)
    return df[mask.to_numpy()].reset_index(drop=True)


class NoMatch(ValueError):
    """A filter matched nothing: say so and exit 1."""


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds: {text!r}")
    return value


def version_text() -> str:
    """The package version and the code versions that key the document cache."""
    return f"ogi {__version__} (extractor {EXTRACTOR_VERSION}, transform {TRANSFORM_VERSION})"


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="ogi", description=__doc__)
    ap.add_argument("--version", action="version", version=version_text())
    ap.add_argument("--home", help="working directory for the database, archive and exports "
                                   "(default: $OGI_HOME, else the per-user data directory)")
    sub = ap.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help="serve the bundled demo sites on loopback and run the nightly flow on them")
    p.add_argument("--json", help="also write the run summary as JSON to this file")
    _add_runner_args(p)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("nightly", help="run the nightly flow over the source registry")
    p.add_argument("--registry", help="registry CSV (default: the bundled data/registry/agencies.csv)")
    _add_runner_args(p)
    p.set_defaults(func=cmd_nightly)

    p = sub.add_parser("deploy", help="serve a Prefect deployment of the nightly flow on a schedule "
                                      "(needs a Prefect server: ogi server)")
    when = p.add_mutually_exclusive_group()
    when.add_argument("--cron", default="30 2 * * *", help="cron schedule (default: 02:30 every night)")
    when.add_argument("--interval", type=_positive_seconds, metavar="SECONDS", help="run every SECONDS instead")
    p.add_argument("--registry")
    _add_runner_args(p)
    p.set_defaults(func=cmd_deploy)

    p = sub.add_parser("server", help="run a Prefect server (SQLite under the home, or "
                                      "PREFECT_API_DATABASE_CONNECTION_URL) and print its PREFECT_API_URL")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback only)")
    p.add_argument("--port", type=int, default=4200)
    p.add_argument("--timeout", type=float, default=180.0, help="seconds to wait for the server to answer")
    p.set_defaults(func=cmd_server)

    p = sub.add_parser("extract", help="extract one report file; print one CSV row per value")
    p.add_argument("file")
    p.add_argument("--year", type=int, help="report year, if the document does not say")
    p.add_argument("-v", "--verbose", action="store_true", help="list unplaced values and failed identities on stderr")
    p.set_defaults(func=cmd_extract)

    p = sub.add_parser("export", help="write facts, checks, unplaced values and the codebook as CSV (UTF-8 with BOM)")
    p.add_argument("--year", type=int, action="append")
    p.add_argument("--agency", action="append", help="agency id or exact name (repeatable)")
    p.add_argument("--section", action="append", choices=["s2", "s3", "s4", "legacy"])
    p.add_argument("--all-documents", action="store_true",
                   help="export facts of every document, not one document per agency-year")
    p.add_argument("--out", help="output directory (default: <home>/export)")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("release", help="write the versioned release bundle OUT/ and OUT.zip (README, datapackage.json, "
                                       "CSV and Parquet, MANIFEST.json)")
    p.add_argument("out", metavar="OUT")
    p.add_argument("--year", type=int, action="append")
    p.add_argument("--agency", action="append", help="agency id or exact name (repeatable)")
    p.add_argument("--section", action="append", choices=["s2", "s3", "s4", "legacy"])
    p.add_argument("--date", help="release date YYYY-MM-DD (default: the day the latest completed run finished)")
    p.add_argument("--force", action="store_true", help="replace an existing OUT and OUT.zip")
    p.set_defaults(func=cmd_release)

    p = sub.add_parser("report", help="write the quality and coverage report (one self-contained HTML file)")
    p.add_argument("out", metavar="OUT.html")
    p.add_argument("--force", action="store_true", help="replace an existing file")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("corrections", help="reviewed corrections (data/corrections.csv)")
    csub = p.add_subparsers(dest="action", required=True)
    c = csub.add_parser("check", help="validate the corrections file against the database")
    c.add_argument("--file", help="corrections CSV (default: $OGI_CORRECTIONS or the package's data/corrections.csv)")
    c.set_defaults(func=cmd_corrections)

    p = sub.add_parser("sql", help="query the database read-only (argument, or queries on stdin)")
    p.add_argument("query", nargs="?")
    p.add_argument("--csv", action="store_true", help="print results as CSV")
    p.set_defaults(func=cmd_sql)

    p = sub.add_parser("matrix", help="the expected-reports matrix: agency × year, how far each report got")
    p.add_argument("--year", type=int, action="append")
    p.add_argument("--agency", action="append", help="agency id or exact name (repeatable)")
    p.add_argument("--level", action="append", choices=["province", "prefecture", "county", "township"])
    p.add_argument("--province", action="append", help="province division code (e.g. 320000) or name prefix (江苏)")
    p.add_argument("--summary", action="store_true", help="counts by level, province and year instead of one row "
                                                           "per agency-year")
    p.add_argument("--out", help="write CSV here instead of printing")
    p.set_defaults(func=cmd_matrix)
    return ap


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 400 else text[:397] + "..."


_WATCHDOGS: list = []  # held, so the watchdog's Popen is not collected while the run lives


def main(argv: list[str] | None = None) -> int:
    import duckdb

    from ogi.core import progress
    from ogi.store.runlock import RunLocked

    # Prefect's temporary local server runs its database migrations on a fresh home: give it time.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    args = build_parser().parse_args(argv)
    progress.enable_if_terminal()
    name = args.command + (f" {args.action}" if getattr(args, "action", None) else "")
    if args.command in ("demo", "nightly", "deploy"):  # a killed run leaves no server or worker behind
        from ogi.core.reaper import reap_descendants_when_gone

        _WATCHDOGS.append(reap_descendants_when_gone())
    try:
        return args.func(args)
    except ValidationError as exc:  # a bad OGI_* value: name the variable, no traceback
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        print(f"ogi {name}: bad setting: {problems}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # the reader went away (ogi sql ... | head): stop quietly, as every Unix tool does
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            print(f"ogi {name}: the database is locked by another process (a nightly run writing?): "
                  f"{_one_line(exc)}", file=sys.stderr)
        else:
            print(f"ogi {name}: {_one_line(exc)}", file=sys.stderr)
        return 2
    except duckdb.PermissionException as exc:  # ogi sql reaching for a file, the network, an extension
        print(f"ogi {name}: {_one_line(exc)} (ogi sql reads the database's tables and views only)",
              file=sys.stderr)
        return 1
    except duckdb.Error as exc:  # bad SQL and the like: the engine's message, on one line
        print(f"ogi {name}: {_one_line(exc)}", file=sys.stderr)
        return 1
    except RunLocked as exc:
        print(f"ogi {name}: {_one_line(exc)}", file=sys.stderr)
        return 3
    except FileExistsError as exc:
        print(f"ogi {name}: {exc}", file=sys.stderr)
        return 2
    except (FileNotFoundError, ValueError) as exc:  # bad paths, bad registry rows, filters matching nothing
        if isinstance(exc, OSError) and exc.filename:
            print(f"ogi {name}: {exc.filename}: {exc.strerror}", file=sys.stderr)
            return 2
        print(f"ogi {name}: {_one_line(exc)}", file=sys.stderr)
        return 1 if _is_no_match(exc) else 2
    except OSError as exc:  # unwritable or unreadable paths
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"ogi {name}: cannot write or read {where}{exc.strerror or exc}", file=sys.stderr)
        return 2


def _is_no_match(exc: BaseException) -> bool:
    from ogi.store.export import NothingMatches as ExportNothing
    from ogi.store.release.bundle import NothingMatches as ReleaseNothing

    return isinstance(exc, (NoMatch, ExportNothing, ReleaseNothing))


if __name__ == "__main__":
    sys.exit(main())
