"""The one place wheelworks starts processes: each command and its output go to a step log,
with every registered secret masked."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO

from wheelworks.shared.errors import CommandError
from wheelworks.shared.masking import mask

TAIL_LINES = 20

# Commands running now, so that an interrupted build can end them (and what they started).
_running: set[subprocess.Popen[str]] = set()
_running_lock = threading.Lock()
_stopping = threading.Event()


def stop_all() -> None:
    """End every running command and refuse new ones: the build was interrupted."""
    with _running_lock:  # after this, run() either sees the flag or has its command listed here
        _stopping.set()
        procs = list(_running)
    for proc in procs:
        _end(proc)


def _end(proc: subprocess.Popen[str]) -> None:
    try:
        if os.name == "posix":
            os.killpg(proc.pid, signal.SIGTERM)  # the command and its children (compilers, pip…)
        else:
            proc.terminate()
    except (ProcessLookupError, PermissionError):
        pass


def resume() -> None:
    """Allow commands again (after an interrupted build, for the next one in this process)."""
    _stopping.clear()


def run(
    cmd: Sequence[str | os.PathLike[str]] | str,
    *,
    log: Path | None,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    capture: bool = False,
    timeout: float | None = None,
) -> str:
    """Run ``cmd`` (an argv, or a shell string for user hooks), appending ``+ cmd`` and
    its output to ``log`` (None: a probe whose output only the caller sees). Returns
    stdout when ``capture`` is set, else "".

    Raises CommandError with the output's tail when the command fails, cannot start or
    outlives ``timeout`` seconds (with ``capture`` only).
    """
    shell = isinstance(cmd, str)
    shown = cmd if isinstance(cmd, str) else shlex.join(os.fspath(c) for c in cmd)
    argv = cmd if isinstance(cmd, str) else [os.fspath(c) for c in cmd]
    if log is None:
        return _probe(argv, shown, shell, cwd, env, timeout)
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a", encoding="utf-8") as stream:
        stream.write(f"+ {mask(shown)}\n")
        stream.flush()
        # Checked, started and listed under one lock: a command that started after
        # stop_all() took its list would run on after the build ended.
        with _running_lock:
            if _stopping.is_set():
                raise CommandError(f"interrupted before {brief(mask(shown))!r} started")
            try:
                proc = subprocess.Popen(
                    argv, shell=shell, cwd=cwd, env=dict(env) if env is not None else None,
                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE if capture else subprocess.STDOUT,
                    text=True, errors="replace", start_new_session=os.name == "posix",
                )
            except OSError as exc:
                stream.write(f"{exc}\n")
                raise CommandError(f"cannot run {brief(mask(shown))!r}: {exc.strerror}") from None
            _running.add(proc)
        try:
            return _finish(proc, stream, shown, log, capture, timeout)
        except BaseException:  # Ctrl-C or SIGTERM in this process: the command must not outlive it
            _end(proc)
            raise
        finally:
            with _running_lock:
                _running.discard(proc)


def _finish(proc: subprocess.Popen[str], stream: TextIO, shown: str, log: Path, capture: bool,
            timeout: float | None) -> str:
    """Copy a started command's output to its log (masked) and check how it ended."""
    if capture:
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise CommandError(f"command timed out after {timeout:g} s: {brief(mask(shown))}") from None
        stream.write(mask(out + err))
    else:
        out = ""
        assert proc.stdout is not None
        for line in proc.stdout:  # line by line, so a secret never reaches the file
            stream.write(mask(line))
        proc.wait()
    if _stopping.is_set():
        raise CommandError(f"interrupted: {brief(mask(shown))}")
    if proc.returncode != 0:
        raise CommandError(f"command failed with exit code {proc.returncode}: {brief(mask(shown))}", tail=tail(log))
    return out


def _probe(argv: Sequence[str] | str, shown: str, shell: bool, cwd: Path | None, env: Mapping[str, str] | None,
           timeout: float | None) -> str:
    try:
        proc = subprocess.run(argv, shell=shell, cwd=cwd, env=dict(env) if env is not None else None,
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, errors="replace",
                              timeout=timeout)
    except OSError as exc:
        raise CommandError(f"cannot run {brief(mask(shown))!r}: {exc.strerror}") from None
    except subprocess.TimeoutExpired:
        raise CommandError(f"command timed out after {timeout:g} s: {brief(mask(shown))}") from None
    if proc.returncode != 0:
        raise CommandError(f"command failed with exit code {proc.returncode}: {brief(mask(shown))}",
                           tail=mask(proc.stderr.strip()[-2000:]))
    return proc.stdout


def tail(log: Path, lines: int = TAIL_LINES) -> str:
    text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


def brief(command: str, limit: int = 200) -> str:
    """A command as an error line shows it: on one line (a script's newlines as " ; "), cut
    at ``limit`` characters; the step log has it whole. Give it masked: a cut must not
    leave half a secret to be seen."""
    flat = re.sub(r"\s*\n\s*", " ; ", command.strip())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
