"""Whole-or-nothing files, with the mode a plain open() would give."""

import os
import stat

import pytest

from wheelworks.shared import atomic


def test_a_write_is_whole_and_gets_the_umask_s_mode(tmp_path):
    path = tmp_path / "deep" / "f.txt"
    atomic.write_text(path, "one")
    atomic.write_text(path, "two")
    assert path.read_text() == "two"
    assert stat.S_IMODE(path.stat().st_mode) == atomic.file_mode() == 0o666 & ~_umask()
    assert not [p for p in path.parent.iterdir() if p.name.startswith(atomic.PARTIAL)]


def test_a_failed_write_leaves_the_old_file_and_no_partial(tmp_path):
    path = tmp_path / "f.bin"
    atomic.write_bytes(path, b"old")

    def chunks():
        yield b"new, then "
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic.write_bytes(path, chunks())
    assert path.read_bytes() == b"old" and sorted(p.name for p in tmp_path.iterdir()) == ["f.bin"]


def test_a_private_file_is_private_from_its_first_byte(tmp_path):
    fd, partial = atomic.temporary(tmp_path, mode=0o600)
    os.close(fd)
    assert stat.S_IMODE(partial.stat().st_mode) == 0o600


def test_only_old_partials_are_swept(tmp_path):
    old, new = tmp_path / f"{atomic.PARTIAL}old", tmp_path / f"{atomic.PARTIAL}new"
    old.write_bytes(b"x")
    new.write_bytes(b"x")
    os.utime(old, (0, 0))
    assert atomic.sweep_partials(tmp_path, now=7200.0 + new.stat().st_mtime - 7200.0) == [old]
    assert new.exists() and not old.exists()


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
