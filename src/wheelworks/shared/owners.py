"""Who is using a work folder or running a build: a process id and a host name.

Killed builds leave both behind; a later run sweeps them only once their owner is known
to be gone. Only a process on this host can be checked, so another host's owner, or one
on a system without a cheap check, is never declared gone.
"""

from __future__ import annotations

import os
import socket


def this_process() -> tuple[int, str]:
    return os.getpid(), socket.gethostname()


def gone(pid: int | None, host: str | None) -> bool | None:
    """True when the owner ran on this host and its process has ended, False when it
    still runs, None when that cannot be told here."""
    if pid is None or host != socket.gethostname() or os.name != "posix":
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, under another user
        return False
    return False
