"""Shared test fixtures: where ../shared lies, and how to skip (or fail under CI) without it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
# The reference material lies beside the checkout (CI puts it there); OGI_SHARED_DIR overrides.
SHARED_DIR = Path(os.environ.get("OGI_SHARED_DIR", REPO_ROOT.parent / "shared"))


def shared_path(*parts: str) -> Path:
    """Path of a file under ../shared; skip the test without it, fail under CI (CI=true)."""
    path = SHARED_DIR.joinpath(*parts)
    if not path.exists():
        msg = f"{path} not found: the reference material ../shared is not beside this checkout"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg + " (required under CI)")
        pytest.skip(msg)
    return path


@pytest.fixture(scope="session")
def prefect_harness():
    """One temporary Prefect server for the whole session (~12 s to start; ~1 s per flow run)."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def demo_runs(prefect_harness, tmp_path_factory):
    """The demo run twice into one home, once per session: (home, first summary, second summary).

    Tests that use it only read the database. The demo's reviewed corrections are loaded, as
    ``ogi demo`` does.
    """
    from ogi.core.config import DATA_DIR
    from ogi.demo_server import serve_directory
    from ogi.flows.nightly import nightly

    demo = DATA_DIR / "demo"
    home = tmp_path_factory.mktemp("ogi-home")
    # Batches of 3 documents: the demo's 10 documents go through the flow's batching (4 batches),
    # and everything below must come out as if they had gone in one.
    with serve_directory(demo) as base_url, pytest.MonkeyPatch.context() as mp:
        mp.setenv("OGI_BATCH_SIZE", "3")
        mp.setenv("OGI_CORRECTIONS", str(demo / "corrections.csv"))
        first = nightly(registry=str(demo / "sites.csv"), base_url=base_url, home=str(home))
        second = nightly(registry=str(demo / "sites.csv"), base_url=base_url, home=str(home))
    return home, first, second
