"""How a build's progress looks: a live block of lines on a terminal, plain lines in CI logs."""

from __future__ import annotations

import sys
import threading
from typing import TextIO

_MARK = {"start": "…", "ok": "✓", "cached": "✓", "failed": "✗", "missing": "!"}


def _describe(scope: str, step: str, status: str, seconds: float | None) -> str:
    timing = f" ({seconds:.1f}s)" if seconds is not None else ""
    word = "running" if status == "start" else status
    return f"{scope:<28} {step} {word}{timing}"


class PlainReporter:
    """One line per event: what CI logs and pipes want."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self.stream = stream
        self._lock = threading.Lock()

    def event(self, scope: str, step: str, status: str, seconds: float | None = None) -> None:
        with self._lock:
            print(_describe(scope, step, status, seconds), file=self.stream, flush=True)


class LiveReporter:
    """One line per scope, redrawn in place as its steps advance."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self.stream = stream
        self._lines: dict[str, str] = {}
        self._drawn = 0
        self._lock = threading.Lock()

    def event(self, scope: str, step: str, status: str, seconds: float | None = None) -> None:
        with self._lock:
            key = f"library {step}" if scope == "library" else scope
            self._lines[key] = f"{_MARK.get(status, ' ')} {_describe(scope, step, status, seconds)}"
            if self._drawn:
                self.stream.write(f"\x1b[{self._drawn}F")
            for line in self._lines.values():
                self.stream.write(f"\x1b[2K{line}\n")
            self._drawn = len(self._lines)
            self.stream.flush()


def reporter_for(stream: TextIO) -> PlainReporter | LiveReporter:
    return LiveReporter(stream) if stream.isatty() else PlainReporter(stream)
