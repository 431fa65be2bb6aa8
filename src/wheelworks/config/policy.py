"""The libc a Linux wheel may need: PEP 600 and 656 policies, and who can install what.

A policy names the oldest glibc (manylinux_2_17) or musl (musllinux_1_2) a wheel must load
on. ``[build] manylinux`` makes every wheel meet it: the repair targets it, and a wheel whose
files need newer symbol versions fails, naming them. Unset, a wheel gets the lowest tag its
binary allows, which on a new machine is a new glibc: one warning line says who cannot
install it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Literal

from wheelworks.shared.compat import tomllib

ALIASES = {"manylinux1": "manylinux_2_5", "manylinux2010": "manylinux_2_12", "manylinux2014": "manylinux_2_17"}
# The glibc newer than which a wheel warns when no policy was asked for: what the
# manylinux_2_28 image (the CI default) gives, and what pip on RHEL 8 and Debian 10 takes.
WARN_ABOVE = (2, 28)
# CI's images by the glibc they build for: a policy gets the newest image it allows.
IMAGES = {(2, 17): "manylinux2014", (2, 28): "manylinux_2_28", (2, 34): "manylinux_2_34"}


@dataclass(frozen=True, order=True)
class Policy:
    family: Literal["manylinux", "musllinux"]
    major: int
    minor: int

    @property
    def name(self) -> str:
        return f"{self.family}_{self.major}_{self.minor}"

    @property
    def libc(self) -> str:
        return f"{'glibc' if self.family == 'manylinux' else 'musl'} {self.major}.{self.minor}"

    def plat(self, arch: str) -> str:
        """auditwheel's --plat for this policy on ``arch``."""
        return f"{self.name}_{arch}"


def parse(value: str) -> Policy | None:
    """A PEP 600 (manylinux_X_Y, or the aliases manylinux1/2010/2014) or PEP 656
    (musllinux_X_Y) policy name; None for anything else."""
    found = re.fullmatch(r"(manylinux|musllinux)_(\d+)_(\d+)", ALIASES.get(value, value))
    if not found:
        return None
    family: Literal["manylinux", "musllinux"] = "manylinux" if found.group(1) == "manylinux" else "musllinux"
    return Policy(family, int(found.group(2)), int(found.group(3)))


def problem(value: str) -> str | None:
    """Why ``value`` is no policy, or None."""
    if parse(value) is None:
        return "is not a manylinux or musllinux policy: use manylinux_2_17 (manylinux2014), manylinux_2_28, musllinux_1_2…"
    return None


def image_family(policy: Policy) -> str | None:
    """The manylinux image CI builds in for ``policy``: the newest whose glibc it allows."""
    fits = [glibc for glibc in IMAGES if glibc <= (policy.major, policy.minor)]
    return IMAGES[max(fits)] if policy.family == "manylinux" and fits else None


def lowest_glibc(tags: Iterable[str]) -> tuple[int, int] | None:
    """The oldest glibc any of a wheel's platform tags asks for (manylinux2014 and
    manylinux_2_17 both say 2.17); None for a wheel that is not manylinux."""
    found = [(p.major, p.minor) for tag in tags
             if (p := parse(re.sub(r"_(x86_64|aarch64|i686|ppc64le|s390x|armv7l|riscv64)$", "", tag)))
             and p.family == "manylinux"]
    return min(found) if found else None


def distributions() -> dict[str, tuple[int, int]]:
    """Linux distributions still in use, and their glibc (resources/distributions.toml)."""
    text = resources.files("wheelworks").joinpath("resources/distributions.toml").read_text()
    return {name: (int(v.split(".")[0]), int(v.split(".")[1])) for name, v in tomllib.loads(text)["glibc"].items()}


def refused_on(glibc: tuple[int, int], known: Mapping[str, tuple[int, int]]) -> list[str]:
    """The distributions whose glibc is older than ``glibc``: pip there will not install the wheel."""
    return [name for name, theirs in known.items() if theirs < glibc]


def warning(wheel: str, tags: Iterable[str], known: Mapping[str, tuple[int, int]]) -> str | None:
    """One line for a wheel, built with no policy asked for, that needs a glibc newer than 2.28."""
    glibc = lowest_glibc(tags)
    if glibc is None or glibc <= WARN_ABOVE:
        return None
    who = refused_on(glibc, known)
    return (f"{wheel} needs glibc {glibc[0]}.{glibc[1]}: pip will not install it on {', '.join(who) or 'older systems'}; "
            "set [build] manylinux = \"manylinux_2_17\" with toolchain = \"zig\", or build in the CI images")


def blockers(needs: Mapping[str, Iterable[str]], policy: Policy) -> list[str]:
    """``symbol@GLIBC_X.Y`` for each versioned symbol newer than ``policy`` allows; ``needs``
    maps each version (GLIBC_2.34) to the symbols that ask for it."""
    found = []
    for version, symbols in needs.items():
        number = re.fullmatch(r"GLIBC_(\d+)\.(\d+)(?:\.\d+)?", version)
        if number and (int(number.group(1)), int(number.group(2))) > (policy.major, policy.minor):
            found += [f"{symbol}@{version}" for symbol in sorted(symbols)]
    return sorted(found, key=lambda s: (s.split("@")[1], s))

