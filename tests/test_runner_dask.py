"""``ogi demo --runner dask --scheduler ADDRESS`` on a cluster whose workers have no access to the flow's disk.

Two worker processes (one thread each) run with their own cwd, TMPDIR, HOME, OGI_HOME and
PREFECT_HOME, and an audit hook in each records every file the worker opens, creates, renames,
lists or removes under the flow's home or the flow's PREFECT_HOME (its local result storage
included). The archive is on a loopback S3 server. The
run must give the same facts as the threads run, with no worker touching the flow's disk: the
bytes, and each document's cached result, travel through the S3 archive.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
import s3fs

from ogi.core.config import DATA_DIR
from tests.fixtures_sites.local_s3 import CREDENTIALS, free_port, make_bucket, s3_server
from tests.test_flow_workers import _facts

distributed = pytest.importorskip("distributed", reason="the 'dask' extra (prefect-dask, distributed) is not installed")

DEMO = DATA_DIR / "demo"
_AUDITED = ("open", "os.mkdir", "os.rename", "os.remove", "os.rmdir", "os.listdir", "os.scandir", "os.chmod",
            "shutil.copyfile", "shutil.rmtree")


def _worker_setup(dask_worker, forbidden: list[str]) -> dict:
    """Run on each worker: move into its own directory and record file access under ``forbidden``."""
    import sys

    os.chdir(Path(os.environ["HOME"]).parent)
    seen: list[str] = []
    dask_worker._ogi_forbidden_access = seen

    def hook(event: str, args: tuple) -> None:
        if event in _AUDITED and args and isinstance(args[0], (str, bytes, os.PathLike)):
            path = os.fsdecode(args[0])
            if any(path.startswith(f) for f in forbidden):
                seen.append(f"{event} {path}")

    sys.addaudithook(hook)
    return {"cwd": os.getcwd(), "OGI_HOME": os.environ.get("OGI_HOME"), "HOME": os.environ.get("HOME"),
            "TMPDIR": os.environ.get("TMPDIR"), "pid": os.getpid()}


def _worker_access(dask_worker) -> list[str]:
    return list(getattr(dask_worker, "_ogi_forbidden_access", []))


def _tasks_run(dask_worker) -> int:
    return dask_worker.state.executed_count


def _relative_urls(rows: list[tuple]) -> list[tuple]:
    """Facts with the demo server's origin taken off their URL (each run serves it on its own port)."""
    return sorted((re.sub(r"^http://127\.0\.0\.1:\d+", "", r[0]), *r[1:]) for r in rows)


def test_dask_cluster_without_the_flow_disk_gives_the_same_facts_as_threads(demo_runs, tmp_path_factory):
    from prefect.settings import PREFECT_HOME, PREFECT_LOCAL_STORAGE_PATH

    from ogi.cli import main

    threads_home, one, _ = demo_runs  # the session's threads run of the demo
    flow_home = tmp_path_factory.mktemp("dask-flow")
    worker_root = tmp_path_factory.mktemp("dask-workers")
    local_results = Path(PREFECT_LOCAL_STORAGE_PATH.value()).resolve()
    with s3_server() as endpoint, pytest.MonkeyPatch.context() as mp:
        mp.setenv("OGI_MIN_INTERVAL", "0")
        mp.setenv("OGI_CORRECTIONS", str(DEMO / "corrections.csv"))
        mp.setenv("OGI_DEMO_PORT", str(free_port()))
        # batches of 3: the demo's 10 documents become 4 tasks, spread over both workers; one bounded
        # extraction process per worker (two cores: more only queue behind each other's imports)
        mp.setenv("OGI_BATCH_SIZE", "3")
        mp.setenv("OGI_EXTRACT_WORKERS", "1")
        results_before = set(local_results.rglob("*")) if local_results.exists() else set()
        make_bucket(endpoint, "ogi")
        s3 = {"OGI_S3_ENDPOINT": endpoint, "OGI_S3_KEY": CREDENTIALS["s3_access_key_id"],
              "OGI_S3_SECRET": CREDENTIALS["s3_secret_access_key"]}
        for k, v in {**s3, "OGI_ARCHIVE": "s3://ogi/archive"}.items():
            mp.setenv(k, v)
        workers_env = []
        for n in range(2):
            own = worker_root / f"w{n}"
            for sub in ("home", "tmp", "ogi", "prefect"):
                (own / sub).mkdir(parents=True)
            workers_env.append({"HOME": str(own / "home"), "TMPDIR": str(own / "tmp"),
                                "OGI_HOME": str(own / "ogi"), "PREFECT_HOME": str(own / "prefect"), **s3})
        # One cluster, two worker processes, each with its own environment (a nanny per worker).
        cluster = distributed.SpecCluster(
            scheduler={"cls": distributed.Scheduler, "options": {"host": "127.0.0.1", "dashboard_address": None}},
            workers={f"w{n}": {"cls": distributed.Nanny,
                               "options": {"nthreads": 1, "host": "127.0.0.1", "env": env,
                                           "local_directory": str(worker_root / f"w{n}" / "tmp")}}
                     for n, env in enumerate(workers_env)})
        try:
            client = distributed.Client(cluster)
            client.wait_for_workers(2, timeout=60)
            forbidden = [str(flow_home.resolve()), str(local_results), str(PREFECT_HOME.value().resolve())]
            infos = client.run(_worker_setup, forbidden=forbidden)
            summary = tmp_path_factory.mktemp("dask-summary") / "summary.json"
            # a Prefect server is configured (the session's harness), so nothing else is started
            code = main(["--home", str(flow_home), "demo", "--runner", "dask",
                         "--scheduler", cluster.scheduler_address, "--json", str(summary)])
            two = json.loads(summary.read_text(encoding="utf-8"))
            access = client.run(_worker_access)
            tasks = client.run(_tasks_run)
        finally:
            client.close()
            cluster.close()
        results = s3fs.S3FileSystem(endpoint_url=endpoint, key="testing", secret="testing",
                                    skip_instance_cache=True).ls("ogi/archive/results")
    facts_one = _relative_urls(_facts(threads_home))
    facts_two = _relative_urls(_facts(flow_home))

    assert code == 0
    # the workers ran in their own directories, with their own homes
    assert len({i["OGI_HOME"] for i in infos.values()}) == 2
    for info in infos.values():
        assert not info["OGI_HOME"].startswith(str(flow_home))
        assert info["cwd"] != os.getcwd()
    # both workers took part, and none touched the flow's home or its result storage
    assert all(n > 0 for n in tasks.values()), tasks
    assert access == {addr: [] for addr in access}, access
    # the flow's archive is the S3 one: no local archive under the flow's home
    assert not (flow_home / "archive").exists()
    new_local_results = (set(local_results.rglob("*")) if local_results.exists() else set()) - results_before
    assert not new_local_results, sorted(map(str, new_local_results))[:5]
    # each extracted document's result is cached beside the archive, where every worker reaches it
    assert len(results) == two["documents_processed"] > 0, results

    assert two["parsed"] == one["parsed"] > 0
    assert len(two["quarantined"]) == len(one["quarantined"]) == 2
    assert two["identity_failures"] == one["identity_failures"] > 0
    assert len(facts_two) == len(facts_one) > 1000
    assert facts_two == facts_one
