"""Where each document's cached result lives: beside the archive, so every worker reaches it.

Prefect's default result store is a local path of the flow's host (``$PREFECT_HOME/storage``), and
a task on a Dask or Ray worker inherits that path from the flow's context: on another machine it
reads and writes a directory that is not the flow's, or cannot be created. So when the archive
is not on the local file system (``s3://…``), results live under ``<archive>/results/``, reached
with the same endpoint as the archive and the credentials of the process that uses it (never
sent through task parameters). A local archive keeps Prefect's default store, as does a
configured ``PREFECT_RESULTS_DEFAULT_STORAGE_BLOCK`` (the operator's choice wins).

Either way the store keeps no record in memory: Prefect's stores cache every record they read or
write (an LRU of 1,000 per flow run), which held ~0.2 MB of parsed report per document — the
flow's peak RSS grew with N although only two batches' results are needed at once. Each record
is read once a night, so the cache saves nothing.
"""

from __future__ import annotations

from prefect.filesystems import RemoteFileSystem
from prefect.results import ResultStore, get_result_store
from prefect.settings import get_current_settings

from ogi.core.config import Settings
from ogi.fetch.archive import storage_options

RESULTS_DIR = "results"


def results_url(settings: Settings) -> str | None:
    """The URL of the shared result store, or None where Prefect's default store is used."""
    archive = settings.archive_location
    if archive.startswith("file://") or "://" not in archive:
        return None
    if get_current_settings().results.default_storage_block is not None:
        return None
    return f"{archive.rstrip('/')}/{RESULTS_DIR}"


def document_result_store(settings: Settings) -> ResultStore:
    """The result store for documents' cached results under ``settings`` (see the module doc)."""
    url = results_url(settings)
    if url is None:
        return get_result_store().model_copy(update={"cache_result_in_memory": False})
    return ResultStore(result_storage=RemoteFileSystem(basepath=url, settings=storage_options(settings, url)),
                       cache_result_in_memory=False)
