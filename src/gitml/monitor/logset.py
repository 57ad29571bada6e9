"""Many prediction logs (one per server replica) as one batch for ``gitml drift``.

:func:`join_logs` writes their lines one after another into one JSONL file, read like
any log (:func:`gitml.monitor.batchfile.read_jsonl`); an error names the log and its
line, never the joined file (:meth:`JoinedLogs.renamed`). A row number in an error about
a feature's values counts the batch's rows, the logs' in name order.
"""

from __future__ import annotations

import gzip
import re
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, NoReturn

from gitml.errors import ConfigError
from gitml.monitor.batchfile import log_entry, unreadable, without_torn_tail

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from pathlib import Path


# The roles of a prediction log's lines that answered requests (see join_logs).
_ANSWERING_ROLES = (None, "stable")


@dataclass(frozen=True)
class JoinedLogs:
    """Prediction logs written one after another into one batch file (:func:`join_logs`).

    ``label`` names the batch as the user gave it (a directory or a glob); ``parts``
    holds each log's name and how many lines of the joined file come before it.
    """

    label: str
    parts: tuple[tuple[str, int], ...]

    def locate(self, line: int) -> tuple[str, int]:
        """The log and its own line number of the joined file's line ``line``."""
        name, before = self.parts[0]
        for part, offset in self.parts:
            if offset >= line:
                break
            name, before = part, offset
        return name, line - before

    def renamed(self, error: ConfigError, joined: str) -> ConfigError:
        """``error``, raised reading the joined file ``joined``, told in the logs' terms:
        a line of it as that log's line, anything else as the batch's label."""
        head = re.compile(rf"{re.escape(joined)}: line (\d+)")
        found = head.match(str(error))
        message = str(error)
        if found:
            name, line = self.locate(int(found.group(1)))
            message = f"{name}: line {line}{message[found.end() :]}"
        problems = []
        for file, key, text in error.problems:
            numbered = re.fullmatch(r"line (\d+)", key)
            if file == joined and numbered:
                file, line = self.locate(int(numbered.group(1)))
                key, text = f"line {line}", re.sub(rf"^{key}\b", f"line {line}", text)
            problems.append((self.label if file == joined else file, key, text))
        return ConfigError(message.replace(joined, self.label), problems)


def join_logs(files: Sequence[Path], dest: Path, label: str) -> JoinedLogs:
    """Write the prediction logs ``files`` one after another into ``dest``: one batch.

    Each log is copied as it is (decompressed when it ends in ``.gz``), in the order
    given; a last line without its newline gets one, and an interrupted last line is left
    out, as when the log is read alone. So ``dest`` holds what ``cat`` of the logs would
    (for logs a server closed cleanly: byte for byte), and the same rows in the same order.
    An empty log (a replica that served nothing yet) adds nothing.

    The logs must have served the same model version(s): a log of another version on the
    same volume (pods of an earlier rollout) is refused, naming both logs. A replica
    serves one version all its life (a new version is a rollout: new pods, new logs), so
    a log's version is read from its first and last lines that answered a request
    (``role`` stable, or none; a canary's or shadow's lines name the candidate on
    purpose). Every line is checked when ``dest`` is read, each as the version checked
    wants (:func:`read_jsonl`); :meth:`JoinedLogs.renamed` names the log and its line.
    """
    parts: list[tuple[str, int]] = []
    served: tuple[str, frozenset[str]] | None = None  # the first log naming versions
    lines = 0
    with dest.open("wb") as out:
        for file in files:
            name = str(file)
            try:
                raw = file.read_bytes()
                text = (gzip.decompress(raw) if file.suffix.lower() == ".gz" else raw).decode()
            except (OSError, EOFError, zlib.error, UnicodeDecodeError) as exc:
                unreadable(name, exc)
            text = without_torn_tail(text, name)
            if not text:
                continue
            if not text.endswith("\n"):
                text += "\n"
            count = text.count("\n")
            versions = frozenset(
                version
                for version in (
                    _answering_version(_lines_forward(text), name),
                    _answering_version(_lines_backward(text, count), name),
                )
                if version is not None
            )
            if versions and served is None:
                served = (name, versions)
            elif versions and served is not None and versions != served[1]:
                _mixed_versions(label, served, (name, versions))
            parts.append((name, lines))
            lines += count
            out.write(text.encode())
    if not parts:
        message = "no rows (every prediction log is empty)"
        raise ConfigError(f"{label}: {message}", [(label, "", message)])
    return JoinedLogs(label, tuple(parts))


def _lines_forward(text: str) -> Iterator[tuple[int, str]]:
    """The lines of ``text`` (which ends in a newline) with their numbers, first to last."""
    start, number = 0, 1
    while start < len(text):
        end = text.index("\n", start)
        yield number, text[start:end]
        start, number = end + 1, number + 1


def _lines_backward(text: str, count: int) -> Iterator[tuple[int, str]]:
    """The ``count`` lines of ``text`` (which ends in a newline), last to first."""
    end = len(text) - 1
    for number in range(count, 0, -1):
        start = text.rfind("\n", 0, end) + 1
        yield number, text[start:end]
        end = start - 1


def _answering_version(lines: Iterator[tuple[int, str]], name: str) -> str | None:
    """``model@version`` of the first of ``lines`` that answered a request (None when it
    names neither, or there is none); a line that is no prediction log's on the way is a
    ConfigError naming ``name`` and the line."""
    for number, line in lines:
        if not line.strip():
            continue
        entry = log_entry(name, number, line)
        if entry.get("role") not in _ANSWERING_ROLES:
            continue
        model, version = entry.get("model"), entry.get("version")
        if (model, version) == (None, None):
            return None
        return f"{model or '(no model)'}@{version or '(no version)'}"
    return None


def _mixed_versions(
    label: str, first: tuple[str, frozenset[str]], other: tuple[str, frozenset[str]]
) -> NoReturn:
    (name, versions), (other_name, other_versions) = first, other
    message = (
        f"{name} logs predictions of {', '.join(sorted(versions))} but {other_name} of "
        f"{', '.join(sorted(other_versions))}: one drift check reads one version's logs "
        "(move the other version's logs aside, or pass a glob naming only its replicas' files)"
    )
    raise ConfigError(f"{label}: {message}", [(other_name, "", message)])
