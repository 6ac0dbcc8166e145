"""A process that imports ogi and Prefect once, then forks one child per night the crash test asks for.

Importing Prefect costs 4–13 s per interpreter on a busy 2-core machine; the crash test starts a
dozen nights, so each is a fork of this process (single-threaded, nothing started yet) that runs
``ogi.cli.main`` in a session of its own — a real process, killed with a real SIGKILL. Its Prefect
settings were read at import, so the child's result store is set per night through
``temporary_settings``.

Protocol, one JSON object per line: ``{"op": "start", "argv", "env", "log", "storage"}`` answers
``{"pid"}``; ``{"op": "wait", "pid"}`` answers ``{"rc"}`` (negative: killed by that signal).
"""

from __future__ import annotations

import json
import os
import sys
import traceback

import ogi.cli
import ogi.flows.runners  # noqa: F401 - imported here, once, for every child


def _child(req: dict) -> int:
    os.setsid()
    fd = os.open(req["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    os.environ.clear()
    os.environ.update(req["env"])
    from pathlib import Path

    from prefect.settings import PREFECT_LOCAL_STORAGE_PATH, temporary_settings

    with temporary_settings(updates={PREFECT_LOCAL_STORAGE_PATH: Path(req["storage"])}):
        return ogi.cli.main(req["argv"])


def main() -> None:
    for line in sys.stdin:
        req = json.loads(line)
        if req["op"] == "start":
            pid = os.fork()
            if pid == 0:
                rc = 70
                try:
                    rc = _child(req)
                except SystemExit as exc:
                    rc = exc.code if isinstance(exc.code, int) else 1
                except BaseException:
                    traceback.print_exc()
                finally:
                    sys.stdout.flush()
                    sys.stderr.flush()
                    os._exit(rc)
            answer: dict = {"pid": pid}
        else:
            _, status = os.waitpid(req["pid"], 0)
            answer = {"rc": os.waitstatus_to_exitcode(status)}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
