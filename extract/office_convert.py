"""Convert legacy Office files (.doc, .wps, .xls, .et) with LibreOffice in headless mode.

python-docx cannot read the binary .doc/.wps formats, so they are converted to .docx first. Each
run gets a private LibreOffice profile directory: two soffice processes sharing a profile block
each other or fail silently, and pipeline workers convert in parallel.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path, PurePosixPath

from ogi.core.models import ExtractionError

NEEDS_LIBREOFFICE = (
    "needs LibreOffice: .doc/.wps files are converted with soffice --headless, which is not installed "
    "(apt-get install libreoffice-writer-nogui)"
)


def find_soffice() -> str | None:
    """The LibreOffice executable on PATH, or None."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert_with_libreoffice(
    data: bytes, *, suffix: str, target: str = "docx", timeout_s: float = 120
) -> bytes:
    """The bytes of ``data`` (a file whose extension is ``suffix``) converted to ``target``.

    Raises ExtractionError when LibreOffice is missing, times out, or produces nothing.
    """
    soffice = find_soffice()
    if soffice is None:
        raise ExtractionError(NEEDS_LIBREOFFICE)
    if not data:
        raise ExtractionError("cannot convert an empty document")
    suffix = suffix if suffix.startswith(".") else f".{suffix}"
    target_ext = target.split(":", 1)[0]  # "docx:MS Word 2007 XML" names a filter after the colon
    with tempfile.TemporaryDirectory(prefix="ogi-soffice-") as tmp:
        tmp_path = Path(tmp)
        src = tmp_path / f"input{suffix.lower()}"
        src.write_bytes(data)
        out_dir = tmp_path / "out"
        out_dir.mkdir()
        cmd = [
            soffice,
            f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}",
            "--headless",
            "--norestore",
            "--nologo",
            "--nodefault",
            "--nolockcheck",
            "--convert-to",
            target,
            "--outdir",
            str(out_dir),
            str(src),
        ]
        env = {**os.environ, "HOME": tmp}  # some builds still touch ~/.config despite the profile flag
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, start_new_session=True
        )
        try:
            _, stderr = proc.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired as exc:
            _kill_group(proc)
            raise ExtractionError(
                f"LibreOffice conversion of a {suffix} file to {target_ext} timed out after {timeout_s:g} s"
            ) from exc
        produced = sorted(out_dir.glob(f"*.{target_ext}"))
        if proc.returncode != 0 or not produced or produced[0].stat().st_size == 0:
            detail = stderr.decode("utf-8", "replace").strip()[-300:] or f"exit code {proc.returncode}"
            raise ExtractionError(
                f"LibreOffice could not convert the {suffix} file to {target_ext} "
                f"(corrupt or not really {suffix}?): {detail}"
            )
        return produced[0].read_bytes()


def _kill_group(proc: subprocess.Popen) -> None:
    """Stop soffice and the helper processes it started (its own session)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()
    proc.communicate()


def convert_to_docx(
    data: bytes, *, filename: str | None = None, timeout_s: float = 120
) -> tuple[bytes, str]:
    """The dispatcher's entry point: a .doc/.wps converted to .docx, with the new file name."""
    suffix = PurePosixPath(filename or "").suffix.lower() or ".doc"
    converted = convert_with_libreoffice(data, suffix=suffix, target="docx", timeout_s=timeout_s)
    stem = PurePosixPath(filename).stem if filename else "converted"
    return converted, f"{stem}.docx"
