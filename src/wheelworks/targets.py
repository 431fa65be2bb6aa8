"""Which targets a config selects: identifiers in cibuildwheel's style (cp312-manylinux_x86_64),
on this machine or on a CI platform, and which wheel serves which target."""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass

from packaging.utils import parse_wheel_filename

from wheelworks.config import Config, ci_resources
from wheelworks.platforms import Platform


@dataclass(frozen=True)
class Target:
    identifier: str  # e.g. cp312-manylinux_x86_64
    python: str  # e.g. 3.12


def matches(identifier: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(identifier, pattern) for pattern in patterns)


def select_targets(config: Config, platform: Platform, only: str | None = None) -> list[Target]:
    """The targets to build: each configured Python on this platform, less `skip`,
    narrowed to those matching `only` (cibuildwheel-style globs, space-separated)."""
    targets = []
    for version in config.build.python:
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


def platform_targets(config: Config, name: str) -> list[Target]:
    """The targets a CI platform builds: the config's selection on that platform."""
    return select_targets(config, ci_platform(name))


def serves(identifier: str, filename: str) -> bool:
    """Whether the wheel ``filename`` is the one built for ``identifier``: same Python tag,
    and a platform tag of the same family and architecture (manylinux_2_17_x86_64 and
    manylinux2014_x86_64 both serve *-manylinux_x86_64)."""
    python, platform = identifier.split("-", 1)
    family, _, arch = platform.partition("_")
    return any(
        tag.interpreter == python and tag.platform.startswith(family) and tag.platform.endswith(f"_{arch}")
        for tag in parse_wheel_filename(filename)[3]
    )
