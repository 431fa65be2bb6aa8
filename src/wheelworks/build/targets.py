"""Which targets a config selects: identifiers in cibuildwheel's style (cp312-manylinux_x86_64),
on this machine or on a CI platform, and which wheel serves which target."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from packaging.utils import parse_wheel_filename

from wheelworks.build.source import Revision, requires_python, resolve
from wheelworks.config.model import Config, ci_resources
from wheelworks.config.names import matches
from wheelworks.config.pythons import default_matrix, order
from wheelworks.shared.cache import Cache
from wheelworks.shared.errors import ConfigError
from wheelworks.shared.platforms import Platform


@dataclass(frozen=True)
class Target:
    identifier: str  # e.g. cp312-manylinux_x86_64, cp314t-manylinux_x86_64
    python: str  # e.g. 3.12, or 3.14t for a free-threaded build

    @property
    def free_threaded(self) -> bool:
        return self.python.endswith("t")


@dataclass(frozen=True)
class Matrix:
    """The CPythons a build is for, and where that list came from."""

    versions: tuple[str, ...]  # "3.12", "3.14t", in order
    from_config: bool  # [build] python named them; else the data and requires-python chose
    requires_python: str | None = None

    def describe(self) -> str:
        if self.from_config:
            return "[build] python"
        return f"every supported CPython that requires-python {self.requires_python or '(any)'} admits"


def build_matrix(config: Config, cache: Cache, log: Path, env: Mapping[str, str], revision: Revision | None = None,
                 today: date | None = None) -> Matrix:
    """The CPythons to build for: [build] python, or the data and the project's own
    requires-python at ``revision`` (resolved here, with its fetch, when not given)."""
    if config.build.python is not None:
        return matrix(config, None, today or date.today())
    revision = revision or resolve(config.project, cache, log, env)
    return matrix(config, requires_python(config.project, revision, log, env), today or date.today())


def matrix(config: Config, requires_python: str | None, today: date) -> Matrix:
    if config.build.python is not None:
        return Matrix(tuple(sorted(config.build.python, key=order)), True)
    return Matrix(tuple(default_matrix(requires_python, config.build.enable, today)), False, requires_python)



def select_targets(config: Config, platform: Platform, versions: Matrix, only: str | None = None) -> list[Target]:
    """The targets to build: each Python of the matrix on this platform, less `skip`,
    narrowed to those matching `only` (cibuildwheel-style globs, space-separated)."""
    targets = []
    for version in versions.versions:
        identifier = f"cp{version.replace('.', '')}-{platform.tag}"
        if matches(identifier, config.build.skip):
            continue
        if only is not None and not matches(identifier, only.split()):
            continue
        targets.append(Target(identifier, version))
    return targets


def ci_platform(name: str) -> Platform:
    """A platform of resources/ci.toml by name (linux-x86_64, windows-ARM64…)."""
    os_name, arch = name.split("-", 1)
    return Platform(os_name, arch, ci_resources()["platforms"][name]["tag"])


def require_targets(config: Config, platform: Platform, versions: Matrix, only: str | None) -> list[Target]:
    """The targets a build here selects; none is the config's error, said in one line."""
    targets = select_targets(config, platform, versions, only)
    if not targets:
        raise ConfigError(
            f"{config.path.name}: no target selected for {platform.tag} (matrix: "
            f"{', '.join(versions.versions) or 'empty'}, from {versions.describe()})",
            "check [build] python, enable and skip, requires-python, and --only",
        )
    return targets


def platform_targets(config: Config, name: str, versions: Matrix) -> list[Target]:
    """The targets a CI platform builds: the config's selection on that platform."""
    return select_targets(config, ci_platform(name), versions)


def serves(identifier: str, filename: str) -> bool:
    """Whether the wheel ``filename`` is the one built for ``identifier``: same Python tag,
    and a platform tag of the same family and architecture (manylinux_2_17_x86_64 and
    manylinux2014_x86_64 both serve *-manylinux_x86_64)."""
    python, platform = identifier.split("-", 1)
    family, _, arch = platform.partition("_")
    interpreter, free_threaded = python.rstrip("t"), python.endswith("t")
    return any(
        _python_serves(tag.interpreter, tag.abi, interpreter, free_threaded)
        and tag.platform.startswith(family) and tag.platform.endswith(f"_{arch}")
        for tag in parse_wheel_filename(filename)[3]
    )


def _python_serves(tag_python: str, abi: str, python: str, free_threaded: bool) -> bool:
    if abi == "abi3":  # the limited API of cp3X serves every later GIL CPython
        return not free_threaded and int(tag_python[3:]) <= int(python[3:])
    return tag_python == python and abi.endswith("t") == free_threaded
