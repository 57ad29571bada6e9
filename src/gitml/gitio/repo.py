"""Short git commands over one repository, each returning a typed value."""

from __future__ import annotations

import subprocess  # noqa: TID251 - gitio is the one place that runs git
from pathlib import Path

from gitml.errors import GitError

SHALLOW_HINT = (
    "the clone may be shallow or lack the branch: run `git fetch origin main` "
    "(or check out with `fetch-depth: 0` in GitHub Actions)"
)


class GitRepo:
    """A git working tree at ``root``."""

    def __init__(self, root: Path | str = "."):
        self.root = Path(root)

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run ``git ARGS`` in the repository and return the finished process."""
        try:
            result = subprocess.run(
                ["git", *args], cwd=self.root, capture_output=True, text=True, check=False
            )
        except OSError as exc:
            raise GitError(f"cannot run git: {exc}") from None
        if check and result.returncode != 0:
            message = (result.stderr.strip() or result.stdout.strip()).splitlines()
            first = message[-1] if message else f"exit code {result.returncode}"
            raise GitError(f"git {' '.join(args[:2])}: {first}")
        return result

    def resolve(self, rev: str) -> str:
        """The full commit sha of ``rev``; a GitError with the shallow-clone fix otherwise."""
        if rev.startswith("-"):
            raise GitError(f"invalid revision {rev!r}")
        result = self.run(
            "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}", check=False
        )
        if result.returncode != 0:
            raise GitError(f"unknown revision {rev!r}: {SHALLOW_HINT}")
        return result.stdout.strip()

    def top_level(self) -> Path:
        """The root of the working tree."""
        return Path(self.run("rev-parse", "--show-toplevel").stdout.strip())

    def is_shallow(self) -> bool:
        """Whether this clone has truncated history."""
        return self.run("rev-parse", "--is-shallow-repository").stdout.strip() == "true"
