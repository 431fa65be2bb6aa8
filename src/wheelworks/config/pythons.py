"""CPython versions as data (resources/pythons.toml), and the default matrix they give."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from importlib import resources

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from wheelworks.shared.compat import tomllib
from wheelworks.shared.errors import ConfigError

ENABLE = ("prerelease", "free-threaded")  # [build] enable: cibuildwheel's words


@dataclass(frozen=True)
class PythonVersion:
    version: str  # e.g. 3.14
    released: date
    end_of_life: date
    prerelease: bool
    free_threaded: bool  # a free-threaded build (python3.14t) exists


@functools.cache
def known() -> tuple[PythonVersion, ...]:
    data = tomllib.loads(resources.files("wheelworks").joinpath("resources/pythons.toml").read_text())
    return tuple(
        PythonVersion(p["version"], p["released"], p["end-of-life"], p["status"] == "prerelease", p["free-threaded"])
        for p in data["python"]
    )


def default_matrix(requires_python: str | None, enable: Iterable[str], today: date) -> list[str]:
    """Every final CPython not past its end of life on ``today`` that ``requires_python``
    admits (pre-releases too with "prerelease"), as "3.X", each followed by "3.Xt" when
    "free-threaded" is enabled and the version has such a build."""
    enabled = set(enable)
    try:
        admits = SpecifierSet(requires_python or "")
    except InvalidSpecifier:
        raise ConfigError(f"pyproject.toml: requires-python {requires_python!r} is not a version specifier") from None
    matrix = []
    for python in known():
        if python.end_of_life < today or (python.prerelease and "prerelease" not in enabled):
            continue
        if not admits.contains(Version(python.version), prereleases=True):
            continue
        matrix.append(python.version)
        if python.free_threaded and "free-threaded" in enabled:
            matrix.append(python.version + "t")
    return matrix


def order(version: str) -> tuple[int, bool]:
    """Sort key of "3.X" and "3.Xt": by minor version, the GIL build first."""
    return int(version.rstrip("t").split(".")[1]), version.endswith("t")
