"""The GitHub client against a hostile or broken API server (issue 16, finding 9).

Each test runs a real server on 127.0.0.1: two pytest-httpserver instances for redirects
between origins, and for answers that drip, a small socket server written here that
sends its bytes one at a time. What a server can make the client do stays bounded: the
token goes to no other origin, no attempt outlives its deadline, an answer that is not
the JSON expected (or is too large) is a one-line error, and a value that would change
the URL path is refused before anything is sent.
"""

from __future__ import annotations

import gzip
import json
import socket
import threading
import time
from typing import TYPE_CHECKING

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from gitml.errors import EXIT_ERROR, EXIT_USAGE
from gitml.github import paths
from gitml.github.client import MAX_ANSWER_BYTES, GitHubClient, GitHubError
from gitml.github.errors import BadValue
from gitml.github.retry import default_retry
from gitml.github.statuses import create_commit_status

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from werkzeug import Request

TOKEN = "ghs_s3cretT0kenValue"
NETRC_PASSWORD = "netrcS3cret"
REPO = "/repos/acme/credit"
PULL_ANSWER = {
    "number": 9,
    "state": "open",
    "base": {"ref": "main"},
    "head": {"ref": "retrain/x", "sha": "a" * 40, "repo": {"full_name": "acme/credit"}},
}


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[HTTPServer, HTTPServer]]:
    """Two servers on 127.0.0.1 (two ports: two origins), started once for the module."""
    pair = (HTTPServer(host="127.0.0.1", port=0), HTTPServer(host="127.0.0.1", port=0))
    for server in pair:
        server.start()
    yield pair
    for server in pair:
        server.stop()


@pytest.fixture
def api(servers: tuple[HTTPServer, HTTPServer]) -> Iterator[HTTPServer]:
    """The API server the client is configured with."""
    yield servers[0]
    servers[0].clear()


@pytest.fixture
def elsewhere(servers: tuple[HTTPServer, HTTPServer]) -> Iterator[HTTPServer]:
    """Another origin on the same host (another port), where redirects point."""
    yield servers[1]
    servers[1].clear()


@pytest.fixture
def netrc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A ~/.netrc with a password for 127.0.0.1, which requests adds on redirects."""
    path = tmp_path / "netrc"
    path.write_text(f"machine 127.0.0.1 login someone password {NETRC_PASSWORD}\n")
    path.chmod(0o600)
    monkeypatch.setenv("NETRC", str(path))


def _client(server: HTTPServer, deadline_seconds: float = 60) -> GitHubClient:
    return GitHubClient(
        TOKEN,
        api_url=server.url_for("/").rstrip("/"),
        retry=default_retry(backoff_factor=0),
        deadline_seconds=deadline_seconds,
    )


def _one_line_error(call: Callable[[], object]) -> GitHubError:
    with pytest.raises(GitHubError) as caught:
        call()
    message = str(caught.value)
    assert "\n" not in message
    assert TOKEN not in message
    assert NETRC_PASSWORD not in message
    return caught.value


# 1. The token goes to no other origin.


@pytest.mark.usefixtures("netrc")
@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_to_another_port_is_not_followed(
    api: HTTPServer, elsewhere: HTTPServer, status: int
) -> None:
    api.expect_request(REPO).respond_with_data(
        "", status=status, headers={"Location": elsewhere.url_for("/stolen")}
    )
    elsewhere.expect_request("/stolen").respond_with_json({"default_branch": "main"})
    error = _one_line_error(lambda: _client(api).default_branch("acme/credit"))
    assert str(error) == (
        f"GitHub API {status}: redirected to another origin, http://127.0.0.1:{elsewhere.port}; "
        f"not followed, so the token is not sent there (GET {REPO})"
    )
    assert error.status == status
    assert error.exit_code == EXIT_ERROR
    # requests would have dropped the bearer token there, and sent the netrc password
    assert elsewhere.log == []


@pytest.mark.parametrize(
    "location",
    [
        "https://127.0.0.1:{port}/repos/acme/credit",  # another scheme
        "http://localhost:{port}/repos/acme/credit",  # another host name
        "//evil.example/repos/acme/credit",  # scheme-relative: another host
        "http://127.0.0.1:{port}@evil.example/x",  # userinfo trick: the host is evil.example
        "ftp://127.0.0.1:{port}/x",
        "http://[::1]:{port}/x",  # the same machine by another address
    ],
)
def test_any_other_origin_is_refused(api: HTTPServer, location: str) -> None:
    api.expect_request(REPO).respond_with_data(
        "", status=302, headers={"Location": location.format(port=api.port)}
    )
    error = _one_line_error(lambda: _client(api).default_branch("acme/credit"))
    assert "redirected to another origin" in str(error)
    assert len(api.log) == 1


@pytest.mark.usefixtures("netrc")
def test_a_same_origin_redirect_is_repeated_with_the_token(api: HTTPServer) -> None:
    # GitHub moves a renamed repository: 301 for GET, 307 for other methods, both to be
    # repeated verbatim at the new URI. requests would have swapped the token for the
    # netrc password, and turned a POST after 301/302 into a GET.
    api.expect_request(REPO).respond_with_data(
        "", status=301, headers={"Location": "/repositories/7"}
    )
    api.expect_request("/repositories/7").respond_with_json({"default_branch": "trunk"})
    statuses = f"{REPO}/statuses/{'c' * 40}"
    api.expect_request(statuses, method="POST").respond_with_data(
        "", status=307, headers={"Location": api.url_for(f"/repositories/7/statuses/{'c' * 40}")}
    )
    api.expect_request(f"/repositories/7/statuses/{'c' * 40}", method="POST").respond_with_json(
        {"state": "success"}, status=201
    )
    client = _client(api)
    assert client.default_branch("acme/credit") == "trunk"
    create_commit_status(client, "acme/credit", "c" * 40, "success", "gitml/check", "ok")
    sent = [(r.method, r.path, r.headers.get("Authorization"), r.get_data()) for r, _ in api.log]
    body = json.dumps({"state": "success", "context": "gitml/check", "description": "ok"})
    assert sent == [
        ("GET", REPO, f"Bearer {TOKEN}", b""),
        ("GET", "/repositories/7", f"Bearer {TOKEN}", b""),
        ("POST", statuses, f"Bearer {TOKEN}", body.encode()),
        ("POST", f"/repositories/7/statuses/{'c' * 40}", f"Bearer {TOKEN}", body.encode()),
    ]


def test_a_server_s_text_in_an_error_is_one_short_inert_line(api: HTTPServer) -> None:
    api.expect_request(REPO).respond_with_json(
        {"message": "Not Found\x1b[2J\x1b]8;;https://evil.example\x07click" + "!" * 5000},
        status=404,
    )
    # werkzeug refuses to send a control character in a header: a raw answer does.
    raw = DripServer(b"HTTP/1.1 302 Found\r\nLocation: http://evil\x1b[31m.example/\r\n\r\n", b"")
    try:
        for client in (_client(api), GitHubClient(TOKEN, f"http://127.0.0.1:{raw.port}")):
            message = str(_one_line_error(lambda c=client: c.default_branch("acme/credit")))
            assert message.isprintable()
            assert len(message) < 500
            assert "\\x1b" in message
    finally:
        raw.close()


@pytest.mark.parametrize("location", ["/repositories/7", "http://evil.example/x"])
def test_a_redirect_s_body_is_not_read(api: HTTPServer, location: str) -> None:
    # requests reads a redirect's whole body even when it does not follow it.
    sent = []

    def endless(_request: Request) -> Response:
        def chunks() -> Iterator[bytes]:
            for _ in range(100):  # 100 MiB if it were all read
                sent.append(1)
                yield b"x" * (1024 * 1024)

        return Response(chunks(), status=302, headers={"Location": location})

    api.expect_request(REPO).respond_with_handler(endless)
    api.expect_request("/repositories/7").respond_with_json({"default_branch": "main"})
    client = _client(api)
    if location.startswith("/"):
        assert client.default_branch("acme/credit") == "main"
    else:
        _one_line_error(lambda: client.default_branch("acme/credit"))
    assert len(sent) < 100


def test_redirects_are_followed_a_few_times_only(api: HTTPServer) -> None:
    api.expect_request(REPO).respond_with_data("", status=302, headers={"Location": REPO})
    error = _one_line_error(lambda: _client(api).default_branch("acme/credit"))
    assert str(error) == f"GitHub API GET {REPO}: more than 3 redirects; not followed"
    assert len(api.log) == 4


def test_a_redirect_without_location_is_an_error(api: HTTPServer) -> None:
    api.expect_request(REPO).respond_with_data("", status=301)
    error = _one_line_error(lambda: _client(api).default_branch("acme/credit"))
    assert str(error) == f"GitHub API 301: a redirect without a Location (GET {REPO})"


# 2. Every attempt has a deadline: connect, send, and the whole answer.


class DripServer:
    """Accepts connections, reads each request, then answers ``head`` at once and
    ``drip`` one byte every ``interval`` seconds, for at most ``lifetime`` seconds."""

    def __init__(self, head: bytes, drip: bytes, interval: float = 0.5, lifetime: float = 8):
        self.head, self.drip, self.interval, self.lifetime = head, drip, interval, lifetime
        self.connections = 0
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _serve(self) -> None:
        started = time.monotonic()
        with self._listener:  # closed at the end: a retry then finds the port refused
            while not self._stop.is_set() and time.monotonic() - started < self.lifetime:
                try:
                    connection, _ = self._listener.accept()
                except TimeoutError:
                    continue
                self.connections += 1
                with connection:
                    self._answer(connection, started)

    def _answer(self, connection: socket.socket, started: float) -> None:
        connection.settimeout(1)
        request = b""
        try:
            while b"\r\n\r\n" not in request:
                chunk = connection.recv(4096)
                if not chunk:
                    return
                request += chunk
            connection.sendall(self.head)
            for byte in self.drip:
                if self._stop.wait(self.interval) or time.monotonic() - started > self.lifetime:
                    return
                connection.sendall(bytes([byte]))
        except OSError:
            return  # the client hung up


ANSWER = b'{"default_branch": "main"' + b" " * 40 + b"}"
HEADERS = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
HEADERS += b"Content-Length: %d\r\n\r\n" % len(ANSWER)


@pytest.mark.parametrize(
    ("head", "drip"),
    [
        (b"", HEADERS + ANSWER),  # the status line drips
        (HEADERS[:17], HEADERS[17:] + ANSWER),  # the headers drip
        (HEADERS, ANSWER),  # the body drips
    ],
    ids=["status-line", "headers", "body"],
)
def test_a_dripping_answer_is_cut_off_at_the_deadline(head: bytes, drip: bytes) -> None:
    server = DripServer(head, drip)
    try:
        client = GitHubClient(
            TOKEN,
            api_url=f"http://127.0.0.1:{server.port}",
            retry=default_retry(backoff_factor=0),
            deadline_seconds=2,
        )
        started = time.monotonic()
        error = _one_line_error(lambda: client.default_branch("acme/credit"))
        took = time.monotonic() - started
    finally:
        server.close()
    assert str(error) == (
        f"GitHub API GET {REPO}: http://127.0.0.1:{server.port} did not answer within 2 s "
        "(a stalled or dripping answer; not retried)"
    )
    assert error.status is None
    assert 2 <= took < 3.5  # one byte every 0.5 s never trips the 30 s read timeout
    assert server.connections == 1


def test_the_deadline_holds_through_a_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    # requests builds another connection pool for a proxy: it keeps the deadline too.
    proxy = DripServer(HEADERS[:17], HEADERS[17:] + ANSWER)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.port}")
    for name in ("http_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    try:
        client = GitHubClient(TOKEN, "http://api.github.invalid", deadline_seconds=1)
        started = time.monotonic()
        error = _one_line_error(lambda: client.default_branch("acme/credit"))
        took = time.monotonic() - started
    finally:
        proxy.close()
    assert "did not answer within 1 s" in str(error)
    assert took < 2.5
    assert proxy.connections == 1


def test_a_wait_between_attempts_is_not_counted(api: HTTPServer) -> None:
    # A secondary rate limit asks for 1 s; each attempt answers at once, so a deadline
    # shorter than the wait cuts nothing off.
    api.expect_ordered_request(f"{REPO}/pulls/9").respond_with_json(
        {"message": "You have exceeded a secondary rate limit."},
        status=403,
        headers={"Retry-After": "1"},
    )
    api.expect_ordered_request(f"{REPO}/pulls/9").respond_with_json(PULL_ANSWER)
    client = _client(api, deadline_seconds=0.8)
    assert client.get_pull_request("acme/credit", 9).head_ref == "retrain/x"
    assert len(api.log) == 2


# 3. An answer that is not the JSON expected, or too large, is a one-line error.


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ("<html>Sign in to the proxy</html>", "the answer is not JSON, expected a JSON object"),
        ("[" * 200_000, "the answer is not JSON, expected a JSON object"),  # too deep
        ("1" * 5000, "the answer is not JSON, expected a JSON object"),  # too long an int
        (b"\xff\xfe\xfa", "the answer is not JSON, expected a JSON object"),
        ("", "empty answer, expected a JSON object"),
        ('["main"]', "expected a JSON object, got a JSON array"),
        ("null", "expected a JSON object, got JSON null"),
    ],
)
def test_an_answer_of_the_wrong_kind_is_a_one_line_error(
    api: HTTPServer, answer: str | bytes, message: str
) -> None:
    api.expect_request(REPO).respond_with_data(answer, content_type="application/json")
    error = _one_line_error(lambda: _client(api).default_branch("acme/credit"))
    assert str(error) == f"GitHub API 200: {message} (GET {REPO})"
    assert error.exit_code == EXIT_ERROR


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ({}, "default_branch is not a string"),
        ({"default_branch": ["main"]}, "default_branch is not a string"),
        ({"default_branch": ""}, "empty default_branch"),
    ],
)
def test_a_missing_field_is_named(api: HTTPServer, answer: object, message: str) -> None:
    api.expect_request(REPO).respond_with_json(answer)
    error = _one_line_error(lambda: _client(api).default_branch("acme/credit"))
    assert str(error) == f"GitHub API GET {REPO}: unexpected answer: {message}"


def _head(**changes: object) -> dict[str, object]:
    return {"head": {**PULL_ANSWER["head"], **changes}}  # type: ignore[dict-item]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"head": ["retrain/x"]}, "head.sha is not a string"),
        (_head(sha="a" * 39 + "\n"), "head.sha is not a commit id"),
        (_head(sha="A" * 40 + "; x"), "head.sha is not a commit id"),
        (_head(repo="acme/credit"), "head.repo is not an object or null"),
        (_head(repo={"full_name": 1}), "full_name is not a string"),
        ({"number": "9"}, "number is not an integer"),
        ({"number": True}, "number is not an integer"),
        ({"number": 10}, "another pull request"),
        ({"base": None}, "base.ref is not a string"),
    ],
)
def test_a_pull_request_answer_is_read_strictly(
    api: HTTPServer, change: dict[str, object], message: str
) -> None:
    api.expect_request(f"{REPO}/pulls/9").respond_with_json({**PULL_ANSWER, **change})
    error = _one_line_error(lambda: _client(api).get_pull_request("acme/credit", 9))
    assert str(error).startswith(f"GitHub API GET {REPO}/pulls/9: unexpected answer: {message}")


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ({"number": "42", "html_url": "https://github.example/pull/4"}, "number is not an integer"),
        ({"number": 42}, "html_url is not a string"),
        ({"number": 42, "html_url": "javascript:alert(1)"}, "html_url is not a URL"),
        ({"number": 42, "html_url": "https://x/\x1b[2J"}, "html_url is not a URL"),
        ({"number": -1, "html_url": "https://github.example/pull/1"}, "not a pull request"),
    ],
)
def test_a_created_pull_request_is_read_strictly(
    api: HTTPServer, answer: dict[str, object], message: str
) -> None:
    api.expect_request(f"{REPO}/pulls", method="POST").respond_with_json(answer, status=201)
    error = _one_line_error(
        lambda: _client(api).create_pull_request("acme/credit", "a", "main", "T", "B")
    )
    assert str(error) == f"GitHub API POST {REPO}/pulls: unexpected answer: {message}"


def test_the_cli_exits_1_not_70_on_a_non_json_answer(
    api: HTTPServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from gitml.cli.main import main

    api.expect_request(f"{REPO}/pulls/9").respond_with_data("<html>maintenance</html>")
    _environment(monkeypatch, api)
    assert main(["pull-request", "9"]) == EXIT_ERROR
    assert capsys.readouterr().err == (
        "gitml: error: GitHub API 200: the answer is not JSON, expected a JSON object "
        f"(GET {REPO}/pulls/9)\n"
    )


LIMIT = f"the answer is larger than {MAX_ANSWER_BYTES // 1024 // 1024} MiB; not read"


def test_a_declared_huge_answer_is_not_read(api: HTTPServer) -> None:
    def huge(_request: Request) -> Response:
        response = Response(iter([b"{}"]), content_type="application/json")
        response.headers["Content-Length"] = str(MAX_ANSWER_BYTES + 1)
        return response

    api.expect_request(REPO).respond_with_handler(huge)
    error = _one_line_error(lambda: _client(api).default_branch("acme/credit"))
    assert str(error) == f"GitHub API 200: {LIMIT} (GET {REPO})"


def test_an_endless_answer_is_cut_at_the_limit(api: HTTPServer) -> None:
    sent = []

    def endless(_request: Request) -> Response:
        def chunks() -> Iterator[bytes]:
            yield b'{"default_branch": "'
            for _ in range(100):  # 100 MiB if it were all read
                sent.append(1)
                yield b"x" * (1024 * 1024)

        return Response(chunks(), content_type="application/json")  # no Content-Length

    api.expect_request(REPO).respond_with_handler(endless)
    error = _one_line_error(lambda: _client(api).default_branch("acme/credit"))
    assert str(error) == f"GitHub API 200: {LIMIT} (GET {REPO})"
    assert len(sent) < 100


def test_a_compressed_bomb_is_cut_at_the_limit(api: HTTPServer) -> None:
    # 64 MiB of zeros in about 64 KiB of gzip: the limit counts what it decompresses to.
    bomb = gzip.compress(b"0" * (64 * 1024 * 1024), compresslevel=9)
    api.expect_request(REPO).respond_with_data(
        bomb, headers={"Content-Encoding": "gzip"}, content_type="application/json"
    )
    error = _one_line_error(lambda: _client(api).default_branch("acme/credit"))
    assert str(error) == f"GitHub API 200: {LIMIT} (GET {REPO})"


# 4. What goes into a URL path is checked before anything is sent.


def _environment(monkeypatch: pytest.MonkeyPatch, server: HTTPServer) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setenv("GITHUB_API_URL", server.url_for("/").rstrip("/"))
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/credit")


@pytest.mark.parametrize(
    "sha", ["../../x", "a" * 39, "a" * 40 + "/../..", "%2e%2e%2f" + "a" * 31, "a" * 41, ""]
)
def test_commit_status_refuses_a_sha_that_is_not_a_commit_id(
    api: HTTPServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    sha: str,
) -> None:
    from gitml.cli.main import main

    _environment(monkeypatch, api)
    assert main(["commit-status", "--sha", sha, "--state", "success"]) == EXIT_USAGE
    assert capsys.readouterr().err == (
        f"gitml: error: --sha {sha!r}: expected a full commit id (40 or 64 hex digits)\n"
    )
    assert api.log == []


@pytest.mark.parametrize(
    "argv",
    [
        ["commit-status", "--sha", "a" * 40, "--state", "success", "--repository", "acme/../x"],
        ["pull-request", "9", "--repository", "acme/credit/pulls"],
        ["pull-request", "--", "-1"],
        ["pull-request", "0"],
    ],
)
def test_the_cli_refuses_other_bad_path_values(
    api: HTTPServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
) -> None:
    from gitml.cli.main import main

    _environment(monkeypatch, api)
    assert main(argv) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "expected" in err
    assert api.log == []


@pytest.mark.parametrize(
    "repository",
    [
        "acme/..",
        "acme/.",
        "../credit",
        "acme/../x",
        "acme/credit/pulls",
        "acme/cr%65dit",
        "acme/credit?x=1",
        "acme/credit#x",
        "acme/cre dit",
        "acme",
        "/credit",
        "-acme/credit",
        "acme/" + "x" * 101,
    ],
)
def test_a_repository_is_owner_slash_name(api: HTTPServer, repository: str) -> None:
    client = _client(api)
    for call in (
        lambda: client.default_branch(repository),
        lambda: client.get_pull_request(repository, 9),
        lambda: client.create_pull_request(repository, "a", "b", "T", "B"),
        lambda: client.dispatch_workflow(repository, "propose.yml", "main", {}),
        lambda: create_commit_status(client, repository, "a" * 40, "success", "c", ""),
    ):
        error = _one_line_error(call)
        assert isinstance(error, BadValue)
        assert error.exit_code == EXIT_USAGE
        assert str(error).startswith(f"repository {repository!r}: expected OWNER/NAME")
    assert api.log == []


@pytest.mark.parametrize("repository", ["acme/credit", "Acme-Corp/credit.v2", "a_b/x_y-z.git"])
def test_real_repository_names_pass(repository: str) -> None:
    assert paths.repository(repository) == f"/repos/{repository}"


@pytest.mark.parametrize("workflow", ["../x.yml", "propose.yml/../../x", "propose", "a b.yml"])
def test_a_workflow_is_a_file_name_or_an_id(api: HTTPServer, workflow: str) -> None:
    error = _one_line_error(
        lambda: _client(api).dispatch_workflow("acme/credit", workflow, "main", {})
    )
    assert str(error).startswith(f"workflow {workflow!r}: expected a file name of .github/")
    assert api.log == []
    assert paths.workflow("propose.yaml") == "propose.yaml"
    assert paths.workflow("161335") == "161335"


@pytest.mark.parametrize("number", [0, -1, True])
def test_a_pull_request_number_is_positive(api: HTTPServer, number: int) -> None:
    error = _one_line_error(lambda: _client(api).get_pull_request("acme/credit", number))
    assert str(error) == f"pull request number {number!r}: expected a positive integer"
    assert api.log == []


def test_branch_names_in_the_query_are_encoded(api: HTTPServer) -> None:
    # A branch name reaches the URL only as a query parameter, which requests encodes:
    # `&`, `#` and `=` in it stay inside the one parameter.
    head = "feat/a&state=closed#x?y=1"
    api.expect_request(f"{REPO}/pulls", method="POST").respond_with_json(
        {"message": "Validation Failed", "errors": [{"message": "A pull request already exists"}]},
        status=422,
    )
    api.expect_request(f"{REPO}/pulls", method="GET").respond_with_json(
        [{"number": 3, "html_url": "https://github.example/pull/3"}]
    )
    pull = _client(api).create_pull_request("acme/credit", head, "main", "T", "B")
    assert (pull.number, pull.created) == (3, False)
    request, _ = api.log[1]
    assert request.args.to_dict(flat=False) == {
        "state": ["open"],
        "head": [f"acme:{head}"],
        "base": ["main"],
    }


@pytest.mark.parametrize(
    "url",
    [
        "api.github.com",
        "ftp://api.github.com",
        "https://",
        "https://ghe.example/api?v=3",
        "https://ghe.example/api\nv3",
    ],
)
def test_the_api_url_must_be_http_or_https(url: str) -> None:
    with pytest.raises(BadValue, match=r"^GitHub API URL .*: expected https://HOST\[/PATH\]$"):
        GitHubClient(TOKEN, api_url=url)


def test_a_password_in_the_api_url_is_refused_and_not_shown() -> None:
    with pytest.raises(BadValue) as caught:
        GitHubClient(TOKEN, api_url="https://someone:hunter2@ghe.example/api/v3")
    assert "hunter2" not in str(caught.value)
