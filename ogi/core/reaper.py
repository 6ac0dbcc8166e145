"""Nothing a night started outlives it: a watchdog that kills this process's descendants once it is gone.

A ``kill -9`` (or the OOM killer) gives a process no chance to stop what it started, and Prefect's
temporary API server — a ``uvicorn`` subprocess Prefect starts and stops through ``atexit`` — was
left running after most kills (and the next run started another). Extraction workers watch their
parent themselves (``flows.workers``); other children (Prefect's server, process-pool or local Dask
workers) do not. So a run starts one small watchdog (a bare interpreter, no imports of ours): while
the run lives it notes the run's descendants (pid and start time, from ``/proc``); when the run is
gone it sends SIGKILL to each one still alive — the start time tells a recycled pid from ours — and
exits. A descendant started in the last polling interval before the kill can escape; those are
workers that watch their parent anyway. Linux only (``/proc``); elsewhere nothing is started.
"""

from __future__ import annotations

import os
import subprocess
import sys

_WATCHDOG = r"""
import os, signal, sys, time
signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the run's to handle; the watchdog follows it
signal.signal(signal.SIGTERM, signal.SIG_IGN)
run, me, interval = int(sys.argv[1]), os.getpid(), float(sys.argv[2])

def table():
    procs = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat", "rb") as fh:
                    stat = fh.read().decode("ascii", "replace")
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2:].split()
            procs[int(name)] = (int(fields[1]), fields[19])  # ppid, start time
    return procs

known = {}
while os.getppid() == run:
    procs = table()
    children = {}
    for pid, (ppid, _) in procs.items():
        children.setdefault(ppid, []).append(pid)
    todo = [run]
    while todo:
        for child in children.get(todo.pop(), []):
            if child != me:
                known[child] = procs[child][1]
                todo.append(child)
    time.sleep(interval)
procs = table()
for pid, started in known.items():
    if pid in procs and procs[pid][1] == started:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
"""


def reap_descendants_when_gone(interval: float = 0.5) -> subprocess.Popen | None:
    """Start the watchdog for this process (module doc); None where there is no ``/proc``."""
    if not os.path.isdir("/proc/self"):
        return None
    return subprocess.Popen([sys.executable, "-I", "-S", "-c", _WATCHDOG, str(os.getpid()), str(interval)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            close_fds=True)
