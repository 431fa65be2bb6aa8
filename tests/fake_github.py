"""GitHub's REST API as the alert job uses it, on 127.0.0.1: a run's jobs, and issues with
comments, kept in memory for the test to look at."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlparse


class FakeGitHub:
    def __init__(self) -> None:
        self.jobs: list[dict[str, Any]] = []
        self.issues: dict[int, dict[str, Any]] = {}
        self.authorizations: set[str] = set()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _reply(self, code: int, body: object) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _body(self) -> dict[str, Any]:
                return json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")

            def do_GET(self) -> None:
                fake.authorizations.add(self.headers.get("Authorization", ""))
                path = urlparse(self.path).path
                if path.endswith("/jobs"):
                    return self._reply(200, {"total_count": len(fake.jobs), "jobs": fake.jobs})
                if path.endswith("/issues"):
                    return self._reply(200, [i for i in fake.issues.values() if i["state"] == "open"])
                self._reply(404, {"message": "Not Found"})

            def do_POST(self) -> None:
                fake.authorizations.add(self.headers.get("Authorization", ""))
                parts, body = urlparse(self.path).path.strip("/").split("/"), self._body()
                if parts[-1] == "issues":
                    number = len(fake.issues) + 1
                    fake.issues[number] = {"number": number, "state": "open", "comments": [], **body}
                    return self._reply(201, fake.issues[number])
                if parts[-1] == "comments" and int(parts[-2]) in fake.issues:
                    fake.issues[int(parts[-2])]["comments"].append(body["body"])
                    return self._reply(201, {"body": body["body"]})
                self._reply(404, {"message": "Not Found"})

            def do_PATCH(self) -> None:
                parts, body = urlparse(self.path).path.strip("/").split("/"), self._body()
                if int(parts[-1]) in fake.issues:
                    fake.issues[int(parts[-1])].update(body)
                    return self._reply(200, fake.issues[int(parts[-1])])
                self._reply(404, {"message": "Not Found"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FakeGitHub:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
