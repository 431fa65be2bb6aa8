"""Where a target's seconds go inside its steps: each phase's time, added up by name."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


class Phases:
    """One target's phases. Its steps run one after another, but work done ahead of them
    (its build environment, made while the libraries build) may add a phase meanwhile."""

    def __init__(self) -> None:
        self._seconds: dict[str, float] = {}
        self._lock = threading.Lock()

    def add(self, name: str, seconds: float) -> None:
        with self._lock:
            self._seconds[name] = round(self._seconds.get(name, 0.0) + seconds, 3)

    @property
    def seconds(self) -> dict[str, float]:
        """A copy, as it is now."""
        with self._lock:
            return dict(self._seconds)

    @contextmanager
    def timing(self, name: str) -> Iterator[None]:
        start = time.monotonic()
        try:
            yield
        finally:
            self.add(name, time.monotonic() - start)
