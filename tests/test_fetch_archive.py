"""The content-addressed archive behind fsspec URLs: a local directory (temp + rename) and a real
S3-compatible server on loopback (moto's server mode): write-once, atomic, never overwritten."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from ogi.core.config import Settings
from ogi.fetch.archive import Archive, ArchiveError, sha256_of
from ogi.fetch.registry import Agency
from ogi.fetch.schedule import crawl_locally
from tests.fixtures_sites.fault_server import SITES_DIR, serve
from tests.fixtures_sites.local_s3 import CREDENTIALS, make_bucket, s3_server


def test_local_archive_put_get_never_overwrites(tmp_path: Path):
    archive = Archive(tmp_path / "a")
    assert archive.url == (tmp_path / "a").resolve().as_uri() and archive.local
    sha = archive.put(b"%PDF-1.4 report")
    assert sha == sha256_of(b"%PDF-1.4 report") and archive.has(sha)
    path = Path(archive.path(sha))
    assert path.parent.parent.parent == tmp_path / "a" and archive.get(sha) == b"%PDF-1.4 report"
    mtime = path.stat().st_mtime_ns
    assert archive.put(b"%PDF-1.4 report") == sha and path.stat().st_mtime_ns == mtime
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".tmp-")]
    assert path.stat().st_mode & 0o222 == 0  # read-only once written
    with pytest.raises(FileNotFoundError, match="not in the archive"):
        archive.get("0" * 64)
    with pytest.raises(ValueError, match="not a sha256"):
        archive.path("../../etc/passwd")
    # the same archive named by its file:// URL
    assert Archive(archive.url).get(sha) == b"%PDF-1.4 report"


def test_local_archive_concurrent_puts_of_the_same_bytes(tmp_path: Path):
    archive = Archive(tmp_path)
    data = b"x" * 200_000
    shas: list[str] = []
    threads = [threading.Thread(target=lambda: shas.append(archive.put(data))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert len(set(shas)) == 1 and archive.get(shas[0]) == data
    assert [p.name for p in Path(archive.path(shas[0])).parent.iterdir()] == [shas[0]]


def test_corrupt_local_object_is_refused(tmp_path: Path):
    archive = Archive(tmp_path)
    sha = archive.put(b"original bytes")
    p = Path(archive.path(sha))
    p.chmod(0o644)
    p.write_bytes(b"tampered")
    with pytest.raises(FileNotFoundError, match="does not match its sha256"):
        archive.get(sha)


def test_settings_default_and_url():
    s = Settings(home=Path("/tmp/ogi-home-x"))
    assert s.archive_location == "file:///tmp/ogi-home-x/archive"
    assert Settings(home=Path("/tmp/h"), archive_url="s3://b/p").archive_location == "s3://b/p"


@pytest.fixture(scope="module")
def s3():
    with s3_server() as endpoint:
        make_bucket(endpoint, "ogi-test")
        yield endpoint


def _s3_settings(tmp_path: Path, endpoint: str, prefix: str, **kw) -> Settings:
    return Settings(home=tmp_path, archive_url=f"s3://ogi-test/{prefix}", s3_endpoint_url=endpoint,
                    **CREDENTIALS, **kw)


def test_s3_archive_write_once(s3, tmp_path):
    archive = Archive.from_settings(_s3_settings(tmp_path, s3, "a1"))
    assert not archive.local
    data = b"%PDF-1.7 on object storage"
    sha = archive.put(data)
    assert archive.has(sha) and archive.get(sha) == data
    assert archive.path(sha) == f"ogi-test/a1/{sha[:2]}/{sha[2:4]}/{sha}"
    info = archive.fs.info(archive.path(sha))
    assert archive.put(data) == sha and archive.fs.info(archive.path(sha))["ETag"] == info["ETag"]
    # Another writer's create-only PUT of an existing key is refused by the server: never replaced.
    with pytest.raises(FileExistsError):
        archive.fs.pipe_file(archive.path(sha), b"other bytes", mode="create")
    assert archive.get(sha) == data
    with pytest.raises(FileNotFoundError, match=r"s3://ogi-test/a1/00/00/0{64}: document 0{64} not in the archive"):
        archive.get("0" * 64)
    # concurrent puts of the same bytes: one object, no error
    shas: list[str] = []
    big = b"y" * 300_000
    threads = [threading.Thread(target=lambda: shas.append(archive.put(big))) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(shas) == 6 and len(set(shas)) == 1 and archive.get(shas[0]) == big
    assert sorted(archive.fs.find("ogi-test/a1")) == sorted([archive.path(sha), archive.path(shas[0])])


def test_s3_unreachable_is_a_clear_error(tmp_path):
    from tests.fixtures_sites.local_s3 import free_port

    dead = f"http://127.0.0.1:{free_port()}"
    archive = Archive.from_settings(_s3_settings(tmp_path, dead, "x", http_timeout_s=0.5, http_retries=0))
    archive.fs.retries = 1
    with pytest.raises(ArchiveError, match=r"s3://ogi-test/x/.*archive not reachable"):
        archive.put(b"bytes")


def test_crawl_into_the_s3_archive(s3, tmp_path):
    """One crawl, its bytes on the loopback S3 server and nothing on the local disk."""
    settings = _s3_settings(tmp_path / "home", s3, "crawl", http_timeout_s=0.5, http_retries=1,
                            http_backoff_s=0.01, per_host_min_interval_s=0.0)
    with serve() as site:
        agency = Agency("a1", "样例市交通运输局", "department", "prefecture", "990300",
                        listing_urls=[site.url("/gbk/xxgk/nb/index.html")])
        archive = Archive.from_settings(settings)
        results = crawl_locally([agency], settings, archive)
    docs = [d for r, _ in results for d in r.all_documents()]
    assert {d.url.rsplit("/", 1)[-1] for d in docs} == {"content_2024.html", "2024nb.docx", "2022nb.pdf",
                                                        "content_2023.html"}
    assert all(d.outcome == "new" and d.sha256 for d in docs)
    pdf = next(d for d in docs if d.url.endswith("2022nb.pdf"))
    fresh = Archive.from_settings(settings)  # what another worker or the flow sees
    assert fresh.get(pdf.sha256) == (SITES_DIR / "gbk/xxgk/nb/files/2022nb.pdf").read_bytes()
    assert len(fresh.fs.find("ogi-test/crawl")) == 4
    assert not (tmp_path / "home" / "archive").exists()
