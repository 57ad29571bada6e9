"""Which gitml an adopting repository's workflows run: the setup action, pinned by commit.

The setup action lives in gitml's own repository (``.github/actions/setup-gitml``) and
installs gitml from the checkout it belongs to, never by name from a package index. An
adopting repository's workflows name it by commit SHA,
``OWNER/REPO/.github/actions/setup-gitml@SHA # gitml VERSION``, so what runs in their CI
(with write tokens) is that commit and nothing a package index serves.

``gitml init`` takes the reference from ``--gitml-action OWNER/REPO@SHA`` (a fork of
gitml), or derives it from how this gitml was installed (PEP 610 ``direct_url.json``):
a git install names its repository and commit; a local directory install names its
checkout's ``origin`` and HEAD when that checkout is clean and HEAD is on ``origin``.
Anything else cannot name a commit GitHub serves, and is refused with the way out.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from gitml.errors import ConfigError, GitError, UsageError
from gitml.gitio import GitRepo

ACTION_PATH = ".github/actions/setup-gitml"
DISTRIBUTION = "gitml"
WAY_OUT = (
    "pass --gitml-action OWNER/REPO@COMMIT_SHA (the gitml repository on GitHub, and the "
    "commit to pin), or --config-only to write gitml.yaml alone"
)

# GitHub's rules for owner and repository names (a `uses:` reference is nothing else).
_OWNER = r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}"
_REPO = r"(?!\.\.?$)[A-Za-z0-9._-]{1,100}"
_SHA = r"[0-9a-f]{40}"
_REFERENCE = re.compile(rf"(?P<repository>{_OWNER}/{_REPO})@(?P<commit>[0-9a-fA-F]{{40}})")
_GITHUB_URL = re.compile(
    rf"(?:(?:git\+)?(?:https?|ssh|git)://(?:[^@/]+@)?github\.com(?::\d+)?/|git@github\.com:)"
    rf"(?P<repository>{_OWNER}/[A-Za-z0-9._-]+?)(?:\.git)?/?"
)


@dataclass(frozen=True)
class ActionReference:
    """gitml's setup action at one commit of one GitHub repository."""

    repository: str  # OWNER/REPO
    commit: str  # 40 hex digits
    version: str | None = None  # gitml's version at that commit, when known

    @property
    def uses(self) -> str:
        """The ``uses:`` value: ``OWNER/REPO/.github/actions/setup-gitml@SHA``."""
        return f"{self.repository}/{ACTION_PATH}@{self.commit}"

    def line(self) -> str:
        """The ``uses:`` value with its version comment, as a workflow pins an action."""
        return f"{self.uses} # gitml {self.version}" if self.version else f"{self.uses} # gitml"


def parse_reference(text: str) -> ActionReference:
    """``OWNER/REPO@SHA`` as given to ``--gitml-action``; a UsageError otherwise."""
    match = _REFERENCE.fullmatch(text.strip())
    if match is None:
        raise UsageError(
            f"--gitml-action: {text!r} is not OWNER/REPO@COMMIT_SHA (a GitHub repository "
            "and a full 40-hex-digit commit; a branch or tag name could move)"
        )
    return ActionReference(match["repository"], match["commit"].lower())


def github_repository(url: str) -> str | None:
    """``OWNER/REPO`` of a GitHub clone URL (https, ssh or scp-like), None for any other."""
    match = _GITHUB_URL.fullmatch(url.strip())
    if match is None:
        return None
    repository = match["repository"].removesuffix(".git")
    return repository if re.fullmatch(rf"{_OWNER}/{_REPO}", repository) else None


def shown_url(url: str) -> str:
    """``url`` without the user and password an https remote may carry (never print a token)."""
    parts = urlsplit(url)
    if parts.scheme and "@" in parts.netloc:
        return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()
    return url


def installed_reference() -> ActionReference:
    """The reference of the gitml that is running, from its ``direct_url.json``."""
    try:
        distribution = metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        raise ConfigError(f"gitml is not installed as a distribution: {WAY_OUT}") from None
    text = distribution.read_text("direct_url.json")
    if text is None:
        raise ConfigError(
            f"gitml {distribution.version} was installed from a package index, which names no "
            f"commit: {WAY_OUT}"
        )
    try:
        direct_url = json.loads(text)
    except ValueError:
        raise ConfigError(f"gitml's direct_url.json is not JSON: {WAY_OUT}") from None
    return reference_from_direct_url(direct_url, distribution.version)


def reference_from_direct_url(direct_url: Any, version: str) -> ActionReference:
    """The reference a PEP 610 ``direct_url.json`` document names, or a ConfigError."""
    if not isinstance(direct_url, dict) or not isinstance(direct_url.get("url"), str):
        raise ConfigError(f"gitml's direct_url.json has no url: {WAY_OUT}")
    url = direct_url["url"]
    vcs = direct_url.get("vcs_info")
    if isinstance(vcs, dict):
        repository = github_repository(url)
        commit = str(vcs.get("commit_id", ""))
        if vcs.get("vcs") != "git" or repository is None:
            raise ConfigError(
                f"gitml was installed from {shown_url(url)}, not a GitHub repository: {WAY_OUT}"
            )
        if not re.fullmatch(_SHA, commit):
            raise ConfigError(f"gitml's direct_url.json names no full commit: {WAY_OUT}")
        return ActionReference(repository, commit, version)
    if "dir_info" in direct_url and url.startswith("file:"):
        return reference_from_checkout(Path(url2pathname(unquote(urlsplit(url).path))), version)
    raise ConfigError(f"gitml was installed from an archive ({shown_url(url)}): {WAY_OUT}")


def reference_from_checkout(folder: Path, version: str) -> ActionReference:
    """The reference of a gitml checkout installed from ``folder``: its ``origin`` on
    GitHub and its HEAD, which must be clean (what is installed is that commit) and on
    ``origin`` (GitHub must be able to serve it)."""
    repo = GitRepo(folder)
    where = f"gitml was installed from {folder}"
    try:
        top = repo.run("rev-parse", "--show-toplevel").stdout.strip()
    except GitError:
        raise ConfigError(f"{where}, which is not a git checkout: {WAY_OUT}") from None
    if Path(top).resolve() != folder.resolve():
        raise ConfigError(f"{where}, a folder inside the checkout {top}: {WAY_OUT}")
    remote = repo.run("remote", "get-url", "origin", check=False)
    if remote.returncode != 0:
        raise ConfigError(f"{where}, a checkout without an `origin` remote: {WAY_OUT}")
    url = remote.stdout.strip()
    repository = github_repository(url)
    if repository is None:
        raise ConfigError(f"{where}, whose origin {shown_url(url)} is not on GitHub: {WAY_OUT}")
    if repo.run("status", "--porcelain").stdout.strip():
        raise ConfigError(
            f"{where}, whose working tree has changes no commit holds: commit and push them, "
            f"or {WAY_OUT}"
        )
    commit = repo.resolve("HEAD")
    pushed = repo.run("for-each-ref", "--contains", commit, "refs/remotes/origin/").stdout
    if not pushed.strip():
        raise ConfigError(
            f"{where}, whose HEAD {commit[:12]} is on no branch of origin (push it), or {WAY_OUT}"
        )
    return ActionReference(repository, commit, version)
