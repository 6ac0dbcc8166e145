"""The capability probes themselves: a machine with only LibreOffice Writer must skip Calc tests."""

from __future__ import annotations

import os

from tests.capabilities import component_missing


def _fake_install(tmp_path, libs: list[str]) -> str:
    program = tmp_path / "program"
    program.mkdir()
    for lib in libs:
        (program / lib).write_bytes(b"")
    binary = program / "soffice"
    binary.write_text("#!/bin/sh\n", encoding="utf-8")
    link = tmp_path / "soffice"
    os.symlink(binary, link)  # as /usr/bin/soffice links into /usr/lib/libreoffice/program
    return str(link)


def test_writer_only_machine_lacks_calc(tmp_path):
    binary = _fake_install(tmp_path, ["libswlo.so"])
    assert component_missing("writer", binary) is None
    reason = component_missing("calc", binary)
    assert reason is not None and "Calc" in reason and "libreoffice-calc-nogui" in reason


def test_no_libreoffice_at_all():
    assert component_missing("writer", None) == "LibreOffice (soffice) is not installed"
