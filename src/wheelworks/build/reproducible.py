"""Byte-for-byte reproducible wheels: the same inputs give the same wheel, anywhere.

The build and the repair run with SOURCE_DATE_EPOCH set to the build commit's time and
compiler paths mapped to "." (-ffile-prefix-map), so no timestamp or work-tree path
reaches the bytes; then the repaired wheel is rewritten in a canonical form: entries in a
fixed order (the .dist-info folder last, RECORD last of all), every timestamp the epoch,
permissions 0644 or 0755, one compression level.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import time
import zipfile
from collections.abc import Mapping
from pathlib import Path

from wheelworks.shared.atomic import temporary
from wheelworks.shared.hashes import record_hash

ZIP_EPOCH = 315532800  # 1980-01-01, the earliest time a zip entry can carry


def environment(base: Mapping[str, str], epoch: int, source: Path, cache: Path) -> dict[str, str]:
    """``base`` with SOURCE_DATE_EPOCH, and compiler flags that keep the paths of ``source``
    and of the ``cache`` (library prefixes, build environments: headers that debug info
    names) out of the objects. The flags go in CPPFLAGS, which every backend adds to its
    compile commands: a CFLAGS set here would replace the interpreter's own (-O3, -DNDEBUG,
    -g) under today's setuptools (84), leaving the extensions unoptimized."""
    env = dict(base)
    env["SOURCE_DATE_EPOCH"] = str(epoch)
    # The source's map last: it is inside the cache, and gcc takes the last map that matches.
    maps = [f"-ffile-prefix-map={cache}=/wheelworks-cache", f"-ffile-prefix-map={source}=."]
    env["CPPFLAGS"] = " ".join(filter(None, [*maps, base.get("CPPFLAGS")]))
    return env


def normalize(wheel: Path, epoch: int, changes: Mapping[str, bytes | None] | None = None) -> None:
    """Rewrite ``wheel`` in canonical form, with ``changes`` (member -> new bytes, or None
    to remove it) applied and listed in RECORD; other files' bytes are unchanged. The new
    file takes the wheel's name only once the wheel is closed: Windows cannot replace a
    file that is open."""
    stamp = time.gmtime(max(epoch, ZIP_EPOCH))[:6]
    changes = dict(changes or {})
    fd, canonical_path = temporary(wheel.parent)
    try:
        with zipfile.ZipFile(wheel) as source, os.fdopen(fd, "wb") as out:
            infos = [i for i in source.infolist() if not i.is_dir() and i.filename not in changes]
            added = {name: data for name, data in changes.items() if data is not None}
            with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as target:
                entries = [(i.filename, i) for i in infos] + [(name, None) for name in added]
                for name, info in sorted(entries, key=lambda e: _order(e[0])):
                    if info is None:
                        target.writestr(_canonical(name, False, stamp), added[name])
                    elif changes and name.endswith(".dist-info/RECORD"):
                        target.writestr(_canonical(name, False, stamp), _record(source.read(info), changes))
                    else:
                        _copy(source, info, target, stamp)
            out.flush()
            os.fsync(out.fileno())
        os.replace(canonical_path, wheel)
    finally:
        canonical_path.unlink(missing_ok=True)


def _canonical(name: str, executable: bool, stamp: tuple[int, int, int, int, int, int]) -> zipfile.ZipInfo:
    canonical = zipfile.ZipInfo(name, date_time=stamp)
    canonical.external_attr = (0o100755 if executable else 0o100644) << 16
    canonical.compress_type = zipfile.ZIP_DEFLATED
    canonical.create_system = 3  # unix, whatever made it
    return canonical


def _copy(source: zipfile.ZipFile, info: zipfile.ZipInfo, target: zipfile.ZipFile,
          stamp: tuple[int, int, int, int, int, int]) -> None:
    canonical = _canonical(info.filename, bool((info.external_attr >> 16) & 0o111), stamp)
    with source.open(info) as data, target.open(canonical, "w", force_zip64=info.file_size > 1 << 30) as dest:
        shutil.copyfileobj(data, dest, 1 << 20)


def _record(text: bytes, changes: Mapping[str, bytes | None]) -> bytes:
    """RECORD with the changed members' lines replaced (or dropped), in its own CSV form."""
    rows = [row for row in csv.reader(io.StringIO(text.decode("utf-8"))) if row and row[0] not in changes]
    own = [row for row in rows if row[0].endswith(".dist-info/RECORD")]
    rows = [row for row in rows if row not in own]
    for name, data in sorted(changes.items()):
        if data is not None:
            rows.append([name, record_hash(data), str(len(data))])
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([*rows, *own])
    return out.getvalue().encode()


def _order(name: str) -> tuple[int, str]:
    top = name.split("/", 1)[0]
    if top.endswith(".dist-info"):
        return (2 if name.endswith("/RECORD") else 1, name)
    return (0, name)


def commit_epoch(epoch: int | None, given: int | None) -> int:
    """The build commit's time; else SOURCE_DATE_EPOCH as the caller gave it; else the zip epoch."""
    for value in (epoch, given):
        if value is not None:
            return value
    return ZIP_EPOCH


