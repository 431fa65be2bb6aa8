"""Masking: every secret wheelworks has seen is replaced by ``***`` in what it writes.

The CLI registers the environment's credentials at start; decrypting a ``wwenc:`` token
registers its value. Logs, records and messages pass through ``mask`` before they are
written. The CLI may listen for new values (to tell GitHub Actions to mask them too).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Mapping

MASK = "***"
# Environment variables whose values are credentials, by name.
CREDENTIAL = re.compile(r"PASSWORD|PASSWD|PASSPHRASE|SECRET|TOKEN|PRIVATE_KEY|ACCESS_KEY|API_KEY|CREDENTIAL|AUTH")
# Variables that lead to credentials without being named like one: cloud profiles and
# their files, twine's settings, wheelworks' key file.
_LEADS_TO_CREDENTIALS = re.compile(r"AWS_.*|TWINE_.*|.*_KEY_FILE|GNUPGHOME|NETRC")
# The password of a URL (https://user:password@host/), wherever it appears in text.
_URL_PASSWORD = re.compile(r"(?<=://)([^/\s:@]*):([^/\s@]+)@")
# Shorter values, and these words, would mask ordinary text wherever it appears.
MIN_LENGTH = 4
NOT_SECRETS = {"true", "false", "yes", "no", "on", "off", "none", "null"}

_lock = threading.Lock()
_registered: set[str] = set()
_listeners: list[Callable[[Iterable[str]], None]] = []


def register(value: str) -> None:
    """Mask ``value`` (and each line of it) wherever wheelworks writes from now on."""
    parts = {p.strip() for p in {value, *value.splitlines()}}
    with _lock:
        new = {p for p in parts if len(p) >= MIN_LENGTH and p.lower() not in NOT_SECRETS} - _registered
        _registered.update(new)
        listeners = list(_listeners)
    for listener in listeners:
        if new:
            listener(sorted(new))


def register_environment(env: Mapping[str, str]) -> None:
    """Register every variable named like a credential (not the *_FILE / *_PATH ones that
    only say where one is)."""
    for name, value in env.items():
        upper = name.upper()
        if CREDENTIAL.search(upper) and not upper.endswith(("_FILE", "_PATH")) and value:
            register(value)


def listen(listener: Callable[[Iterable[str]], None]) -> None:
    with _lock:
        _listeners.append(listener)


def mask(text: str) -> str:
    with _lock:
        secrets = sorted(_registered, key=len, reverse=True)
    for secret in secrets:
        text = text.replace(secret, MASK)
    return _URL_PASSWORD.sub(rf"\1:{MASK}@", text)


def without_credentials(env: Mapping[str, str], allowed: Iterable[str] = ()) -> dict[str, str]:
    """``env`` for code wheelworks runs but does not own (a project's build, its hooks, its
    tests, library recipes): every credential removed, and every variable that leads to
    one, except the names in ``allowed`` (the config's [build] pass-environment)."""
    keep = set(allowed)
    return {name: value for name, value in env.items()
            if name in keep or not (CREDENTIAL.search(name.upper()) or _LEADS_TO_CREDENTIALS.fullmatch(name.upper()))}


def forget_all() -> None:
    """Drop every registered value and listener (tests start from a clean slate)."""
    with _lock:
        _registered.clear()
        _listeners.clear()
