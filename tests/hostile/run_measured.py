"""Run a command and report its exit code, wall time and peak resident memory, as JSON on stdout.

A small process of its own starts the command, so ``wait4``'s ``ru_maxrss`` (the largest resident
set of the command and of every child it waited for, the extraction worker included) does not
start from a large parent's size: a forked child's peak counts the parent's pages it began with.

    python run_measured.py TIMEOUT_S CMD... > result.json   (the command's stdout/stderr: see --out/--err)
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time


def main() -> int:
    timeout = float(sys.argv[1])
    out, err, cmd = sys.argv[2], sys.argv[3], sys.argv[4:]
    t0 = time.monotonic()
    with open(out, "wb") as fo, open(err, "wb") as fe:
        proc = subprocess.Popen(cmd, stdout=fo, stderr=fe, stdin=subprocess.DEVNULL, start_new_session=True)
        killed = False
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if not killed and time.monotonic() - t0 > timeout:
                os.killpg(proc.pid, signal.SIGKILL)
                killed = True
            time.sleep(0.02)
    json.dump({"code": os.waitstatus_to_exitcode(status), "seconds": time.monotonic() - t0,
               "peak_rss_bytes": usage.ru_maxrss << 10, "killed": killed}, sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
