"""The builds dashboard in a real browser: headless Chromium loads the pages a container
serves and finds every target with its status and working log links."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.helpers import serving
from wheelworks import cli
from wheelworks.containers.local import LocalStore
from wheelworks.build.records import BuildRecord, Records
from wheelworks.build.report import overview_html

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def chromium(*args: str, profile: Path) -> str:
    """Headless Chromium as this machine allows it: no sandbox (root), no network of its own."""
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}"]
    out = subprocess.run([str(CHROMIUM), *flags, *args], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


def screenshot(url: str, png: Path, profile: Path) -> None:
    chromium("--window-size=1440,640", "--hide-scrollbars", f"--screenshot={png}", url, profile=profile)


class _Dom(HTMLParser):
    """Rows with a data-target attribute and every link, from a DOM Chromium dumped."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[tuple[str, str]] = []  # (data-target, class)
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("data-target") and tag == "td":
            self.cells.append((a["data-target"] or "", a.get("class") or ""))
        if tag == "tr" and a.get("data-target"):
            self.cells.append((a["data-target"] or "", "row"))
        if tag == "a" and a.get("href"):
            self.links.append(a["href"] or "")


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (scripts/system-packages.sh installs it)")
def test_published_dashboard_in_headless_chromium(make_config, pythons, tmp_path):
    config = make_config(build=f'[build]\npython = {pythons[-2:]!r}\n')
    assert cli.main(["build", "--config", str(config), "--cache-dir", str(tmp_path / "cache")]) == 0
    assert cli.main(["publish", "--config", str(config), "--ref", "main"]) == 0
    record = Records(config.parent / "builds").load("latest")
    store = LocalStore(config.parent / "containers" / "nightly")
    with serving(store) as base:
        front = chromium("--dump-dom", base, profile=tmp_path / "profile")
        assert 'href="builds/index.html"' in front
        overview = _parse(chromium("--dump-dom", base + "builds/index.html", profile=tmp_path / "profile"))
        assert {(t.identifier, "ok") for t in record.targets} <= set(overview.cells)
        assert f"{record.id}/index.html" in overview.links
        page_url = f"{base}builds/{record.id}/index.html"
        page = _parse(chromium("--dump-dom", page_url, profile=tmp_path / "profile"))
        rows = {target for target, kind in page.cells if kind == "row"}
        assert rows == {t.identifier for t in record.targets}
        logs = [link for link in page.links if link.endswith(".log")]
        assert len(logs) >= 3 * len(record.targets)  # build, repair and test of each
        for link in logs:
            with urllib.request.urlopen(urllib.parse.urljoin(page_url, link)) as response:
                assert response.status == 200 and response.read()
        # Nothing overflows a 1280 px window: a same-origin page measures each page in a frame that wide.
        for path in ("builds/index.html", f"builds/{record.id}/index.html"):
            store.put("measure.html", MEASURE.replace("PAGE", path).encode(), "text/html")
            dom = chromium("--window-size=1400,900", "--virtual-time-budget=10000", "--dump-dom", base + "measure.html",
                           profile=tmp_path / "profile")
            width = int(re.search(r"<title>(\d+)</title>", dom).group(1))
            assert 0 < width <= 1280, (path, width)
        png = tmp_path / "dashboard.png"
        screenshot(base + "builds/index.html", png, tmp_path / "profile")
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000


MEASURE = """<!DOCTYPE html><html><head><title>-</title></head><body style="margin:0">
<iframe id="f" src="PAGE" style="width:1280px;height:800px;border:0"></iframe>
<script>document.getElementById("f").onload = function () {
  var d = this.contentDocument.documentElement; document.title = String(d.scrollWidth); };</script></body></html>"""


def _parse(dom: str) -> _Dom:
    parser = _Dom()
    parser.feed(dom)
    assert re.search(r"<table", dom), dom[:500]
    return parser


def test_report_command_writes_pages_that_work_from_files(make_config, pythons, tmp_path, capsys):
    config = make_config(build=f'[build]\npython = {pythons[-1:]!r}\n')
    assert cli.main(["build", "--config", str(config), "--cache-dir", str(tmp_path / "cache")]) == 0
    assert cli.main(["report", "--config", str(config), "--output", str(tmp_path / "site")]) == 0
    record = Records(config.parent / "builds").load("latest")
    page = (tmp_path / "site" / record.id / "index.html").read_text()
    for href in re.findall(r'href="([^"]+)"', page):
        assert (tmp_path / "site" / record.id / href).resolve().is_file(), href  # every link works from file://
    assert "http" not in re.sub(r"xmlns=\"http://www.w3.org/2000/svg\"", "", (tmp_path / "site" / "index.html").read_text())


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (scripts/system-packages.sh installs it)")
def test_a_stale_container_is_flagged_when_its_dashboard_is_read(tmp_path):
    """The page is written at publish time; the reader's browser says whether it is stale now."""
    def page(days_ago: float) -> str:
        finished = time.time() - days_ago * 86400
        record = BuildRecord(id="20261101-000000000000-abcd", project="pytally", repo="r", ref="main", config="c",
                             config_digest="d", platform="linux_x86_64", started=finished - 60, finished=finished,
                             status="ok")
        path = tmp_path / f"{days_ago}.html"
        path.write_text(overview_html([record], stale_after=2))
        return chromium("--dump-dom", path.as_uri(), profile=tmp_path / "profile")

    assert 'class="stale"' in page(5) and "Stale: no new build for 5.0 days (stale after 2)" in page(5)
    fresh = page(0.5)
    assert 'id="freshness"' in fresh and 'class="stale"' not in fresh and "stale after 2 days without" in fresh
