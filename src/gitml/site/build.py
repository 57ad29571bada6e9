"""Gather what the registry holds (one reader, one pass) and write the site's pages.

Linear in the number of versions: each version is read once, each page is written
once, and a model's versions table is split into pages of :data:`~gitml.site.pages.PAGE_SIZE`.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from gitml.errors import GitmlError, UsageError
from gitml.registry.observation import ObservationKind
from gitml.registry.observations import read_observations
from gitml.site.pages import (
    ModelPages,
    index_page,
    insights_page,
    model_page,
    version_file,
    version_page,
)

if TYPE_CHECKING:
    from gitml.insights.model import Insights
    from gitml.registry.reader import RegistryReader

PARAMS_FILE = "params.yaml"
# libyaml's safe loader when built in: parsing params is most of a large site's build.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class SiteBuild:
    """What ``gitml site`` wrote: the directory, its pages and the largest one's size."""

    out: Path
    models: int
    versions: int
    pages: int
    largest_bytes: int

    def to_dict(self) -> dict[str, Any]:
        """JSON shape."""
        return {
            "out": str(self.out),
            "models": self.models,
            "versions": self.versions,
            "pages": self.pages,
            "largest_bytes": self.largest_bytes,
        }


def _flat(data: object, prefix: str = "") -> dict[str, Any]:
    """``{"train.max_depth": 5}`` from nested params, as ``dvc params diff`` names them."""
    if not isinstance(data, dict):
        return {prefix: data} if prefix else {}
    out: dict[str, Any] = {}
    for key, value in data.items():
        out.update(_flat(value, f"{prefix}.{key}" if prefix else str(key)))
    return out


def _params(
    reader: RegistryReader, commit: str, seen: dict[bytes, dict[str, Any]]
) -> dict[str, Any]:
    """The flat params at ``commit``; ``seen`` holds each distinct file once parsed (most
    versions share their params file with the one before)."""
    blob = reader.read_blob(commit, PARAMS_FILE)
    if not blob:
        return {}
    if blob not in seen:
        try:
            seen[blob] = _flat(yaml.load(blob, Loader=_LOADER))
        except yaml.YAMLError:
            seen[blob] = {}  # a params file that does not parse has no params to show
    return seen[blob]


def gather(reader: RegistryReader) -> list[ModelPages]:
    """Every model with its versions, tenures of each stage, and params per version."""
    models = []
    for summary in reader.summary():
        if not summary.versions and summary.latest is None:
            continue
        listing = reader.versions(summary.model)
        tenures = [
            t for stage in reader.stage_names(summary.model)
            for t in reader.tenures(summary.model, stage)
        ]  # fmt: skip
        tenures.sort(key=lambda t: t.start)
        seen: dict[bytes, dict[str, Any]] = {}
        params = {v.version: _params(reader, v.commit, seen) for v in listing.versions}
        checks = read_observations(reader, summary.model).of(
            summary.model, kind=ObservationKind.DRIFT
        )
        models.append(ModelPages(summary, listing.versions, tuple(tenures), params, tuple(checks)))
    return models


def _write(path: Path, text: str) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode("utf-8")
    path.write_bytes(data)
    return len(data)


def build_time() -> datetime:
    """``SOURCE_DATE_EPOCH`` (Unix seconds) when set, else now; whole seconds, UTC."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is None:
        return datetime.now(UTC).replace(microsecond=0)
    if not epoch.isdigit():
        raise UsageError(f"SOURCE_DATE_EPOCH={epoch!r}: expected Unix seconds, e.g. 1767225600")
    return datetime.fromtimestamp(int(epoch), tz=UTC)


def build_site(
    root: Path | str, out: Path | str, *, local: bool = False, now: datetime | None = None
) -> SiteBuild:
    """Write the site of the registry at ``root`` into ``out`` (created if missing; an
    existing non-empty directory must hold a previous site: its ``index.html``).

    ``now`` is the instant the pages describe (open tenures run to it, insights end at
    it): by default ``SOURCE_DATE_EPOCH`` when set (reproducible builds' convention, so
    the same registry gives the same bytes), else the current time.
    """
    from gitml.insights.figures import compute
    from gitml.insights.gather import gather as gather_history
    from gitml.registry.reader import RegistryReader

    target = Path(out)
    if target.exists() and not target.is_dir():
        raise UsageError(f"-o {target}: expected a directory, found a file")
    if target.is_dir() and any(target.iterdir()) and not (target / "index.html").is_file():
        raise UsageError(
            f"-o {target}: not empty and holds no site (index.html); pick an empty directory"
        )
    now = now or build_time()
    insights: Insights | None = None
    reason = ""
    with RegistryReader(root, local=local) as reader:
        models = gather(reader)
        try:
            # The insights page shows the figures of `gitml insights` with its defaults.
            history = gather_history(reader, None)
            insights = compute(history, now, None, model=None, failure_window_days=7.0)
        except GitmlError as error:
            reason = f"no insights: {error}"
    sizes = [
        _write(target / "index.html", index_page(models)),
        _write(target / "insights.html", insights_page(insights, reason)),
    ]
    for m in models:
        folder = target / m.dir
        for number in range(1, m.page_count + 1):
            sizes.append(_write(folder / m.page_name(number), model_page(m, number, now)))
        ordered = [v for v in m.versions if v.registered]
        replaced = {a.version: b for a, b in itertools.pairwise(ordered)}
        for v in m.versions:
            html = version_page(m, v, replaced.get(v.version))
            sizes.append(_write(folder / version_file(v.version), html))
    return SiteBuild(
        out=Path(os.path.abspath(target)),
        models=len(models),
        versions=sum(len(m.versions) for m in models),
        pages=len(sizes),
        largest_bytes=max(sizes),
    )
