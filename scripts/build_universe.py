"""Regenerate data/registry/expected_universe.csv from the administrative-divisions package.

Usage: python scripts/build_universe.py [output.csv]
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ogi.fetch.universe import UNIVERSE_CSV, load_universe, write_universe  # noqa: E402


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else UNIVERSE_CSV
    n = write_universe(out)
    levels = Counter(g.level for g in load_universe(out))
    print(f"{out}: {n} governments ({', '.join(f'{k} {v}' for k, v in sorted(levels.items()))}), "
          f"{out.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
