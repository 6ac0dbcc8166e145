"""Time and peak memory of `ogi extract` on every hostile file (tests/hostile/make_hostile.py).

Each file is extracted by a real `ogi extract` subprocess; its wall time is measured here and its
peak memory is the largest resident set of the process tree (``wait4``'s ``ru_maxrss`` covers the
command and every child it waited for, so the extraction worker counts). A cap keeps an old,
unbounded build from taking the machine: the run is killed at ``--cap-seconds`` and gets an address
space limit of ``--cap-gb``.

    .venv/bin/python -m bench.hostile --scale issue --out /tmp/hostile-after.tsv
    .venv/bin/python -m bench.hostile --src /path/to/other/checkout --out /tmp/hostile-before.tsv

``--src`` runs another checkout's code (its stage folders laid out as the installed package, first
on PYTHONPATH) with this environment's packages: the before/after table of one machine and run.
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _namespace_tree(src: Path, out: Path) -> Path:
    """The installed layout of checkout ``src`` as links (its scripts/namespace_tree.py)."""
    subprocess.run([sys.executable, str(src / "scripts" / "namespace_tree.py"), str(out)], check=True,
                   stdout=subprocess.DEVNULL)
    return out


def run_one(path: Path, *, env: dict[str, str], cap_s: float, cap_gb: float, cwd: str) -> dict:
    cmd = [sys.executable, "-m", "ogi", "extract", str(path)]
    limit = int(cap_gb * (1 << 30))

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    t0 = time.monotonic()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env,
                                preexec_fn=cap, start_new_session=True, cwd=cwd)  # noqa: PLW1509 (single-threaded here)
        killed = False
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - t0 > cap_s:
                os.killpg(proc.pid, signal.SIGKILL)
                killed = True
            time.sleep(0.05)
        seconds = time.monotonic() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        lines = [ln for ln in err.read().decode("utf-8", "replace").splitlines() if ln.strip()]
        out.seek(0)
        rows = max(0, len(out.read().splitlines()) - 1)
    if killed:
        outcome = f"killed at {cap_s:g} s"
    elif proc.returncode < 0:
        outcome = f"died: {signal.Signals(-proc.returncode).name}"
    else:
        outcome = f"exit {proc.returncode}"
    last = next((ln for ln in reversed(lines) if not ln.startswith("#   ")), "")
    if any("MemoryError" in ln for ln in lines):
        last = "MemoryError: " + last
    return {"outcome": outcome, "seconds": round(seconds, 1), "peak_mb": round(usage.ru_maxrss / 1024),
            "values": rows, "reason": last[:200]}


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(ROOT))
    from tests.hostile.make_hostile import CASES, build

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", choices=["test", "issue"], default="issue")
    ap.add_argument("--src", help="checkout whose code to run (default: this one)")
    ap.add_argument("--cap-seconds", type=float, default=240)
    ap.add_argument("--cap-gb", type=float, default=8)
    ap.add_argument("--out", help="also write the table as TSV here")
    ap.add_argument("names", nargs="*")
    args = ap.parse_args(argv)
    env = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="ogi-hostile-") as tmp:
        if args.src:
            tree = _namespace_tree(Path(args.src).resolve(), Path(tmp) / "tree")
            env["PYTHONPATH"] = str(tree)
        files = Path(tmp) / "files"
        rows = []
        for case in CASES:
            if args.names and case.name not in args.names:
                continue
            path = build(case.name, files, args.scale)
            r = run_one(path, env=env, cap_s=args.cap_seconds, cap_gb=args.cap_gb, cwd=tmp)
            rows.append((case.name, r))
            print(f"{case.name:<28} {r['outcome']:<16} {r['seconds']:>7} s {r['peak_mb']:>6} MB "
                  f"{r['values']:>4} values  {r['reason']}", flush=True)
            if path.is_file() and path.stat().st_size > (1 << 20):
                path.unlink()  # keep the temporary directory small
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            fh.write("file\toutcome\tseconds\tpeak_mb\tvalues\treason\n")
            for name, r in rows:
                fh.write(f"{name}\t{r['outcome']}\t{r['seconds']}\t{r['peak_mb']}\t{r['values']}\t{r['reason']}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
