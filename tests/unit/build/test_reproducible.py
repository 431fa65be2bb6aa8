"""Canonical wheels: the same bytes from the same files, and a replace Windows allows."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from wheelworks.build import reproducible


def _wheel(path: Path, order: list[str]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name in order:
            zf.writestr(zipfile.ZipInfo(name, date_time=(2024, 5, 6, 7, 8, 9)), f"{name}\n")
    return path


def test_the_same_files_give_the_same_bytes(tmp_path):
    names = ["pkg/__init__.py", "pkg-1.0.dist-info/RECORD", "pkg-1.0.dist-info/METADATA", "pkg/_x.so"]
    a, b = _wheel(tmp_path / "a.whl", names), _wheel(tmp_path / "b.whl", names[::-1])
    for wheel in (a, b):
        reproducible.normalize(wheel, 1_700_000_000)
    assert a.read_bytes() == b.read_bytes()
    with zipfile.ZipFile(a) as zf:
        assert zf.namelist()[-1] == "pkg-1.0.dist-info/RECORD" and zf.namelist()[0].startswith("pkg/")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.whl", "b.whl"]  # no temporary file left


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="reads the open files from /proc (Linux)")
def test_the_wheel_is_closed_before_it_is_replaced(tmp_path, monkeypatch):
    """os.replace onto an open file fails on Windows: no descriptor may hold the wheel then."""
    wheel = _wheel(tmp_path / "pkg-1.0-py3-none-any.whl", ["pkg/__init__.py", "pkg-1.0.dist-info/RECORD"])
    real_replace, open_then = os.replace, []

    def replace(src: str | Path, dst: str | Path) -> None:
        held = [os.readlink(f"/proc/self/fd/{fd}") for fd in os.listdir("/proc/self/fd")
                if os.path.exists(f"/proc/self/fd/{fd}")]
        open_then.append(str(Path(dst).resolve()) in held or str(Path(src).resolve()) in held)
        real_replace(src, dst)

    monkeypatch.setattr(reproducible.os, "replace", replace)
    reproducible.normalize(wheel, 1_700_000_000)
    assert open_then == [False]
    assert zipfile.ZipFile(wheel).testzip() is None
