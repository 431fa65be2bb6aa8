"""Search-path variables (PATH, LD_LIBRARY_PATH…): the one way wheelworks extends them."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path


def prepend_path(base: Mapping[str, str], var: str, entries: Iterable[str | Path]) -> dict[str, str]:
    """A copy of ``base`` with ``entries`` put first on the ``os.pathsep`` list ``var``."""
    env = dict(base)
    env[var] = os.pathsep.join([*map(str, entries), *filter(None, [base.get(var)])])
    return env
