"""Time and peak memory of `ogi extract` on every hostile file (tests/hostile/make_hostile.py).

Each file is extracted by a real `ogi extract` subprocess; its wall time and peak memory (the
largest resident set of the command and its extraction worker, ``wait4``'s ``ru_maxrss``) are
measured by tests/hostile/run_measured.py. A cap keeps an old, unbounded build from taking the
machine: the run is killed at ``--cap-seconds`` and gets an address-space limit of ``--cap-gb``
(``prlimit``).

    .venv/bin/python -m bench.hostile --scale issue --out /tmp/hostile-after.tsv
    .venv/bin/python -m bench.hostile --src /path/to/other/checkout --out /tmp/hostile-before.tsv

``--src`` runs another checkout's code (its stage folders laid out as the installed package, first
on PYTHONPATH) with this environment's packages: the before/after table of one machine and run.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _namespace_tree(src: Path, out: Path) -> Path:
    """The installed layout of checkout ``src`` as links (its scripts/namespace_tree.py)."""
    subprocess.run([sys.executable, str(src / "scripts" / "namespace_tree.py"), str(out)], check=True,
                   stdout=subprocess.DEVNULL)
    return out


def run_one(path: Path, *, env: dict[str, str], cap_s: float, cap_gb: float, cwd: str) -> dict:
    """`ogi extract PATH` under tests/hostile/run_measured.py (a small parent, so the peak is the
    command's own), with an address-space cap of ``cap_gb`` for builds that have no limits."""
    out, err = Path(cwd) / "out", Path(cwd) / "err"
    limit = int(cap_gb * (1 << 30))
    cmd = ["prlimit", f"--as={limit}", sys.executable, "-m", "ogi", "extract", str(path)]
    measured = subprocess.run([sys.executable, str(ROOT / "tests" / "hostile" / "run_measured.py"), str(cap_s),
                               str(out), str(err), *cmd], capture_output=True, check=True, cwd=cwd, env=env)
    m = json.loads(measured.stdout)
    lines = [ln for ln in err.read_text(encoding="utf-8", errors="replace").splitlines() if ln.strip()]
    rows = max(0, len(out.read_text(encoding="utf-8", errors="replace").splitlines()) - 1)
    if m["killed"]:
        outcome = f"killed at {cap_s:g} s"
    elif m["code"] < 0:
        outcome = f"died: {signal.Signals(-m['code']).name}"
    else:
        outcome = f"exit {m['code']}"
    last = next((ln for ln in reversed(lines) if not ln.startswith(("#   ", "# warning"))), "")
    warned = [ln.removeprefix("# warning: ") for ln in lines if ln.startswith("# warning: ")]
    if any("MemoryError" in ln for ln in lines):
        last = "MemoryError: " + last
    if m["code"] == 0:
        last = "warning: " + "; ".join(warned) if warned else ""
    return {"outcome": outcome, "seconds": round(m["seconds"], 1), "peak_mb": round(m["peak_rss_bytes"] / 2**20),
            "values": rows, "reason": last.replace(str(path.parent) + "/", "")[:220]}


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
