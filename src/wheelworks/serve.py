"""Serve a container over HTTP on 127.0.0.1, as the CDN served the old wheel containers.

Works for any backend, so an S3 container can be pip-installed from without making its
bucket public. Folder URLs serve their index.html, or index.json to clients that ask for
PEP 691 JSON in their Accept header. The container's own bookkeeping is not served.
"""

from __future__ import annotations

import posixpath
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlparse

from wheelworks.containers import Store
from wheelworks.containers.index import HTML_TYPE, JSON_TYPE
from wheelworks.publish import CLAIMS

_TYPES = {".html": HTML_TYPE, ".json": JSON_TYPE, ".whl": "application/octet-stream", ".asc": "text/plain"}


def make_server(store: Store, port: int = 8000, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._respond(body=True)

        def do_HEAD(self) -> None:
            self._respond(body=False)

        def _respond(self, body: bool) -> None:
            key = posixpath.normpath(unquote(urlparse(self.path).path)).lstrip("/")
            key = "" if key == "." else key
            if key.startswith(CLAIMS.split("/")[0]) or key.startswith(".."):
                self.send_error(404)
                return
            data, name = self._find(key)
            if data is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", _TYPES.get(posixpath.splitext(name)[1], "application/octet-stream"))
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if body:
                self.wfile.write(data)

        def _find(self, key: str) -> tuple[bytes | None, str]:
            folder = key == "" or self.path.split("?")[0].endswith("/")
            if not folder:
                return store.get(key), key
            base = key + "/" if key else ""
            if JSON_TYPE in self.headers.get("Accept", ""):
                data = store.get(base + "index.json")
                if data is not None:
                    return data, "index.json"
            return store.get(base + "index.html"), "index.html"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
            pass

    return ThreadingHTTPServer((host, port), Handler)
