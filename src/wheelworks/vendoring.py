"""Proof that a wheel carries its own copies of the recipe libraries it loads.

After a target's test, its extension modules are imported in the test venv and the
process's memory map (/proc/self/maps) lists every shared object it loaded. Each one that
is a recipe library (libtally.so.1, or auditwheel's libtally-1a2b3c4d.so.1.2.3) must come
from the installed wheel's ``<package>.libs`` folder: a copy elsewhere on the machine
(/usr/lib, an RPATH into the build prefix) fails the target, naming the library, even
though the import worked.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from wheelworks.errors import CommandError, StepError
from wheelworks.run import run

_PROBE = """
import importlib, importlib.metadata, json, sys
dist = importlib.metadata.distribution(sys.argv[1])
modules = []
for file in dist.files or []:
    path = file.as_posix()
    if path.endswith(".so") and ".libs/" not in path and not path.startswith(".."):
        modules.append(path.rsplit(".so", 1)[0].split(".", 1)[0].replace("/", "."))
for module in modules:
    importlib.import_module(module)
loaded = set()
with open("/proc/self/maps") as maps:
    for line in maps:
        fields = line.split(None, 5)
        if len(fields) == 6 and ".so" in fields[5]:
            loaded.add(fields[5].strip())
print(json.dumps({"modules": modules, "loaded": sorted(loaded), "site": str(dist.locate_file(""))}))
"""


@dataclass(frozen=True)
class Vendoring:
    modules: tuple[str, ...]  # the extension modules imported
    vendored: tuple[str, ...]  # recipe libraries loaded from the wheel's .libs (anything else fails the check)


def library_stems(prefixes: Iterable[Path]) -> set[str]:
    """The names of the shared libraries the recipes installed: libtally for libtally.so.1.2.3."""
    stems = set()
    for prefix in prefixes:
        for folder in (prefix / "lib", prefix / "lib64"):
            for path in folder.glob("*.so*") if folder.is_dir() else []:
                stems.add(path.name.split(".so", 1)[0])
    return stems


def classify(loaded: Sequence[str], site: str, stems: Iterable[str]) -> tuple[list[str], list[str]]:
    """(vendored, foreign) among the ``loaded`` paths that are recipe libraries."""
    pattern = re.compile("^(" + "|".join(re.escape(s) for s in sorted(stems)) + r")(-[0-9a-f]{8})?\.so") if stems else None
    vendored: list[str] = []
    foreign: list[str] = []
    for path in loaded:
        name = PurePosixPath(path).name
        if pattern is None or not pattern.match(name):
            continue
        inside = path.startswith(site.rstrip("/") + "/") and PurePosixPath(path).parent.name.endswith(".libs")
        (vendored if inside else foreign).append(path)
    return vendored, foreign


def check(python: Path, distribution: str, stems: Iterable[str], log: Path) -> Vendoring:
    """Import ``distribution``'s extension modules with ``python`` (the test venv's) and
    fail if a recipe library came from outside the wheel."""
    try:
        report = json.loads(run([python, "-c", _PROBE, distribution], log=log, capture=True).splitlines()[-1])
    except (CommandError, ValueError, IndexError) as exc:
        raise StepError(f"cannot tell where {distribution}'s libraries load from: {exc}") from None
    vendored, foreign = classify(report["loaded"], report["site"], stems)
    with log.open("a", encoding="utf-8") as stream:
        for path in vendored:
            stream.write(f"vendored: {path}\n")
        for path in foreign:
            stream.write(f"NOT VENDORED: {path} was loaded from outside the wheel\n")
    if foreign:
        raise StepError(f"{distribution} loads {', '.join(foreign)} from outside the wheel",
                        "the wheel does not carry its own copy; see the repair log")
    return Vendoring(tuple(report["modules"]), tuple(vendored))
