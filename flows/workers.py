"""Bounded worker processes: each document is extracted in a child process, one at a time per child,
under a wall-time and a memory limit, so one hostile document costs only itself.

Why hand-written: the standard pools cannot stop one task (``concurrent.futures`` has no per-task
kill; a dead worker breaks the whole ``ProcessPoolExecutor``), and none watches a task's memory.
Here the waiting thread polls its worker's resident memory and the clock, kills the worker when a
limit is crossed, and reports the limit by name; a worker that dies (a signal, an abort in a C
library) costs only its document and is replaced on the next request.

- At most ``Settings.extract_workers`` workers exist per host process, however many threads submit
  (the nightly flow's thread pool submits a batch at once): callers wait for a free worker, so
  memory never adds up across a batch.
- Workers are reused (start-up imports cost seconds) and replaced after
  ``extract_worker_max_docs`` documents, after any limit was hit, and when a document left them
  much larger than they started.
- A worker exits by itself when its host dies (it polls its parent), gets a CPU-time limit per
  document (so an orphan cannot spin forever) and an address-space backstop; it never writes core
  files. PDFium runs in one thread per worker process, as it must.
- Per document it reports its peak resident memory (``VmHWM`` after resetting it), which
  ``bench/hostile.py`` and the tests read.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import os
import pickle
import resource
import select
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import IO, Any

from ogi.core.limits import size

_HEADER = struct.Struct("<Q")
_POLL_S = 0.02  # how often a waiting thread samples its worker's memory
_START_TIMEOUT_S = 120.0  # imports on a busy machine
_PAGE = os.sysconf("SC_PAGE_SIZE")


class WorkerUnavailable(RuntimeError):
    """No worker process could be started: an installation problem, not a document's."""


@dataclass
class Outcome:
    """What became of one job: its result, or why there is none (a limit, a dead worker)."""

    result: Any = None
    failure: str | None = None  # a one-line reason naming the limit or the signal
    seconds: float = 0.0
    peak_rss_bytes: int = 0
    limit: str | None = None  # "timeout", "memory", "died" or "error" when failure is set


# ----------------------------------------------------------------------------- framing


def _send(fd: int, obj: Any) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(_HEADER.pack(len(data)) + data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _read_exact(fd: int, n: int) -> bytes:
    chunks = []
    while n:
        chunk = os.read(fd, min(n, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def _recv(fd: int) -> Any:
    (n,) = _HEADER.unpack(_read_exact(fd, _HEADER.size))
    return pickle.loads(_read_exact(fd, n))


def _rss_bytes(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/statm", "rb") as fh:
            return int(fh.read().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return None


def _status_kb(field_name: str) -> int:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    return 0


# ----------------------------------------------------------------------------- the host side


class _Worker:
    """One child process and its two pipes (jobs in, results out)."""

    def __init__(self) -> None:
        job_r, job_w = os.pipe()
        res_r, res_w = os.pipe()
        # the worker's stdout and stderr: its last line says why it died (closed with the worker)
        self.stderr: IO[bytes] = tempfile.TemporaryFile(prefix="ogi-worker-")  # noqa: SIM115
        env = dict(os.environ)
        env.setdefault("MALLOC_ARENA_MAX", "2")  # fewer, smaller malloc arenas: RSS tracks real use
        try:
            self.proc = subprocess.Popen(
                # -P: never import from the working directory (a folder named like a module there)
                [sys.executable, "-P", "-m", "ogi.flows.workers", str(job_r), str(res_w)],
                pass_fds=(job_r, res_w), stdin=subprocess.DEVNULL, stdout=self.stderr, stderr=self.stderr,
                env=env,
            )
        except OSError as exc:
            for fd in (job_r, job_w, res_r, res_w):
                os.close(fd)
            self.stderr.close()
            raise WorkerUnavailable(f"cannot start an extraction worker: {exc}") from exc
        os.close(job_r)
        os.close(res_w)
        self.job_w, self.res_r = job_w, res_r
        self.docs = 0
        self.baseline_rss = 0
        ready = self._wait_ready()
        self.baseline_rss = ready["rss"]

    def _wait_ready(self) -> dict:
        r, _, _ = select.select([self.res_r], [], [], _START_TIMEOUT_S)
        try:
            if not r:
                raise EOFError
            msg = _recv(self.res_r)
        except EOFError:
            tail = self._last_words()
            self.kill()
            raise WorkerUnavailable(f"an extraction worker did not start: {tail or 'no output'}") from None
        return msg

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def _last_words(self) -> str:
        """The last line the worker wrote to stderr (a C library's abort message, a traceback's end)."""
        try:
            self.stderr.seek(0, os.SEEK_END)
            end = self.stderr.tell()
            self.stderr.seek(max(0, end - 4096))
            lines = [ln.strip() for ln in self.stderr.read().decode("utf-8", "replace").splitlines() if ln.strip()]
        except (OSError, ValueError):
            return ""
        return lines[-1][:300] if lines else ""

    def run(self, job: dict, *, timeout_s: float, max_rss: int) -> Outcome:
        """Send one job and wait for its result, killing the worker past a limit."""
        self.stderr.seek(0)
        self.stderr.truncate()
        t0 = time.monotonic()
        try:
            _send(self.job_w, job)
        except OSError as exc:  # it died while idle: the document has not been tried
            raise BrokenPipeError(str(exc)) from exc
        self.docs += 1
        peak = 0
        while True:
            elapsed = time.monotonic() - t0
            if elapsed >= timeout_s:
                self.kill()
                return Outcome(failure=f"extraction stopped after {elapsed:.0f} s, limit {timeout_s:g} s "
                                       "(OGI_EXTRACT_TIMEOUT)", seconds=elapsed, peak_rss_bytes=peak,
                               limit="timeout")
            readable, _, _ = select.select([self.res_r], [], [], min(_POLL_S, timeout_s - elapsed))
            rss = _rss_bytes(self.proc.pid)
            if rss is not None:
                peak = max(peak, rss)
                if rss > max_rss:
                    self.kill()
                    return Outcome(failure=f"extraction used {size(rss)} of memory, limit {size(max_rss)} "
                                           "(OGI_EXTRACT_MAX_MEMORY_MB)", seconds=time.monotonic() - t0,
                                   peak_rss_bytes=peak, limit="memory")
            if not readable:
                continue
            try:
                msg = _recv(self.res_r)
            except EOFError:
                return self._died(t0, peak)
            peak = max(msg.get("peak_rss", 0), peak)
            if "error" in msg:
                return Outcome(failure=f"the extraction job failed: {msg['error']}", seconds=time.monotonic() - t0,
                               peak_rss_bytes=peak, limit="error")
            return Outcome(result=msg["result"], seconds=time.monotonic() - t0, peak_rss_bytes=peak)

    def _died(self, t0: float, peak: int) -> Outcome:
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()
            code = self.proc.returncode
        how = f"signal {signal.Signals(-code).name}" if code and code < 0 else f"exit code {code}"
        if code == -signal.SIGXCPU:
            how += ", its CPU-time limit"
        words = self._last_words()
        return Outcome(failure=f"the extraction worker died ({how})" + (f": {words}" if words else ""),
                       seconds=time.monotonic() - t0, peak_rss_bytes=peak, limit="died")

    def rss(self) -> int:
        return _rss_bytes(self.proc.pid) or 0

    def kill(self) -> None:
        if self.alive:
            self.proc.kill()
        self.proc.wait()
        self._close_pipes()

    def close(self) -> None:
        """Ask an idle worker to exit (end of its jobs), or kill it if it does not."""
        if self.alive:
            try:
                _send(self.job_w, None)
                self.proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self.kill()

    def _close_pipes(self) -> None:
        for fd in (self.job_w, self.res_r):
            with contextlib.suppress(OSError):
                os.close(fd)
        self.job_w = self.res_r = -1
        self.stderr.close()


@dataclass
class WorkerPool:
    """At most ``size`` workers, shared by every thread of this process."""

    _cond: threading.Condition = field(default_factory=threading.Condition)
    _idle: list[_Worker] = field(default_factory=list)
    _count: int = 0
    _pid: int = field(default_factory=os.getpid)

    def _acquire(self, max_workers: int) -> _Worker:
        with self._cond:
            while True:
                if self._idle:
                    return self._idle.pop()
                if self._count < max_workers:
                    self._count += 1
                    break
                self._cond.wait()
        try:
            return _Worker()
        except BaseException:
            with self._cond:
                self._count -= 1
                self._cond.notify()
            raise

    def _release(self, worker: _Worker, keep: bool) -> None:
        if not keep:
            worker.kill()
        with self._cond:
            if keep:
                self._idle.append(worker)
            else:
                self._count -= 1
            self._cond.notify()

    def run(self, fn: str, kwargs: dict[str, Any], *, settings: Any, limits: dict[str, Any]) -> Outcome:
        """Run ``fn`` ("module:function") with ``kwargs`` in a worker under the settings' limits."""
        job = {"fn": fn, "kwargs": kwargs, "limits": limits,
               "cpu_s": settings.extract_timeout_s * 4 + 30}
        max_rss = settings.extract_max_memory_mb << 20
        for attempt in (1, 2):
            worker = self._acquire(max(1, settings.extract_workers))
            keep = False
            try:
                outcome = worker.run(job, timeout_s=settings.extract_timeout_s, max_rss=max_rss)
            except BrokenPipeError:
                if attempt == 2:
                    raise WorkerUnavailable("extraction workers die before taking a job") from None
                continue  # that worker had died while idle; the document was not tried: once more
            except BaseException:
                raise
            else:
                grown = worker.alive and worker.rss() > worker.baseline_rss + max(max_rss - worker.baseline_rss, 0) // 2
                keep = (outcome.failure is None and worker.alive and not grown
                        and worker.docs < settings.extract_worker_max_docs)
                return outcome
            finally:
                self._release(worker, keep)
        raise AssertionError("unreachable")

    def shutdown(self) -> None:
        with self._cond:
            idle, self._idle = self._idle, []
            self._count -= len(idle)
        for w in idle:
            w.close()


_POOL: WorkerPool | None = None
_POOL_LOCK = threading.Lock()


def pool() -> WorkerPool:
    """This process's pool (a forked child gets its own: the parent's workers are not its to use)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None or _POOL._pid != os.getpid():
            _POOL = WorkerPool()
        return _POOL


@atexit.register
def _shutdown() -> None:
    if _POOL is not None and _POOL._pid == os.getpid():
        _POOL.shutdown()


# ----------------------------------------------------------------------------- the worker side

# imported once when a worker starts, so that each document pays only for its own work
_PRELOAD = ("ogi.flows.process", "ogi.extract.html_tables", "ogi.extract.docx_tables", "ogi.extract.xlsx_tables",
            "ogi.extract.pdf_tables", "ogi.transform.arbitrate", "ogi.fetch.discover")


def _watch_parent(parent: int) -> None:
    """Exit when the host process is gone (killed with -9, say): no orphaned workers."""
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            os._exit(3)


def _set_limit(kind: int, soft: int) -> None:
    _, hard = resource.getrlimit(kind)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(kind, (soft, hard))


def worker_main(job_fd: int, result_fd: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the host's to handle
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
    for name in _PRELOAD:
        importlib.import_module(name)
    from ogi.core.limits import Limits, use_limits

    _send(result_fd, {"ready": True, "rss": _status_kb("VmRSS") << 10})
    # address-space backstop for allocations faster than the host's memory polling
    vm = _status_kb("VmSize") << 10
    _set_limit(resource.RLIMIT_AS, vm + (6 << 30))
    while True:
        try:
            job = _recv(job_fd)
        except EOFError:
            return
        if job is None:
            return
        with contextlib.suppress(OSError), open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")  # reset VmHWM: the peak of this document only
        used = resource.getrusage(resource.RUSAGE_SELF)
        _set_limit(resource.RLIMIT_CPU, int(used.ru_utime + used.ru_stime + job["cpu_s"]))
        module, _, func = job["fn"].partition(":")
        try:
            with use_limits(Limits(**job["limits"])) if job["limits"] else contextlib.nullcontext():
                result = getattr(importlib.import_module(module), func)(**job["kwargs"])
        except Exception as exc:  # the job's own failure: reported, and the worker carries on
            _send(result_fd, {"error": f"{type(exc).__name__}: {exc}", "peak_rss": _status_kb("VmHWM") << 10})
            continue
        _send(result_fd, {"result": result, "peak_rss": _status_kb("VmHWM") << 10})


if __name__ == "__main__":
    worker_main(int(sys.argv[1]), int(sys.argv[2]))
