"""Helpers shared by the container and release tests."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from wheelworks.containers import Store
from wheelworks.build.records import BuildRecord, StepRecord, TargetRecord
from wheelworks.containers.serve import make_server


def make_wheel(folder: Path, name: str, version: str, tag: str = "py3-none-any",
               requires_python: str | None = ">=3.8", padding: int = 0) -> Path:
    """A valid, installable pure-Python wheel whose module reports its version.

    ``padding`` adds that many random bytes, for wheels big enough to interrupt an upload.
    """
    folder.mkdir(parents=True, exist_ok=True)
    module = name.lower().replace("-", "_").replace(".", "_")
    dist = f"{module}-{version}"
    files = {
        f"{module}/__init__.py": f"__version__ = {version!r}\n".encode(),
        f"{dist}.dist-info/METADATA": (
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
            + (f"Requires-Python: {requires_python}\n" if requires_python else "")
        ).encode(),
        f"{dist}.dist-info/WHEEL": f"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: {tag}\n".encode(),
    }
    if padding:
        files[f"{module}/padding.bin"] = os.urandom(padding)
    record = [
        f"{path},sha256={base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()},{len(data)}"
        for path, data in files.items()
    ]
    files[f"{dist}.dist-info/RECORD"] = ("\n".join([*record, f"{dist}.dist-info/RECORD,,"]) + "\n").encode()
    wheel = folder / f"{dist}-{tag}.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_STORED) as zf:
        for path, data in files.items():
            zf.writestr(path, data)
    return wheel


def record_for(wheels: list[Path], commit: str | None = None) -> BuildRecord:
    """A build record saying these wheels passed their tests, as `wheelworks build` writes."""
    record = BuildRecord(id=f"20261125-000000-{os.urandom(2).hex()}", project="pytally", repo=".", ref="main",
                         config="wheelworks.toml", config_digest="0", platform="any", started=0.0,
                         commit=commit, status="ok")
    for wheel in wheels:
        record.targets.append(TargetRecord(wheel.name, "3", status="ok", wheel=wheel.name,
                                           sha256=hashlib.sha256(wheel.read_bytes()).hexdigest(),
                                           steps=[StepRecord("test", "ok", 0.1, "")]))
    return record


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


@contextmanager
def serving(store: Store) -> Iterator[str]:
    """``store`` served over HTTP on 127.0.0.1 while the block runs; yields its base URL."""
    server = make_server(store, 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def pip_env() -> dict[str, str]:
    """The environment with no pip configuration, so pip sees only the index it is given."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def pip_install(venv: Path, index_url: str, *requirements: str, pre: bool = True,
                interpreter: str | Path = sys.executable) -> Path:
    """Install ``requirements`` from ``index_url`` alone into a fresh venv of ``interpreter``;
    returns its python."""
    if not venv.exists():
        subprocess.run([str(interpreter), "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    args = [str(python), "-m", "pip", "install", "--no-cache-dir", "--index-url", index_url, *requirements]
    subprocess.run([*args, *(["--pre"] if pre else [])], check=True, env=pip_env(), capture_output=True)
    return python


def fetch(url: str, accept: str | None = None) -> bytes:
    request = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.read()


def check_index(base: str) -> dict[str, str]:
    """Every file every index page links must be served with the sha256 the link gives.

    Returns {filename: sha256} of the files the index lists.
    """
    listed: dict[str, str] = {}
    projects = json.loads(fetch(base + "simple/", "application/vnd.pypi.simple.v1+json"))["projects"]
    for project in projects:
        page_url = f"{base}simple/{project['name']}/"
        page = json.loads(fetch(page_url, "application/vnd.pypi.simple.v1+json"))
        html = fetch(page_url).decode()
        for f in page["files"]:
            data = fetch(urllib.parse.urljoin(page_url, f["url"]))
            assert hashlib.sha256(data).hexdigest() == f["hashes"]["sha256"], f["filename"]
            assert f"#sha256={f['hashes']['sha256']}" in html
            listed[f["filename"]] = f["hashes"]["sha256"]
        assert len(re.findall(r"<a href=", html)) == len(page["files"])
    return listed
