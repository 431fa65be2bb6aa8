"""Search-path variables (PATH, LD_LIBRARY_PATH…), the one way wheelworks extends them;
and the one test of whether a location is a URL or a path."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path


def prepend_path(base: Mapping[str, str], var: str, entries: Iterable[str | Path]) -> dict[str, str]:
    """A copy of ``base`` with ``entries`` put first on the ``os.pathsep`` list ``var``."""
    env = dict(base)
    env[var] = os.pathsep.join([*map(str, entries), *filter(None, [base.get(var)])])
    return env


def is_url(location: str) -> bool:
    """``scheme://…`` rather than a path on this machine."""
    return "://" in location


def is_remote(location: str) -> bool:
    """A URL, or git's scp-like ``user@host:path``: a repository not on this machine."""
    return is_url(location) or re.match(r"^[\w.-]+@[\w.-]+:", location) is not None
