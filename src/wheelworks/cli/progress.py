"""How a build's progress looks: a live table (rich) on a terminal, plain lines in CI logs."""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass
from types import TracebackType
from typing import TextIO

from rich.console import Console, Group
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from wheelworks.build.pipeline import Event
from wheelworks.build.records import BuildRecord

_STYLE = {"ok": "green", "cached": "green", "failed": "bold red", "missing": "dim", "interrupted": "yellow",
          "queued": "dim"}
_NOT_TARGETS = ("source", "toolchain")
_LAST_STEPS = ("test",)  # a target is done when its test ends, or when it reused a wheel


def _describe(scope: str, step: str, status: Event, seconds: float | None) -> str:
    timing = f" ({seconds:.1f}s)" if seconds is not None else ""
    if status == "queued":
        return f"{scope:<28} queued"
    word = "running" if status == "start" else status
    return f"{scope:<28} {step} {word}{timing}"


class PlainReporter:
    """One line per event: what CI logs and pipes want."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self.stream = stream
        self._lock = threading.Lock()

    def event(self, scope: str, step: str, status: Event, seconds: float | None = None) -> None:
        with self._lock:
            print(_describe(scope, step, status, seconds), file=self.stream, flush=True)

    def __enter__(self) -> PlainReporter:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


@dataclass
class _Row:
    step: str
    status: Event
    since: float  # when the current step started (monotonic)
    seconds: float | None = None


class LiveReporter:
    """A table of targets × current step, with a spinner and the elapsed time of what
    runs, and a bar of finished targets; redrawn in place by rich."""

    def __init__(self, stream: TextIO = sys.stderr, console: Console | None = None) -> None:
        self.console = console or Console(file=stream)
        self._rows: dict[str, _Row] = {}
        self._lock = threading.Lock()
        self._live = Live(console=self.console, refresh_per_second=8, get_renderable=self.render, transient=False)

    def event(self, scope: str, step: str, status: Event, seconds: float | None = None) -> None:
        key = f"library {step}" if scope == "library" else scope
        with self._lock:
            self._rows[key] = _Row(step, status, time.monotonic(), seconds)

    def render(self) -> Group:
        table = Table(box=None, pad_edge=False, show_header=True, header_style="bold")
        for column in ("target", "step", "status", "seconds"):
            table.add_column(column)
        with self._lock:
            rows = dict(self._rows)
        targets = [k for k in rows if k not in _NOT_TARGETS and not k.startswith("library ")]
        buildable = [k for k in targets if rows[k].status != "missing"]  # missing ones are CI's to build
        done = sum(rows[k].status in ("failed", "interrupted") or (rows[k].status == "ok" and (
            rows[k].step in _LAST_STEPS or rows[k].step.startswith("reused"))) for k in buildable)
        for key, row in rows.items():
            running = row.status == "start"
            mark = Spinner("dots") if running else Text(row.status, style=_STYLE.get(row.status, ""))
            seconds = time.monotonic() - row.since if running else row.seconds
            table.add_row(key, row.step, mark, f"{seconds:.1f}" if seconds is not None else "")
        bar = Table.grid(padding=(0, 1))
        missing = len(targets) - len(buildable)
        bar.add_row(ProgressBar(total=max(len(buildable), 1), completed=done, width=40),
                    f"{done}/{len(buildable)} targets" + (f", {missing} missing here" if missing else ""))
        return Group(table, bar)

    def __enter__(self) -> LiveReporter:
        self._live.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self._live.stop()


def reporter_for(stream: TextIO, interactive: bool) -> PlainReporter | LiveReporter:
    """The live table on a terminal; plain lines in pipes and on CI (where logs are read
    later): ``interactive`` is Settings.interactive."""
    if stream.isatty() and interactive:
        return LiveReporter(stream)
    return PlainReporter(stream)


def summary_table(record: BuildRecord) -> Table:
    """The end of a build on a terminal: each target's status, seconds per step, wheel."""
    steps = [name for name in ("reused", "build", "repair", "abi3audit", "test")
             if any(s.name == name for t in record.targets for s in t.steps)]
    table = Table(title=f"build {record.id}: {record.project} at {(record.commit or record.ref)[:12]}")
    table.add_column("target")
    table.add_column("status")
    for name in steps:
        table.add_column(name, justify="right")
    table.add_column("wheel", overflow="fold")  # folded, not cut: at 80 columns names stay whole and distinct
    for target in record.targets:
        seconds = {s.name: s for s in target.steps}
        cells = [f"{seconds[n].seconds:.1f}" if n in seconds and seconds[n].status == "ok"
                 else (seconds[n].status if n in seconds else "") for n in steps]
        table.add_row(target.identifier, Text(target.status, style=_STYLE.get(target.status, "")), *cells,
                      target.wheel or "")
    return table
