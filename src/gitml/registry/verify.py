"""``gitml verify``: is the registry whole? Every registry tag a gitml record that agrees
with git, stage tips registered, artefacts stored.

Versions are judged, not hashes: two versions that share one artefact are two promises,
and a missing object breaks both, so each is named.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from gitml.gitio.repo import GitRepo
from gitml.registry.observations import read_observations
from gitml.registry.reader import DEFAULT_REMOTE, RegistryReader

if TYPE_CHECKING:
    from pathlib import Path


@dataclass(frozen=True)
class VerifyReport:
    """Problems (fail the check) and warnings (tags of other tools that were skipped)."""

    problems: tuple[str, ...]
    warnings: tuple[str, ...]
    checked_versions: int
    checked_stages: int

    @property
    def ok(self) -> bool:
        """No problem found."""
        return not self.problems

    def to_dict(self) -> dict[str, object]:
        """JSON shape: ``{ok, problems, warnings, checked_versions, checked_stages}``."""
        return {
            "ok": self.ok,
            "problems": list(self.problems),
            "warnings": list(self.warnings),
            "checked_versions": self.checked_versions,
            "checked_stages": self.checked_stages,
        }


def verify(
    root: Path | str = ".", *, check_remote: bool = True, local: bool = False, deep: bool = False
) -> VerifyReport:
    """Check every registry tag, every stage tip and every active version's artefact.

    The remote check asks the DVC remote whether each artefact is there; ``deep`` reads
    each one back and checks its md5 (a copy changed in the remote is caught only so).
    """
    problems: list[str] = []
    stages_checked = 0
    GitRepo(root).complete_history(DEFAULT_REMOTE, "verifying the registry")
    with RegistryReader(root, local=local) as reader:
        warnings = [f"skipped tag {t!r}: not a registry tag name" for t in reader.state.skipped]
        problems += [f"{tag}: {why}" for tag, why in reader.state.ignored]
        writers = reader.config.writers if reader.config else ()
        observed = read_observations(reader)
        problems += [f"{tag}: {why}; reads ignore it" for tag, why in observed.rejected]
        problems += [
            f"{e.tag}: written by {e.email!r}, not by a registry writer of gitml.yaml "
            f"({', '.join(writers)})"
            for e in observed.believed
            if writers and e.email not in writers
        ]
        # Each artefact hash with every active version whose artefact it is.
        md5s: dict[str, list[str]] = {}
        versions_checked = 0
        for name in reader.model_names():
            state = reader.model_state(name)
            if writers:
                problems += [
                    f"{event.tag}: written by {event.email!r}, not by a registry writer of "
                    f"gitml.yaml ({', '.join(writers)}); protect the tags with a ruleset"
                    for event in state.events
                    if event.email not in writers
                ]
            for version in state.active_versions():
                versions_checked += 1
                md5 = reader.version_md5(version)
                if md5 is None:
                    why = reader.no_artifact_reason(
                        name, version.commit, reader.version_path(version)
                    )
                    problems.append(f"{name}@{version.version}: artefact hash unknown: {why}")
                elif reader.contradicted(version):
                    problems.append(
                        f"{name}@{version.version}: its record claims artefact "
                        f"{version.recorded_md5}, but dvc.lock at {version.commit[:12]} holds "
                        f"{md5}; reads skip this version (deregister it: gitml deprecate "
                        f"{name}@{version.version})"
                    )
                else:
                    md5s.setdefault(md5, []).append(f"{name}@{version.version}")
            for stage in reader.stage_names(name):
                info = reader.stage_info(name, stage)
                if info.tip_commit is None:
                    continue
                stages_checked += 1
                if info.unregistered:
                    problems.append(
                        f"{name}: stage branch {info.branch} holds an unregistered artefact "
                        f"({info.tip_md5})"
                    )
                elif info.tip_md5 is None:
                    problems.append(f"{name}: stage branch {info.branch} has no {name} artefact")
                elif info.pending:
                    warnings.append(
                        f"{name}: {stage} is pending: the branch holds {info.tip_version}, "
                        f"the recorded version is {info.version or 'none'}"
                    )
                if info.tip_version is not None and info.tip_version in state.versions:
                    # What the branch deploys, when its version's commit configures deploy:.
                    from gitml.deploy.stage_branch import folder_problem

                    held = state.versions[info.tip_version]
                    deployed = folder_problem(reader, GitRepo(root), held, stage, info.tip_commit)
                    if deployed:
                        problems.append(f"{name}: stage branch {info.branch}: {deployed}")
    if check_remote and md5s:
        from gitml.dvcio.remote import missing_from_remote, wrong_in_remote

        if deep:
            for md5, wrong in wrong_in_remote(root, sorted(md5s)).items():
                problems += [f"{ref}: artefact {md5}: {wrong}" for ref in md5s[md5]]
        else:
            for md5 in missing_from_remote(root, sorted(md5s)):
                problems += [f"{ref}: artefact {md5} is not in the DVC remote" for ref in md5s[md5]]
            warnings.append(
                "the DVC remote was checked for presence only: "
                "`gitml verify --deep` reads every artefact back and checks its md5"
            )
    return VerifyReport(tuple(problems), tuple(warnings), versions_checked, stages_checked)
