"""`wheelworks serve` over real HTTP: PEP 691 negotiation, ranges, bad paths, bad ports."""

from __future__ import annotations

import http.client
import os
import socket
from pathlib import Path

import pytest

from tests.helpers import make_wheel, serving
from wheelworks import cli
from wheelworks.containers.local import LocalStore
from wheelworks.containers.publish import publish
from wheelworks.containers.serve import negotiate

JSON = "application/vnd.pypi.simple.v1+json"


@pytest.fixture
def served(tmp_path):
    store = LocalStore(tmp_path / "c")
    wheel = make_wheel(tmp_path / "w", "pytally", "1.0", padding=300_000)
    publish(store, [wheel])
    (tmp_path / "secret.txt").write_text("outside")
    os.symlink(tmp_path / "secret.txt", store.root / "link.txt")  # a symlink out of the root
    with serving(store) as base:
        yield base, store, wheel


def _get(base: str, path: str, headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
    host, port = base.split("//")[1].rstrip("/").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.request("GET", path, headers=headers or {})
    response = conn.getresponse()
    response.body = response.read()  # type: ignore[attr-defined]
    conn.close()
    return response


@pytest.mark.parametrize(("accept", "expected"), [
    (f"{JSON}, text/html;q=0.5", JSON),
    (f"{JSON};q=0.01, text/html;q=1", "text/html"),
    ("application/vnd.pypi.simple.latest+json", JSON),
    ("text/html", "text/html"),
    ("", "text/html"),
    (f"application/foo, {JSON};q=0", "text/html"),
])
def test_pep_691_negotiation(served, accept, expected):
    base, _, _ = served
    response = _get(base, "/simple/pytally/", {"Accept": accept} if accept else {})
    assert response.status == 200
    assert response.getheader("Content-Type").startswith(expected)
    assert response.getheader("Vary") == "Accept"
    assert negotiate(accept).startswith(expected)


def test_project_page_without_slash_redirects(served):
    base, _, _ = served
    response = _get(base, "/simple/pytally")
    assert response.status == 301 and response.getheader("Location") == "/simple/pytally/"


def test_files_stream_with_length_and_ranges(served):
    base, store, wheel = served
    (key,) = [k for k in store.list("files/") if k.endswith(".whl")]
    data = wheel.read_bytes()
    whole = _get(base, "/" + key)
    assert whole.status == 200 and int(whole.getheader("Content-Length")) == len(data) and whole.body == data
    part = _get(base, "/" + key, {"Range": "bytes=100-199"})
    assert part.status == 206 and part.body == data[100:200]
    assert part.getheader("Content-Range") == f"bytes 100-199/{len(data)}"
    assert _get(base, "/" + key, {"Range": "bytes=-10"}).body == data[-10:]
    assert _get(base, "/" + key, {"Range": f"bytes={len(data)}-"}).status == 416


@pytest.mark.parametrize(("path", "status"), [
    ("/%00", 400), ("/simple/%00/", 400), ("/../../etc/passwd", 400), ("/simple/..%2f..%2fsecret.txt", 400),
    ("/link.txt", 404), ("/.wheelworks/wheels/", 404), ("/nothing-here", 404),
])
def test_bad_paths_get_an_answer_not_a_traceback(served, path, status, capfd):
    base, _, _ = served
    assert _get(base, path).status == status
    assert "Traceback" not in capfd.readouterr().err


def _one_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("wheelworks: error: "), err
    return err[0]


def test_serve_checks_its_port_and_root_before_it_starts(served, tmp_path, capsys):
    _, store, _ = served
    assert cli.main(["serve", "--root", str(store.root), "--port", "99999"]) == 9
    assert "--port 99999: not a port number" in _one_line(capsys)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert cli.main(["serve", "--root", str(store.root), "--port", str(port)]) == 9
        assert f"port {port} on 127.0.0.1 is in use" in _one_line(capsys)
    assert cli.main(["serve", "--root", str(tmp_path / "nonexistent"), "--port", "0"]) == 6
    assert "is not a container" in _one_line(capsys)


def test_bad_command_line_values_are_one_line(tmp_path, capsys):
    config = tmp_path / "wheelworks.toml"
    config.write_bytes(b"\xff\xfe[project]\n")
    assert cli.main(["build", "--config", str(config)]) == 2
    assert "not UTF-8 text" in _one_line(capsys)
    assert cli.main(["build", "--config", str(tmp_path)]) == 2
    assert "is a folder, not a config file" in _one_line(capsys)
    for jobs in ("0", "-3", "two"):
        with pytest.raises(SystemExit) as exit_:
            cli.main(["build", "--config", str(config), "-j", jobs])
        assert exit_.value.code == 2
        assert "argument -j/--jobs" in capsys.readouterr().err




def test_pip_and_uv_resolve_from_metadata_without_downloading_wheels(tmp_path):
    """PEP 658/714: the container serves each wheel's METADATA, and resolvers use it."""
    import json
    import subprocess
    import sys
    import threading

    from tests.helpers import pip_env
    from wheelworks.containers.serve import make_server

    store = LocalStore(tmp_path / "c")
    publish(store, [make_wheel(tmp_path / "w", "pytally", v, padding=1000) for v in ("1.0", "1.1")])
    page = json.loads(store.get("simple/pytally/index.json"))
    assert all(f["core-metadata"]["sha256"] for f in page["files"]) and page["versions"] == ["1.0", "1.1"]
    assert 'data-core-metadata="sha256=' in store.get("simple/pytally/index.html").decode()

    requests: list[str] = []
    server = make_server(store, 0, log=requests.append)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    index = f"http://127.0.0.1:{server.server_address[1]}/simple/"
    try:
        # The test environment's pip (the Makefile keeps it current); --dry-run installs nothing.
        subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed",
                        "--no-cache-dir", "--index-url", index, "pytally"], check=True, env=pip_env(),
                       capture_output=True)
        pip_requests, requests[:] = list(requests), []
        (tmp_path / "in.txt").write_text("pytally\n")
        uv = Path(sys.executable).parent / "uv"
        subprocess.run([str(uv), "pip", "compile", "--no-cache", "--index-url", index, str(tmp_path / "in.txt")],
                       check=True, capture_output=True, env={**pip_env(), "UV_NO_CONFIG": "1"})
        uv_requests = list(requests)
    finally:
        server.shutdown()
        server.server_close()
    for seen in (pip_requests, uv_requests):
        assert any(".whl.metadata " in r for r in seen), seen
        assert not any(r.split()[1].endswith(".whl") for r in seen), seen  # no wheel downloaded to choose


@pytest.mark.parametrize("quiet", [False, True])
def test_serve_says_what_pip_fetched_unless_quiet(tmp_path, quiet):
    import subprocess
    import sys

    from tests.helpers import free_port, wait_for_port

    store = LocalStore(tmp_path / "c")
    publish(store, [make_wheel(tmp_path / "w", "pytally", "1.0")])
    port = free_port()
    argv = [str(Path(sys.executable).parent / "wheelworks"), "serve", "--root", str(store.root), "--port", str(port),
            *(["--quiet"] if quiet else [])]
    server = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_port(port)
        assert _get(f"http://127.0.0.1:{port}/", "/simple/pytally/").status == 200
        assert _get(f"http://127.0.0.1:{port}/", "/simple/nothing/").status == 404
    finally:
        server.terminate()
        out, _ = server.communicate(timeout=30)
    lines = out.splitlines()[1:]  # after "serving …"
    assert lines == ([] if quiet else ["GET /simple/pytally/ 200", "GET /simple/nothing/ 404"]), out
