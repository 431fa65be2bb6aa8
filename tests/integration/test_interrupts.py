"""What interrupts leave: Ctrl-C, SIGTERM and kill -9 in the middle of a build or a publish."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import make_wheel
from wheelworks import cli
from wheelworks.containers import SCRATCH, claim_key, file_key
from wheelworks.containers.local import LocalStore
from wheelworks.containers.publish import publish
from wheelworks.containers.state import sweep

pytestmark = pytest.mark.slow

SLEEP = "61.25"  # a duration no other process on the machine sleeps for


def _start(config: Path, cache: Path) -> subprocess.Popen[str]:
    # A suite started in the background by a shell without job control (`.ci/run &`) has
    # SIGINT ignored, and the child would inherit that: Ctrl-C is the terminal's, here ours.
    return subprocess.Popen([sys.executable, "-m", "wheelworks", "build", "--config", str(config), "--cache-dir",
                             str(cache), "-j", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def _wait_for(path: Path, proc: subprocess.Popen[str], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the build never reached its before-build hook"
        time.sleep(0.05)


def _sleepers() -> list[str]:
    out = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if line.strip() == f"sleep {SLEEP}"]


def _signals(pid: int) -> str:
    """What a process blocks, ignores and handles (the masks a child inherits decide whether it hears one)."""
    status = Path(f"/proc/{pid}/status")
    lines = status.read_text().splitlines() if status.exists() else []
    return ", ".join(line.replace("\t", " ") for line in lines if line.startswith(("SigBlk", "SigIgn", "SigCgt")))


def _record(config: Path) -> dict:
    (path,) = (config.parent / "builds").glob("*/record.json")
    return json.loads(path.read_text())


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_build_stops_at_once_and_says_so(make_config, pythons, tmp_path, sig):
    marker = tmp_path / "hook-ran"
    config = make_config(build=f"""
        [build]
        python = {pythons[:2]!r}
        before-build = "touch {marker}; sleep {SLEEP}"
    """)
    proc = _start(config, tmp_path / "cache")
    _wait_for(marker, proc)
    started = time.monotonic()
    proc.send_signal(sig)
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        masks = _signals(proc.pid)
        proc.kill()
        subprocess.run(["pkill", "-f", f"sleep {SLEEP}"])  # or the next case finds this one's hook
        pytest.fail(f"the build outlived {sig!r} ({masks})")
    assert time.monotonic() - started < 10
    assert proc.returncode == 130 and "interrupted" in err and "Traceback" not in err
    record = _record(config)
    assert record["status"] == "interrupted"
    assert {t["status"] for t in record["targets"]} == {"interrupted"}  # nothing finished "ok" after the signal
    assert _sleepers() == []  # the hook's process was ended with the build
    assert list((tmp_path / "cache" / "tmp").iterdir()) == []
    assert not list((config.parent / "wheelhouse").glob("*.whl"))


def test_a_killed_build_is_abandoned_and_swept(make_config, pythons, tmp_path, capsys):
    marker = tmp_path / "hook-ran"
    config = make_config(build=f"""
        [build]
        python = {pythons[-1:]!r}
        before-build = "touch {marker}; sleep {SLEEP}"
    """)
    proc = _start(config, tmp_path / "cache")
    _wait_for(marker, proc)
    proc.kill()
    proc.wait()
    subprocess.run(["pkill", "-f", f"sleep {SLEEP}"])  # kill -9 leaves the hook running; end it here
    record = _record(config)
    assert record["status"] == "running"
    assert cli.main(["builds", "--config", str(config)]) == 0
    assert "abandoned" in capsys.readouterr().out
    (work,) = (tmp_path / "cache" / "tmp").iterdir()
    assert work.name == f"build-{record['id']}"

    config.write_text(config.read_text().replace(f"before-build = \"touch {marker}; sleep {SLEEP}\"", ""))
    assert cli.main(["build", "--config", str(config), "--cache-dir", str(tmp_path / "cache")]) == 0
    assert not work.exists()  # the next build swept the dead one's work tree


def test_publish_sweeps_what_killed_publishers_left(tmp_path):
    store = LocalStore(tmp_path / "c")
    kept = make_wheel(tmp_path / "w", "pytally", "1.0")
    publish(store, [kept])
    orphan = make_wheel(tmp_path / "o", "pytally", "2.0")
    sha = hashlib.sha256(orphan.read_bytes()).hexdigest()
    store.put(file_key(sha, orphan.name), orphan, "application/octet-stream")  # bytes, never claimed
    scratch = store.root / SCRATCH / "tmpabc123"
    scratch.write_bytes(b"half a wheel")
    fresh = make_wheel(tmp_path / "f", "pytally", "3.0")
    fresh_sha = hashlib.sha256(fresh.read_bytes()).hexdigest()
    store.put(file_key(fresh_sha, fresh.name), fresh, "application/octet-stream")  # a live publisher's, just stored
    old = time.time() - 7200
    for path in (store.root / file_key(sha, orphan.name), scratch):
        os.utime(path, (old, old))

    removed = sweep(store, time.time())
    assert sorted(removed) == sorted([file_key(sha, orphan.name), SCRATCH + "tmpabc123"])
    assert store.size(file_key(fresh_sha, fresh.name)) is not None  # within the grace period: kept
    assert store.get(claim_key(kept.name)) is not None and len(store.list("files/")) == 3  # kept (and its .metadata), fresh
