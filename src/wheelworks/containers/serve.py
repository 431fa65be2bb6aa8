"""Serve a container over HTTP on 127.0.0.1, as the CDN served the old wheel containers.

Works for any backend, so an S3 container can be pip-installed from without making its
bucket public. Files are streamed (with byte ranges), never read whole. Folder URLs serve
their index.html, or index.json to clients that prefer PEP 691 JSON (content negotiation
with q-values, as PEP 691 says). The container's own bookkeeping is never served, and a
path that is not a plain key of the container is refused.
"""

from __future__ import annotations

import errno
import posixpath
import re
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlparse

from wheelworks.containers import META, SIMPLE, Store
from wheelworks.containers.index import HTML_TYPE, JSON_TYPE
from wheelworks.shared.errors import ContainerError, ServeError, WheelworksError

_TYPES = {".html": HTML_TYPE, ".json": "application/json", ".whl": "application/octet-stream", ".asc": "text/plain",
          ".metadata": "text/plain", ".svg": "image/svg+xml", ".css": "text/css", ".log": "text/plain; charset=utf-8",
          ".png": "image/png"}
_JSON_LATEST = "application/vnd.pypi.simple.latest+json"
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


IDLE_TIMEOUT = 15.0  # seconds


def negotiate(accept: str) -> str:
    """The index format a client's Accept header prefers (PEP 691): JSON_TYPE or HTML_TYPE."""
    best, best_q = HTML_TYPE, -1.0
    offers = {JSON_TYPE: JSON_TYPE, _JSON_LATEST: JSON_TYPE, "application/vnd.pypi.simple.v1+html": HTML_TYPE,
              "application/vnd.pypi.simple.latest+html": HTML_TYPE, "text/html": HTML_TYPE, "*/*": HTML_TYPE}
    for part in filter(None, (p.strip() for p in (accept or "*/*").split(","))):
        media, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for param in params:
            if param.startswith("q="):
                try:
                    q = float(param[2:])
                except ValueError:
                    q = 0.0
        if media in offers and q > 0 and q > best_q:  # on a tie, the client's first choice
            best, best_q = offers[media], q
    return best


def printable(text: str) -> str:
    """A request's path as a log line may show it: control characters (a terminal's escape
    sequences) written as \\xNN."""
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text)


def key_of(path: str) -> str | None:
    """The container key a request path names, or None if it is not a plain one."""
    raw = unquote(urlparse(path).path)
    if "\0" in raw or "\\" in raw or any(part in (".", "..") for part in raw.split("/")):
        return None
    key = posixpath.normpath(raw).lstrip("/")
    return "" if key == "." else key


def make_server(store: Store, port: int = 8000, host: str = "127.0.0.1",
                log: Callable[[str], None] | None = None) -> ThreadingHTTPServer:
    """A server for ``store``; ``log`` receives a line per request ("GET /simple/x/ 200")."""
    if not 0 <= port <= 65535:
        raise ServeError(f"--port {port}: not a port number", "use 1-65535, or 0 for any free port")

    class Handler(BaseHTTPRequestHandler):
        timeout = IDLE_TIMEOUT  # a connection that sends nothing for this long is closed, freeing its thread

        def do_GET(self) -> None:
            self._respond(body=True)

        def do_HEAD(self) -> None:
            self._respond(body=False)

        def _respond(self, body: bool) -> None:
            try:
                self._serve(body)
            except (ConnectionError, BrokenPipeError):
                pass  # the client went away mid-file
            except ContainerError:  # no such object, or a key that resolves outside the container
                self._status(404)
            except WheelworksError:
                self._status(503)

        def _status(self, code: int) -> None:
            self.send_error(code)
            if log:
                log(f"{self.command} {printable(self.path)} {code}")

        def _serve(self, body: bool) -> None:
            key = key_of(self.path)
            if key is None:
                self._status(400)
                return
            if key == META.rstrip("/") or key.startswith(META):
                self._status(404)
                return
            folder = key == "" or urlparse(self.path).path.endswith("/")
            if not folder and key.startswith(SIMPLE) and key.count("/") == 1:
                self.send_response(301)  # /simple/pkg -> /simple/pkg/, as PEP 503 asks
                self.send_header("Location", urlparse(self.path).path + "/")
                self.end_headers()
                if log:
                    log(f"{self.command} {printable(self.path)} 301")
                return
            name, content_type, vary = key, None, False
            if folder:
                vary = True
                wanted = negotiate(self.headers.get("Accept", ""))
                base = key + "/" if key else ""
                name = base + ("index.json" if wanted == JSON_TYPE else "index.html")
                if wanted == JSON_TYPE and store.size(name) is None:
                    name = base + "index.html"
                content_type = JSON_TYPE if name.endswith(".json") else HTML_TYPE
            size = store.size(name)
            if size is None:
                self._status(404)
                return
            start, end, status = 0, size, 200
            ranged = self.headers.get("Range")
            if ranged and not folder:
                match = _RANGE.fullmatch(ranged.strip())
                if match and (match.group(1) or match.group(2)):
                    first, last = match.groups()
                    start = int(first) if first else max(0, size - int(last))
                    end = min(size, int(last) + 1) if first and last else size
                    if start >= size or start >= end:
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{size}")
                        self.end_headers()
                        return
                    status = 206
            self.send_response(status)
            self.send_header("Content-Type", content_type or _TYPES.get(posixpath.splitext(name)[1],
                                                                          "application/octet-stream"))
            self.send_header("Content-Length", str(end - start))
            self.send_header("Accept-Ranges", "bytes")
            if status == 206:
                self.send_header("Content-Range", f"bytes {start}-{end - 1}/{size}")
            if vary:
                self.send_header("Vary", "Accept")
            self.end_headers()
            if log:
                log(f"{self.command} {printable(self.path)} {status}")
            if body:
                for chunk in store.stream(name, start, end):
                    self.wfile.write(chunk)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
            pass

    try:
        return ThreadingHTTPServer((host, port), Handler)
    except OverflowError:
        raise ServeError(f"--port {port}: not a port number", "use 1-65535, or 0 for any free port") from None
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise ServeError(f"port {port} on {host} is in use", "pick another with --port, or 0 for any free one") from None
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def check_root(store: Store) -> None:
    """A container to serve must exist: a root with nothing in it is a typo, not a container."""
    if not store.list(SIMPLE) and store.size("index.html") is None:
        raise ContainerError(f"{store.url} is not a container (no index.html or simple/ in it)",
                             "publish to it first, or check --root / --container")

