"""The server's connections are bounded: a silent or dripping connection is closed at
its deadline, a flood of idle ones cannot keep a health check out or exhaust the
process's file descriptors, and a busy port is a one-line error, exit code 1.

Real uvicorn on loopback: in this process (``ServerThread``), or, where a process limit
is the point, in a process of its own started with that limit.
"""

from __future__ import annotations

import contextlib
import dataclasses
import resource
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pandas as pd
import pytest

from gitml.errors import EXIT_ERROR
from gitml.serve.app import create_app
from gitml.serve.loaded import LoadedModel
from gitml.serve.run import ServerThread
from gitml.serve.settings import ServeSettings
from gitml.signature import signature_from_text
from gitml.storage import file_md5, load_model
from tests.helpers import PROJECT_ROOT, gitml
from tests.test_serve import GatedModel, as_records

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

START_SECONDS = 60.0  # a server process: imports, skops and the fast path's probe


def loaded_model(models: Path) -> LoadedModel:
    """The template's trained model as a server holds it (no registry needed)."""
    path = models / "credit.skops"
    signature_file = models / "credit.signature.json"
    return LoadedModel(
        name="credit",
        version="v0.1.0",
        md5=file_md5(path),
        commit="0" * 40,
        stage="production",
        model=load_model(path),
        signature=signature_from_text(signature_file.read_text(), str(signature_file)),
        metrics={},
        card=None,
        artifact="models/credit.skops",
        ref="credit@production",
    )


@pytest.fixture(scope="session")
def model(template_repo: Path) -> LoadedModel:
    return loaded_model(template_repo / "models")


def held_out_records(template_repo: Path, model: LoadedModel) -> list[dict[str, Any]]:
    """Twenty held-out rows of the template as JSON records."""
    categorical = {f.name: str for f in model.signature.features if f.type == "category"}
    frame = pd.read_csv(template_repo / "prepared" / "test.csv", dtype=categorical)
    return as_records(model, frame.head(20))


@pytest.fixture(scope="session")
def records(template_repo: Path, model: LoadedModel) -> list[dict[str, Any]]:
    return held_out_records(template_repo, model)


# -- a server in a process of its own --------------------------------------------------------


def serve_main() -> None:
    """The server process of these tests: ``MODELS_DIR LOG_PATH HEADER_TIMEOUT`` in argv.

    The model from files, then what ``gitml serve`` does after its load: the bounded
    server log, the bound socket, the connection bounds. It prints its port.
    """
    from gitml.serve.server import app_server, configure_logging, listen_socket, run_server

    models, log_path, header_timeout = sys.argv[1], sys.argv[2], float(sys.argv[3])
    configure_logging("info")
    settings = ServeSettings(
        log_path=Path(log_path) if log_path else None,
        header_timeout_seconds=header_timeout,
        fast_path=False,  # starts sooner: no compiling and probing; beside the point here
    )
    app = create_app(loaded_model(Path(models)), settings=settings)
    sock = listen_socket("127.0.0.1", 0)
    print(sock.getsockname()[1], flush=True)
    run_server(app_server(app, settings, access_log=False), sock)


@dataclasses.dataclass
class ServerProcess:
    """A running :func:`serve_main` process; its stderr (the server log) kept in memory."""

    process: subprocess.Popen[bytes]
    url: str = ""
    log: bytearray = dataclasses.field(default_factory=bytearray)

    def read_log(self) -> None:
        assert self.process.stderr is not None
        for chunk in iter(lambda: self.process.stderr.read1(65536), b""):  # type: ignore[union-attr]
            self.log += chunk

    def log_text(self) -> str:
        return self.log.decode("utf-8", "replace")

    def stop(self) -> int:
        """SIGTERM, as a service manager stops it; its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(30)


@contextlib.contextmanager
def server_process(
    models: Path, log_path: Path | None, header_timeout: float, limit: Callable[[], None]
) -> Iterator[ServerProcess]:
    """Start :func:`serve_main` with ``limit`` run in the child before it starts (a
    resource limit), and wait until ``/health`` is ready."""
    command = [
        sys.executable,
        "-c",
        "from tests.adversarial.test_serve_connections import serve_main; serve_main()",
        str(models),
        str(log_path or ""),
        str(header_timeout),
    ]
    process = subprocess.Popen(
        command,
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=limit,  # a resource limit for the child only
    )
    served = ServerProcess(process)
    reader = threading.Thread(target=served.read_log, daemon=True)
    reader.start()
    try:
        assert process.stdout is not None
        port = process.stdout.readline().decode().strip()
        assert port.isdigit(), f"no port from the server process:\n{served.log_text()}"
        served.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_SECONDS
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{served.url}/health", timeout=5).status_code == 200:
                    break
            assert process.poll() is None, f"the server exited:\n{served.log_text()}"
            assert time.monotonic() < deadline, f"never ready:\n{served.log_text()}"
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(0.1)  # paces the polls
        yield served
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(30)
        reader.join(10)


def open_files_limit(count: int) -> Callable[[], None]:
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (count, count))

    return limit


# -- helpers --------------------------------------------------------------------------------


def closed_by_server(sockets: list[socket.socket], timeout: float) -> int:
    """How many of ``sockets`` the server closes (EOF or reset) within ``timeout``."""
    selector = selectors.DefaultSelector()
    for sock in sockets:
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ)
    closed = 0
    deadline = time.monotonic() + timeout
    while closed < len(sockets) and (remaining := deadline - time.monotonic()) > 0:
        for key, _ in selector.select(remaining):
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                data = b""
            assert data == b"", f"the server sent {data[:200]!r} to a connection it closed"
            selector.unregister(sock)
            closed += 1
    selector.close()
    return closed


def read_until_closed(sock: socket.socket, timeout: float) -> bytes:
    """What the server sends on ``sock`` until it closes it, within ``timeout``."""
    sock.settimeout(timeout)
    received = b""
    deadline = time.monotonic() + timeout
    while chunk := sock.recv(65536):
        received += chunk
        assert time.monotonic() < deadline, f"still open after {timeout} s: {received!r}"
    return received


def connect(url: str, count: int) -> list[socket.socket]:
    host, port = url.removeprefix("http://").split(":")
    return [socket.create_connection((host, int(port)), timeout=10) for _ in range(count)]


# -- deadlines ----------------------------------------------------------------------------


def test_silent_and_dripping_connections_are_closed_at_the_header_deadline(
    model: LoadedModel, records: list[dict[str, Any]]
) -> None:
    gated = GatedModel(model.model)
    settings = ServeSettings(header_timeout_seconds=0.5, keep_alive_seconds=0.5)
    app = create_app(dataclasses.replace(model, model=gated), settings=settings)
    with ServerThread(app) as server:
        # A connection that never sends anything.
        (silent,) = connect(server.url, 1)
        opened = time.monotonic()
        assert closed_by_server([silent], timeout=5) == 1
        assert time.monotonic() - opened >= 0.4

        # A request head dripped a header at a time, each well within any idle timeout.
        (dripping,) = connect(server.url, 1)
        dripping.sendall(b"GET /health HTTP/1.1\r\nHost: test\r\n")
        opened = time.monotonic()
        closed = False
        while not closed and time.monotonic() - opened < 5:
            try:
                dripping.sendall(b"X-Drip: 1\r\n")
            except OSError:  # reset: the server closed it
                break
            closed = closed_by_server([dripping], timeout=0.1) == 1
        assert time.monotonic() - opened < 2
        dripping.close()

        # After a response, an idle keep-alive connection is closed too.
        (kept,) = connect(server.url, 1)
        kept.sendall(b"GET /health HTTP/1.1\r\nHost: test\r\n\r\n")
        answered = read_until_closed(kept, timeout=5)  # the response, then the close
        assert answered.startswith(b"HTTP/1.1 200")
        # The whole body arrived before the close (it ends with the routing state).
        assert b'"stage":"production"' in answered
        assert answered.endswith(b"}}")

        # A request in progress is not cut at the deadline: the app's timeout governs it.
        release = threading.Timer(1.5, gated.release.set)  # three deadlines later
        release.start()
        with httpx.Client(base_url=server.url, timeout=30) as client:
            response = client.post("/predict", json=records[:2])
        release.join()
        assert response.status_code == 200, response.text
        assert len(response.json()["predictions"]) == 2


# -- the connection limit -----------------------------------------------------------------


class CountingGate:
    """Wraps a model; predict_proba counts the calls waiting in it until released."""

    def __init__(self, inner: Any):
        self.inner = inner
        self.scoring = 0
        self.changed = threading.Condition()
        self.release = threading.Event()

    def predict_proba(self, frame: pd.DataFrame) -> Any:
        with self.changed:
            self.scoring += 1
            self.changed.notify_all()
        assert self.release.wait(30), "the test never released the model"
        return self.inner.predict_proba(frame)


def test_at_the_connection_limit_idle_connections_make_room_and_busy_ones_do_not(
    model: LoadedModel, records: list[dict[str, Any]]
) -> None:
    gated = CountingGate(model.model)
    settings = ServeSettings(max_connections=4)
    app = create_app(dataclasses.replace(model, model=gated), settings=settings)
    with ServerThread(app) as server:
        # Ten silent connections against a limit of four: a health check still gets in,
        # each time in place of the oldest silent one.
        idle = connect(server.url, 10)
        for _ in range(3):
            assert httpx.get(f"{server.url}/health", timeout=5).status_code == 200
        assert closed_by_server(idle[:6], timeout=5) == 6
        for sock in idle:
            sock.close()

        # Four requests in progress: a fifth connection is closed, never queued behind
        # them; they are all answered.
        answers: list[httpx.Response] = []

        def post() -> None:
            answers.append(httpx.post(f"{server.url}/predict", json=records[0], timeout=30))

        senders = [threading.Thread(target=post) for _ in range(4)]
        for sender in senders:
            sender.start()
        with gated.changed:
            assert gated.changed.wait_for(lambda: gated.scoring == 4, 30), gated.scoring
        with pytest.raises(httpx.TransportError):
            httpx.get(f"{server.url}/health", timeout=5)
        gated.release.set()
        for sender in senders:
            sender.join(30)
        assert [a.status_code for a in answers] == [200] * 4
        assert httpx.get(f"{server.url}/health", timeout=5).status_code == 200


def test_an_idle_connection_flood_neither_exhausts_descriptors_nor_floods_the_log(
    template_repo: Path, records: list[dict[str, Any]]
) -> None:
    """Finding: 200 idle sockets against a 160-descriptor limit made /health time out and
    wrote 32 MB of tracebacks in 10 s. Here 300 against 128."""
    limit = 128
    models = template_repo / "models"
    with server_process(models, None, 1.0, open_files_limit(limit)) as served:
        # Told at start-up: the limit it keeps to, below the descriptors it has.
        assert "at most 64 connections, not 1000: the open-file limit is 128" in served.log_text()
        flood = connect(served.url, 300)
        for _ in range(5):
            started = time.monotonic()
            health = httpx.get(f"{served.url}/health", timeout=5)
            assert health.status_code == 200
            assert time.monotonic() - started < 2
        answer = httpx.post(f"{served.url}/predict", json=records[0], timeout=10)
        assert answer.status_code == 200, answer.text
        # Every silent connection is closed: replaced, or at its 1 s header deadline.
        assert closed_by_server(flood, timeout=5) == len(flood)
        for sock in flood:
            sock.close()
        fd_dir = Path(f"/proc/{served.process.pid}/fd")
        if fd_dir.is_dir():
            assert len(list(fd_dir.iterdir())) < limit
        assert httpx.get(f"{served.url}/health", timeout=5).status_code == 200
        assert served.stop() == 0, served.log_text()
    log = served.log_text()
    assert len(served.log) < 100_000, log[-5000:]
    assert "Too many open files" not in log
    assert "Traceback" not in log


# -- the address ------------------------------------------------------------------------------


def test_a_busy_port_is_exit_1_naming_the_address(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as holder:
        port = holder.getsockname()[1]
        # Bound before the model loads: no repository is needed to learn the port is taken.
        result = gitml(
            tmp_path,
            "serve",
            "credit@production",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            check=False,
        )
    assert result.returncode == EXIT_ERROR, result.stderr
    assert result.stderr.splitlines() == [
        f"gitml: error: cannot listen on 127.0.0.1:{port}: Address already in use "
        "(another process listens there: stop it or choose another --port)"
    ]
