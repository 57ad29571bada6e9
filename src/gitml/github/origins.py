"""Origins (scheme, host, port) of the API URL and of the redirects GitHub answers with:
the token goes to the API's own origin only."""

from __future__ import annotations

from urllib.parse import urlsplit

from gitml.github.errors import BadValue

DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> tuple[str, str, int] | None:
    """``(scheme, host, port)`` of an http(s) URL, the default port filled in; None for
    anything else (another scheme, no host, an unreadable port)."""
    try:
        parts = urlsplit(url)
        scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
        port = parts.port or DEFAULT_PORTS.get(scheme)
    except ValueError:
        return None
    if scheme not in DEFAULT_PORTS or not host or port is None:
        return None
    return scheme, host, port


def api_origin(url: str) -> tuple[str, str, int]:
    """The origin of the API URL, refusing what is not ``http(s)://HOST[:PORT][/PATH]``."""
    if not url.isprintable() or any(c.isspace() for c in url):
        raise BadValue(f"GitHub API URL {url!a}: expected https://HOST[/PATH]")
    parts = urlsplit(url)
    if "@" in parts.netloc:  # not echoed: it may hold a password
        raise BadValue(
            "GitHub API URL: a user name or password in it is not used; drop it "
            "(the token comes from GITHUB_TOKEN)"
        )
    origin = origin_of(url)
    if origin is None or parts.query or parts.fragment:
        raise BadValue(f"GitHub API URL {url!r}: expected https://HOST[/PATH]")
    return origin


def show_origin(origin: tuple[str, str, int]) -> str:
    scheme, host, port = origin
    shown = f"{scheme}://{f'[{host}]' if ':' in host else host}"
    return shown if port == DEFAULT_PORTS[scheme] else f"{shown}:{port}"
