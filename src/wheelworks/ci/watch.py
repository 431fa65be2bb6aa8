"""``wheelworks watch``: scheduled builds on one self-hosted machine, without a CI service.

Each check builds (then publishes) when the build branch has a commit not built yet, or
when a tick of the cron schedule has passed since the previous check. One build runs at
a time, every record is kept, and a failed build or publish is reported and survived.
State (the last commit built, the time of the last check) is kept in the builds folder.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

from wheelworks.build.pipeline import BuildOptions, Reporter, build_wheels
from wheelworks.build.records import BuildRecord, Records
from wheelworks.build.source import remote_head
from wheelworks.config.model import Config
from wheelworks.config.names import cron_problem
from wheelworks.containers.publish import delivery_of, publish_build
from wheelworks.shared import atomic
from wheelworks.shared.errors import ConfigError, WheelworksError

STATE = ".watch.json"


@dataclass
class WatchState:
    commit: str | None = None  # the last commit built
    checked: float | None = None  # when the last check ran (epoch seconds)


@dataclass
class CheckResult:
    reason: str | None  # "new commit", "schedule", or None when there was nothing to do
    commit: str | None = None
    record: BuildRecord | None = None
    published: int = 0
    error: WheelworksError | None = None  # what went wrong, for the caller to show

    @property
    def ok(self) -> bool:
        return self.error is None and (self.record is None or self.record.status == "ok")


def validate_schedule(schedule: str) -> None:
    if why := cron_problem(schedule):
        raise ConfigError(f"schedule {schedule!r} {why}", "e.g. \"0 3 * * *\" for 03:00 daily")


def _tick_between(schedule: str, start: float, end: float) -> bool:
    from croniter import croniter

    following: float = croniter(schedule, datetime.fromtimestamp(start, timezone.utc)).get_next(float)
    return following <= end


def seconds_to_next_tick(schedule: str, now: float) -> float:
    from croniter import croniter

    following: float = croniter(schedule, datetime.fromtimestamp(now, timezone.utc)).get_next(float)
    return max(0.0, following - now)


def check(config: Config, options: BuildOptions, schedule: str | None, now: float,
          reporter: Reporter | None = None) -> CheckResult:
    """One check: build and publish if there is a reason to; failures end in the result."""
    state_path = options.builds_dir / STATE
    state = _load(state_path)
    log = options.builds_dir / "watch.log"
    options.builds_dir.mkdir(parents=True, exist_ok=True)
    try:
        head = remote_head(config.project, log, options.env)
    except WheelworksError as exc:
        return CheckResult(None, error=exc)
    due = bool(schedule and state.checked is not None and _tick_between(schedule, state.checked, now))
    reason = "new commit" if head != state.commit else "schedule" if due else None
    state.checked = now
    result = CheckResult(reason, head)
    if reason is not None:
        state.commit = head  # tried once; a broken commit waits for the next tick, not the next poll
        try:
            result.record = build_wheels(config, replace(options, commit=head), reporter)  # the head it saw
            if result.record.status == "ok":
                delivery = delivery_of(result.record, Records(options.builds_dir))
                published = publish_build(config, delivery, config.project.build_commit, options.settings)
                result.published = len(published.result.uploaded) if published.result else 0
        except WheelworksError as exc:
            result.error = exc
    _save(state_path, state)
    return result


def run_forever(load: Callable[[], Config], options: BuildOptions, schedule: str | None, interval: float,
                report: Callable[[CheckResult], None], stop: threading.Event,
                reporter: Reporter | None = None) -> None:
    """Check, then wait for the next poll or cron tick, until ``stop`` is set."""
    while not stop.is_set():
        try:
            result = check(load(), options, schedule, time.time(), reporter)
        except WheelworksError as exc:  # a broken config, say: report it and try again later
            result = CheckResult(None, error=exc)
        report(result)
        wait = interval if not schedule else min(interval, seconds_to_next_tick(schedule, time.time()) + 1)
        stop.wait(wait)


def _load(path: Path) -> WatchState:
    try:
        return WatchState(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return WatchState()


def _save(path: Path, state: WatchState) -> None:
    atomic.write_text(path, json.dumps(asdict(state)))
