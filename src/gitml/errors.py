"""The one exception hierarchy of gitml and the exit-code table.

Every error a user can cause is a :class:`GitmlError`; the CLI turns it into a single
line on stderr and the exit code of its class. Anything else is a bug and exits with
:data:`EXIT_INTERNAL` and a "please report" hint.

Exit codes (also documented in README.md):

====  ==========================  ==================================================
code  name                        meaning
====  ==========================  ==================================================
0     EXIT_OK                     success
1     EXIT_ERROR                  a tool or input error (bad config, unknown model...)
2     EXIT_USAGE                  bad command-line usage
3     EXIT_GATE_FAILED            a promotion gate failed (the tool itself worked)
4     EXIT_DRIFT_FOUND            drift beyond the policy was found
5     EXIT_VERIFICATION_FAILED    an integrity check failed (hash, remote, tags)
6     EXIT_CANARY_STOPPED         a canary analysis stopped the candidate
70    EXIT_INTERNAL               a bug in gitml: please report it
====  ==========================  ==================================================
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_GATE_FAILED = 3
EXIT_DRIFT_FOUND = 4
EXIT_VERIFICATION_FAILED = 5
EXIT_CANARY_STOPPED = 6
EXIT_INTERNAL = 70

EXIT_CODES: dict[str, int] = {
    "ok": EXIT_OK,
    "error": EXIT_ERROR,
    "usage": EXIT_USAGE,
    "gate_failed": EXIT_GATE_FAILED,
    "drift_found": EXIT_DRIFT_FOUND,
    "verification_failed": EXIT_VERIFICATION_FAILED,
    "canary_stopped": EXIT_CANARY_STOPPED,
    "internal": EXIT_INTERNAL,
}


class GitmlError(Exception):
    """Base of every error a user can cause; ``str(err)`` is one readable line."""

    exit_code: int = EXIT_ERROR


class ConfigError(GitmlError):
    """A configuration or input file is missing, unparsable or violates its schema.

    ``problems`` holds every violation as ``(file, key_path, message)`` so callers can
    show all of them at once; the message summarises them on one line each.
    """

    def __init__(self, message: str, problems: list[tuple[str, str, str]] | None = None):
        super().__init__(message)
        self.problems: list[tuple[str, str, str]] = problems or []


class UsageError(GitmlError):
    """The command was called with arguments that cannot work together."""

    exit_code = EXIT_USAGE


class GitError(GitmlError):
    """A git operation failed (unknown revision, shallow clone, push rejected...)."""


class DvcError(GitmlError):
    """A DVC operation failed (missing remote object, unreadable lock file...)."""


class RegistryError(GitmlError):
    """A registry query or write cannot be answered (unknown model, version, stage)."""


class StorageError(GitmlError):
    """A model file cannot be written or safely loaded (hash mismatch, untrusted types)."""

    exit_code = EXIT_VERIFICATION_FAILED


class VerificationError(GitmlError):
    """An integrity check failed: hash, registration or remote presence."""

    exit_code = EXIT_VERIFICATION_FAILED


class GateFailed(GitmlError):
    """A promotion gate rejected the candidate (the tool itself worked)."""

    exit_code = EXIT_GATE_FAILED
