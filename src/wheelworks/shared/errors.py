"""Every failure a user can cause or fix ends as one of these: one line, one exit code."""

from __future__ import annotations


class WheelworksError(Exception):
    """A failure explained in one line; ``hint`` says what to do about it."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class ConfigError(WheelworksError):
    exit_code = 2


class SourceError(WheelworksError):
    exit_code = 3


class LibraryError(WheelworksError):
    exit_code = 4


class InterpreterError(WheelworksError):
    exit_code = 5


class CommandError(WheelworksError):
    """A subprocess failed; ``tail`` holds the end of its output for the summary."""

    def __init__(self, message: str, tail: str = "", hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.tail = tail

    @property
    def last_line(self) -> str | None:
        lines = self.tail.strip().splitlines()
        return lines[-1] if lines else None


class StepError(WheelworksError):
    """A build, repair or test step did not deliver what it must (one wheel, the right tags)."""


class UsageError(WheelworksError):
    """A command was given something it cannot use: a missing key file, an empty input."""

    exit_code = 2


class ToolError(WheelworksError):
    """A tool wheelworks needs for this command is not installed."""


class RecordsError(WheelworksError):
    """No build record, or no log, matches what was asked for."""


class ContainerError(WheelworksError):
    """A wheel container cannot be reached, read or written, or refuses a file."""

    exit_code = 6


class ReleaseError(WheelworksError):
    """A release cannot be fetched, verified, signed or uploaded."""

    exit_code = 7


class SecretError(WheelworksError):
    """A secret cannot be encrypted or decrypted."""

    exit_code = 8


class HashMismatch(WheelworksError):
    """The bytes received are not the bytes the source promised."""

    def __init__(self, what: str, expected: str, actual: str) -> None:
        super().__init__(f"{what}: sha256 mismatch: expected {expected}, got {actual}")
        self.actual = actual


class ServeError(WheelworksError):
    """The server cannot start: a bad port, or one in use."""

    exit_code = 9


class VerifyError(WheelworksError):
    """A wheel that cannot be verified: no record made it, or its config is not at hand."""

    exit_code = 10


class GitHubError(WheelworksError):
    """GitHub's API refused a request or could not be reached."""

    exit_code = 11
