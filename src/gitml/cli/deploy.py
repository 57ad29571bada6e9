"""``gitml deploy render``: a stage's container build context and cluster manifests."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gitml.cli.output import add_read_options
from gitml.errors import EXIT_OK

if TYPE_CHECKING:
    import argparse

TARGETS = ("kubernetes", "kserve")


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``gitml deploy`` (action: ``render``)."""
    p = commands.add_parser(
        "deploy",
        help="render a stage as a container build context and Kubernetes or KServe manifests",
        description=(
            "`gitml deploy render MODEL@STAGE --target kubernetes|kserve` writes, for the "
            "version the stage has recorded: a Dockerfile (base image pinned by digest, "
            "non-root, hashed requirements, the exported artefact md5-checked at build time, "
            "`gitml serve` as entrypoint), its .dockerignore and requirements, and under "
            "TARGET/ the manifests: Deployment, Service, HorizontalPodAutoscaler and "
            "PodDisruptionBudget (kubernetes), or an InferenceService whose canary share is "
            "the stage's canary policy's (kserve). Settings: the deploy: section of the "
            "version's registered commit, as promotion and rollback pull requests render it "
            "into the stage's deploy.directory (their diff is the deployment change, checked "
            "by gitml promote --on-push). The same registry state gives the same bytes."
        ),
    )
    p.add_argument("action", choices=("render",), help="what to do (render)")
    p.add_argument("ref", help="model and stage, e.g. credit@production")
    # Checked by the API (not argparse choices) so the error is the one-line gitml one.
    p.add_argument("--target", required=True, help=f"what to render for: {' or '.join(TARGETS)}")
    p.add_argument(
        "-o",
        "--output",
        help="directory to write into (default: gitml.yaml deploy.directory, deploy/STAGE)",
    )
    add_read_options(p, repo=False)
    p.set_defaults(run=run_render)


def run_render(args: argparse.Namespace) -> int:
    """Render and write the files, then name them, one per line."""
    from gitml import api
    from gitml.cli.output import emit

    rendered, written = api.deploy_render(
        args.ref, args.target, args.output, root=args.root, local=args.local
    )
    release = rendered.release
    canary = f", canary {rendered.canary_percent}%" if rendered.canary_percent is not None else ""
    lines = [f"{release.model}@{release.stage}: {release.version} as {rendered.image}{canary}"]
    lines += [str(path) for path in written]
    emit("\n".join(lines) + "\n")
    return EXIT_OK
