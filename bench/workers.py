"""What the bounded worker costs: the demo documents processed in-process, by reused workers, and by
a new worker per document (each mode in a fresh interpreter, side by side, repeated).

    .venv/bin/python -m bench.workers [--repeat 3] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

from ogi.core.config import DATA_DIR

MODES = {
    "in-process (OGI_EXTRACT_WORKERS=0)": {"extract_workers": 0},
    "reused worker": {"extract_workers": 1},
    "new worker per document": {"extract_workers": 1, "extract_worker_max_docs": 1},
}

_RUN = """
import hashlib, json, sys, time
from pathlib import Path
from ogi.core.config import Settings
from ogi.flows.process import process_document
settings = Settings(**json.loads(sys.argv[1]))
paths = json.loads(sys.argv[2])
rounds = int(sys.argv[3])
t0 = time.monotonic()
n = 0
for _ in range(rounds):
    for p in paths:
        data = Path(p).read_bytes()
        r = process_document(data, sha256=hashlib.sha256(data).hexdigest(), filename=Path(p).name, settings=settings)
        n += 1
print(json.dumps({"seconds": time.monotonic() - t0, "documents": n}))
"""


def demo_documents() -> list[str]:
    root = DATA_DIR / "demo"
    return sorted(str(p) for site in ("qingwu-xian", "yunxi-shi-zrzy", "shiqiao-zhen")
                  for p in _walk(root / site) if p.name.endswith((".html", ".pdf")) and p.name != "index.html"
                  and not p.name.startswith("index_") and not p.name.startswith("t20250105_90"))


def _walk(d):
    for p in d.iterdir():
        if p.is_dir():
            yield from _walk(p)
        else:
            yield p


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=3, help="passes over the documents per run")
    args = ap.parse_args(argv)
    docs = demo_documents()
    times: dict[str, list[float]] = {m: [] for m in MODES}
    for _ in range(args.repeat):
        for mode, kw in MODES.items():  # interleaved: the machine's load hits every mode alike
            out = subprocess.run([sys.executable, "-c", _RUN, json.dumps(kw), json.dumps(docs), str(args.rounds)],
                                 capture_output=True, text=True, check=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            times[mode].append(r["seconds"] / r["documents"])
    n = len(docs) * args.rounds
    print(f"{len(docs)} demo documents × {args.rounds} rounds, {args.repeat} runs per mode; seconds per document")
    for mode, ts in times.items():
        print(f"  {mode:<38} median {statistics.median(ts):.3f}  (runs: {', '.join(f'{t:.3f}' for t in ts)})")
    print(f"  ({n} documents per run)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
