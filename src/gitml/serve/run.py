"""Running the model server with uvicorn: ``gitml serve`` and a background-thread runner.

uvicorn handles SIGINT/SIGTERM itself: it stops accepting connections, lets requests
in flight finish (up to ``graceful_seconds``), then runs the app's shutdown, which
stops the registry watcher and closes the prediction log. SIGTERM, how service
managers and orchestrators stop a server, then ends ``gitml serve`` with exit code 0.

``gitml serve`` binds its address before it loads the model: an address in use is a
one-line error naming it (exit code 1) within milliseconds, not uvicorn's exit code 3
after the load (:mod:`gitml.serve.server`). Connections are bounded by
:mod:`gitml.serve.connections`, the server log by :mod:`gitml.serve.logbounds`.

With ``--canary``/``--shadow`` the candidate loads too, and a candidate that cannot be
compared with the stable version is refused before the server starts
(:func:`~gitml.serve.deployment.check_candidate`, exit code 1); options that cannot work
together are a usage error (exit code 2) before the port is bound (:func:`rollout_of`).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from typing import TYPE_CHECKING

from prometheus_client import disable_created_metrics

from gitml.errors import UsageError
from gitml.registry.model_ref import parse_ref
from gitml.serve.app import create_app
from gitml.serve.connections import raise_fd_limit
from gitml.serve.deployment import DEFAULT_CANARY_PERCENT, Mode, Rollout, check_candidate
from gitml.serve.ids import DEFAULT_KNOWN_IDS
from gitml.serve.judging import DecisionOptions, LiveCanary, stage_policy
from gitml.serve.loaded import load_version
from gitml.serve.prediction_log import feedback_path, log_path_for_host
from gitml.serve.routing import parse_key
from gitml.serve.server import (
    DEFAULT_GRACEFUL_SECONDS,
    GitmlServer,
    ServeError,
    app_server,
    configure_logging,
    listen_socket,
    run_server,
    server_config,
)
from gitml.serve.settings import (
    DEFAULT_HEADER_TIMEOUT_SECONDS,
    DEFAULT_KEEP_ALIVE_SECONDS,
    DEFAULT_MAX_BATCH,
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_TIMEOUT_SECONDS,
    ServeSettings,
)
from gitml.serve.watcher import RegistryWatcher

logger = logging.getLogger("gitml.serve")

if TYPE_CHECKING:
    import socket
    from pathlib import Path
    from types import TracebackType

    import uvicorn
    from starlette.types import ASGIApp

    from gitml.serve.loaded import LoadedModel

__all__ = ["ServeError", "ServerThread", "make_server", "rollout_of", "serve"]


def rollout_of(
    canary: str | None,
    shadow: str | None,
    canary_percent: float | None,
    canary_key: str | None,
) -> tuple[str, Rollout] | None:
    """The candidate reference and how it takes part, from ``gitml serve``'s options;
    None without a candidate. Options that cannot work together are a UsageError."""
    if canary is not None and shadow is not None:
        raise UsageError("--canary and --shadow exclude each other: serve one candidate")
    if canary is None and (canary_percent is not None or canary_key is not None):
        option = "--canary-percent" if canary_percent is not None else "--canary-key"
        raise UsageError(f"{option} needs --canary REF")
    key = None
    if canary_key is not None:
        try:
            key = parse_key(canary_key)
        except ValueError as exc:
            raise UsageError(f"--canary-key: {exc}") from None
    if canary is not None:
        percent = DEFAULT_CANARY_PERCENT if canary_percent is None else canary_percent
        return canary, Rollout(Mode.CANARY, percent=percent, key=key)
    if shadow is not None:
        return shadow, Rollout(Mode.SHADOW)
    return None


def check_export_options(
    from_export: Path | str | None, candidate: bool, reload_on_promotion: bool
) -> None:
    """An exported model is one fixed version: no candidate beside it, no reloading."""
    if from_export is None:
        return
    if candidate:
        raise UsageError("--from-export serves one exported version: no --canary or --shadow")
    if reload_on_promotion:
        raise UsageError("--from-export serves a fixed version: --reload-on-promotion needs git")


def make_server(
    root: Path | str,
    ref: str,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    log_path: Path | str | None = None,
    reload_on_promotion: bool = False,
    poll_seconds: float = 30.0,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    max_batch: int = DEFAULT_MAX_BATCH,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    local: bool = False,
    remote: str = "origin",
    graceful_seconds: float = DEFAULT_GRACEFUL_SECONDS,
    log_level: str = "info",
    access_log: bool = True,
    fast_path: bool = True,
    max_connections: int = DEFAULT_MAX_CONNECTIONS,
    keep_alive_seconds: float = DEFAULT_KEEP_ALIVE_SECONDS,
    header_timeout_seconds: float = DEFAULT_HEADER_TIMEOUT_SECONDS,
    canary: str | None = None,
    shadow: str | None = None,
    canary_percent: float | None = None,
    canary_key: str | None = None,
    known_ids: int = DEFAULT_KNOWN_IDS,
    decisions: DecisionOptions | None = None,
    from_export: Path | str | None = None,
) -> uvicorn.Server:
    """Load ``ref`` (and a candidate) and return a uvicorn server for it, not yet running.

    The models load before the server exists, so a bad reference, a hash mismatch, a
    missing artefact or a candidate that cannot be compared with ``ref``
    (:func:`~gitml.serve.deployment.check_candidate`) fails here with gitml's error (and
    exit code), not as a server that answers 503 forever. ``fast_path=False`` scores
    every request with the model's ``predict_proba`` (see :class:`ServeSettings`, also
    for the connection bounds). ``canary`` answers ``canary_percent`` per cent of
    requests (default 10) with that reference, sticky by ``canary_key``
    (``header:NAME`` or ``field:NAME``); ``shadow`` scores every request with it too,
    answering with ``ref`` only. When ``ref`` names a stage with a canary policy
    (gitml.yaml ``canary.<stage>``), the candidate is judged live by it
    (:mod:`gitml.serve.judging`): the policy's percent and key apply unless given here,
    and ``decisions`` says whether the outcome is recorded, pushed, and followed by a
    pull request. ``from_export`` serves the directory ``gitml export --format dir``
    wrote instead of reading the registry (no git, no DVC: a container's model).
    ``{host}`` in ``log_path`` becomes the host name (one log per replica on a shared
    volume, :func:`~gitml.serve.prediction_log.log_path_for_host`).
    """
    candidate_of = rollout_of(canary, shadow, canary_percent, canary_key)
    check_export_options(from_export, candidate_of is not None, reload_on_promotion)
    # Logging is set up before the load, not by uvicorn when the server is made, so
    # what the load says (whether the model got its fast path, and why not) reaches the
    # log in the same format as everything after it.
    configure_logging(log_level)
    log_file = log_path_for_host(log_path) if log_path is not None else None
    if log_file is not None:
        logger.info("prediction log: %s (feedback: %s)", log_file, feedback_path(log_file))
    settings = ServeSettings(
        max_body_bytes=max_body_bytes,
        max_batch=max_batch,
        timeout_seconds=timeout_seconds,
        log_path=log_file,
        fast_path=fast_path,
        max_connections=max_connections,
        keep_alive_seconds=keep_alive_seconds,
        header_timeout_seconds=header_timeout_seconds,
        known_ids=known_ids,
    )
    if from_export is not None:
        from gitml.serve.exported import load_export

        model = load_export(from_export, ref)
    else:
        model = load_version(root, ref, local=local)
    candidate: LoadedModel | None = None
    rollout: Rollout | None = None
    live: LiveCanary | None = None
    if candidate_of is not None:
        candidate_ref, rollout = candidate_of
        candidate = load_version(root, candidate_ref, local=local)
        check_candidate(model, candidate)  # before judging: a refused one is never judged
        # Only a stage has a canary policy; a version or revision serves its candidate unjudged.
        judged = parse_ref(ref).stage is not None
        pair, policy, baselines = (
            stage_policy(root, ref, candidate_ref, local=local)
            if judged
            else (None, None, (None, None))
        )
        if pair is not None and policy is not None:
            if rollout.mode is Mode.CANARY:
                rollout = replace(
                    rollout,
                    percent=policy.percent if canary_percent is None else rollout.percent,
                    key=policy.key if canary_key is None else rollout.key,
                )
            live = LiveCanary(
                root, pair, policy, baselines, model, candidate, rollout,
                decisions or DecisionOptions(),
            )  # fmt: skip
        else:
            logger.warning(
                "%s names no stage with a canary policy (gitml.yaml canary.STAGE): the "
                "candidate is served but not judged",
                ref,
            )
    watcher = (
        RegistryWatcher(root, ref, poll_seconds=poll_seconds, local=local, remote=remote)
        if reload_on_promotion
        else None
    )
    app = create_app(
        model,
        settings=settings,
        watcher=watcher,
        candidate=candidate,
        rollout=rollout,
        observer=live.observe if live else None,
        label_sink=live.label if live else None,
        analysis_status=live.status if live else None,
    )
    app.state.canary = live
    return app_server(
        app,
        settings,
        host=host,
        port=port,
        log_level=log_level,
        access_log=access_log,
        graceful_seconds=graceful_seconds,
    )


def serve(
    root: Path | str,
    ref: str,
    host: str = "127.0.0.1",
    port: int = 8000,
    log_path: Path | str | None = None,
    reload_on_promotion: bool = False,
    poll_seconds: float = 30.0,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    max_batch: int = DEFAULT_MAX_BATCH,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    *,
    local: bool = False,
    remote: str = "origin",
    graceful_seconds: float = DEFAULT_GRACEFUL_SECONDS,
    log_level: str = "info",
    access_log: bool = True,
    fast_path: bool = True,
    max_connections: int = DEFAULT_MAX_CONNECTIONS,
    keep_alive_seconds: float = DEFAULT_KEEP_ALIVE_SECONDS,
    header_timeout_seconds: float = DEFAULT_HEADER_TIMEOUT_SECONDS,
    canary: str | None = None,
    shadow: str | None = None,
    canary_percent: float | None = None,
    canary_key: str | None = None,
    known_ids: int = DEFAULT_KNOWN_IDS,
    decisions: DecisionOptions | None = None,
    from_export: Path | str | None = None,
) -> None:
    """Serve the model ``ref`` names (e.g. ``credit@production``) until SIGINT/SIGTERM.

    ``canary``/``shadow`` serve a candidate beside it, judged by the stage's canary
    policy, ``decisions`` saying what follows a decision (see :func:`make_server`);
    ``known_ids`` is how many recent predictions ``/feedback`` can match labels to.

    ``reload_on_promotion`` polls the registry every ``poll_seconds`` (fetching tags
    from ``remote`` when it exists) and swaps in a newly recorded version once it is
    fully loaded and verified. ``log_path`` appends one JSON line per scored record;
    ``{host}`` in it becomes the host name, checked before the port is bound.
    ``fast_path=False`` (``--no-fast-path``) scores every request with the model's
    ``predict_proba``, for when the compiled scorer is suspected of anything.
    ``max_connections``, ``keep_alive_seconds`` and ``header_timeout_seconds`` bound
    the connections (:class:`ServeSettings`). Raises :class:`ServeError` when the
    address cannot be bound, before the model loads.
    """
    # Options that cannot work together fail before the port is bound.
    candidate_of = rollout_of(canary, shadow, canary_percent, canary_key)
    check_export_options(from_export, candidate_of is not None, reload_on_promotion)
    if log_path is not None:
        log_path = log_path_for_host(log_path)  # a host name unfit for a file name: now
    # This process is the server: its /metrics leaves out the ``_created`` series
    # prometheus_client adds beside each counter and histogram, which the text format
    # can only expose as extra gauges that no query of ours reads. (The switch is
    # process-wide, so an app embedded elsewhere by create_app leaves it to its host.)
    disable_created_metrics()
    sock = listen_socket(host, port)
    try:
        # Also the process's own: room for the connections allowed, when the hard
        # open-file limit permits (the protocol keeps below whatever it ends at).
        raise_fd_limit(max_connections)
        server = make_server(
            root,
            ref,
            host=host,
            port=port,
            log_path=log_path,
            reload_on_promotion=reload_on_promotion,
            poll_seconds=poll_seconds,
            max_body_bytes=max_body_bytes,
            max_batch=max_batch,
            timeout_seconds=timeout_seconds,
            local=local,
            remote=remote,
            graceful_seconds=graceful_seconds,
            log_level=log_level,
            access_log=access_log,
            fast_path=fast_path,
            max_connections=max_connections,
            keep_alive_seconds=keep_alive_seconds,
            header_timeout_seconds=header_timeout_seconds,
            canary=canary,
            shadow=shadow,
            canary_percent=canary_percent,
            canary_key=canary_key,
            known_ids=known_ids,
            decisions=decisions,
            from_export=from_export,
        )
        run_server(server, sock)
    finally:
        sock.close()


class _SignallingServer(GitmlServer):
    """A uvicorn server that says when it listens (``ready``) and when it began to stop."""

    def __init__(self, config: uvicorn.Config):
        super().__init__(config)
        self.ready = threading.Event()
        self.stopping = threading.Event()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self.stopping.set()
        await super().shutdown(sockets=sockets)

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().startup(sockets=sockets)
        finally:
            # Also on failure, so whoever waits learns it now rather than at a timeout.
            self.ready.set()


class ServerThread:
    """Run an ASGI app with uvicorn in a background thread on a free loopback port.

    For tests and benchmarks: ``with ServerThread(app) as server: httpx.get(server.url)``.
    Leaving the block asks uvicorn to stop the way SIGTERM does (requests in flight
    finish first) and joins the thread.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        host: str = "127.0.0.1",
        graceful_seconds: float = 10.0,
        start_timeout: float = 30.0,
    ):
        from uvicorn.config import LOGGING_CONFIG

        # Bind before starting so the port is known and never raced for.
        self._socket = listen_socket(host, 0)
        self.host = host
        self.port: int = self._socket.getsockname()[1]
        self.start_timeout = start_timeout
        # The connection bounds of the app's settings, as gitml serve would apply them.
        settings = getattr(getattr(app, "state", None), "settings", None)
        config = server_config(
            app,
            settings if isinstance(settings, ServeSettings) else ServeSettings(),
            log_level="warning",
            access_log=False,
            graceful_seconds=graceful_seconds,
            log_config=LOGGING_CONFIG,
        )
        self.server = _SignallingServer(config)
        self._thread = threading.Thread(
            target=self.server.run,
            kwargs={"sockets": [self._socket]},
            name="gitml-serve-test",
            daemon=True,
        )

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:54321``."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> ServerThread:
        """Start the thread and wait until the server accepts connections."""
        self._thread.start()
        if not self.server.ready.wait(self.start_timeout) or not self.server.started:
            self.stop()
            raise RuntimeError(f"uvicorn did not start within {self.start_timeout} s")
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """Ask uvicorn to shut down gracefully and wait for the thread."""
        self.server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._socket.close()

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
