"""The researcher's release: one self-describing, versioned bundle of the database's content.

``build_release(con, out)`` writes a directory (and a ``.zip`` of it) with README.md, a Frictionless
``datapackage.json``, every resource as CSV (UTF-8 with BOM) and Parquet, and ``MANIFEST.json``.
It reads only through the connection it is handed (the live database or a read-only snapshot).
"""

from ogi.store.release.bundle import ReleaseOptions, build_release

__all__ = ["ReleaseOptions", "build_release"]
