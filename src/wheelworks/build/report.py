"""The builds dashboard: static HTML and CSS, with an SVG plot drawn here, from build records.

Nothing is fetched when a page is viewed (no scripts, no CDN): it works from file:// and
from `wheelworks serve`. Links are relative: an overview (``index.html``) of the last
builds, one row each with a coloured cell per target, and a page per build
(``<id>/index.html``) with every target's steps and links to their (masked) logs.
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Sequence
from html import escape
from pathlib import Path

from wheelworks.build.records import BuildRecord, Records, TargetRecord
from wheelworks.shared import atomic

CSS = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }
td.num, th { white-space: nowrap; } th small { font-weight: normal; color: #666; }
h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin-top: 1.6em; }
table { border-collapse: collapse; margin: .5em 0; }
th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: left; vertical-align: top; }
th { background: #f4f4f4; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.ok { background: #c8efc8; } .reused { background: #e3f6e3; } .failed { background: #f6c1c1; }
.stale { background: #f6c1c1; font-weight: bold; padding: 0.3em; }
.missing { background: #eee; color: #777; } .interrupted, .abandoned, .running { background: #fde2b3; }
.pending { background: #fff; }
code, .sha { font-family: ui-monospace, monospace; font-size: .9em; }
.sha, .wheel { word-break: break-all; display: inline-block; } .sha { max-width: 16em; } .wheel { max-width: 24em; }
.error { color: #8b0000; white-space: pre-wrap; max-width: 40em; }
svg text.axis { font-size: 11px; fill: #555; }
.legend span { display: inline-block; margin-right: 1em; }
"""
_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
            "#17becf")


def _target_order(identifier: str) -> tuple[str, int, bool, str]:
    """cp38 before cp310, the GIL build before the free-threaded one, per platform."""
    python, _, platform = identifier.partition("-")
    minor = re.fullmatch(r"cp3(\d+)t?", python)
    return platform, int(minor.group(1)) if minor else 0, python.endswith("t"), identifier


def status_of(target: TargetRecord) -> str:
    return "reused" if target.status == "ok" and target.reused_from else target.status


def _seconds(target: TargetRecord) -> float:
    return round(sum(step.seconds for step in target.steps), 1)


def _when(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(epoch)) + " UTC"


def _duration(record: BuildRecord) -> str:
    return f"{record.finished - record.started:.0f} s" if record.finished else "-"


def _page(title: str, body: str, css: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>{escape(title)}</title>\n'
            f'<link rel="stylesheet" href="{css}">\n</head>\n<body>\n{body}\n</body>\n</html>\n')


def plot_svg(records: Sequence[BuildRecord], width: int = 720, height: int = 220) -> str:
    """Seconds per target (all its steps) over the builds, one line per target. A target
    that reused an earlier wheel built nothing: it is left out, not drawn as 0 s."""
    def built(t: TargetRecord) -> bool:
        return bool(t.steps) and not t.reused_from and t.status != "missing"

    identifiers = sorted({t.identifier for r in records for t in r.targets if built(t)}, key=_target_order)
    points = {i: [(n, _seconds(t)) for n, r in enumerate(records) for t in r.targets if t.identifier == i and built(t)]
              for i in identifiers}
    top = max([s for line in points.values() for _, s in line] + [1.0])
    left, bottom, right = 48, height - 36, width - 12
    step = (right - left) / max(len(records) - 1, 1)

    def xy(n: int, seconds: float) -> str:
        return f"{left + n * step:.1f},{bottom - (bottom - 12) * seconds / top:.1f}"

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="seconds per target per build">',
             f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#999"/>',
             f'<line x1="{left}" y1="12" x2="{left}" y2="{bottom}" stroke="#999"/>',
             f'<text x="4" y="16" font-size="11">{top:.0f} s</text><text x="4" y="{bottom}" font-size="11">0 s</text>',
             f'<text class="axis" x="{left}" y="{height - 6}">builds, oldest to newest (reused targets left out)</text>',
             f'<text class="axis" x="12" y="{bottom // 2 + 40}" transform="rotate(-90 12 {bottom // 2 + 40})">'
             "seconds per target</text>"]
    for index, (identifier, line) in enumerate(points.items()):
        colour = _COLOURS[index % len(_COLOURS)]
        path = " ".join(xy(n, s) for n, s in line)
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{path}">'
                     f'<title>{escape(identifier)}</title></polyline>')
        parts += [f'<circle cx="{xy(n, s).split(",")[0]}" cy="{xy(n, s).split(",")[1]}" r="3" fill="{colour}"/>'
                  for n, s in line]
    parts.append("</svg>")
    legend = "".join(f'<span style="color:{_COLOURS[i % len(_COLOURS)]}">&#9632; {escape(k)}</span>'
                     for i, k in enumerate(points))
    return "\n".join(parts) + f'\n<p class="legend">{legend}</p>'


# The page is written when a build is published; whether the container has gone stale
# since is known only when it is read, so the reader's browser works it out.
_FRESHNESS_SCRIPT = """<script>
(function () {
  var p = document.getElementById("freshness"), days = (Date.now() / 1000 - Number(p.dataset.finished)) / 86400;
  if (days > Number(p.dataset.staleAfter)) {
    p.className = "stale";
    p.textContent = "Stale: no new build for " + days.toFixed(1) + " days (stale after " + p.dataset.staleAfter + "). " + p.textContent;
  }
})();
</script>"""


def freshness_html(records: Sequence[BuildRecord], stale_after: int | None) -> str:
    """The newest build's finish, flagged in the reader's browser once it is older than
    ``stale_after`` days; nothing when the container sets none."""
    finished = [r.finished for r in records if r.finished and r.status == "ok"]
    if stale_after is None or not finished:
        return ""
    newest = max(finished)
    return (f'<p id="freshness" data-finished="{newest:.0f}" data-stale-after="{stale_after}">Newest build finished '
            f"{_when(newest)}; stale after {stale_after} days without a new one.</p>\n{_FRESHNESS_SCRIPT}\n")


def overview_html(records: Sequence[BuildRecord], css: str = "style.css", stale_after: int | None = None) -> str:
    """The last builds, oldest first in the plot and newest first in the table."""
    identifiers = sorted({t.identifier for r in records for t in r.targets}, key=_target_order)
    head = "".join(f'<th title="{escape(i)}">{escape(i.split("-", 1)[0])}<br><small>{escape(i.split("-", 1)[-1])}'
                   f"</small></th>" for i in identifiers)
    rows = []
    for record in reversed(records):
        by_id = {t.identifier: t for t in record.targets}
        cells = []
        for identifier in identifiers:
            target = by_id.get(identifier)
            state = escape(status_of(target)) if target else ""
            cells.append(f'<td class="{state}" data-target="{escape(identifier)}">{state or "-"}</td>')
        build, status = escape(record.id), escape(record.shown_status())
        rows.append(
            f'<tr data-build="{build}"><td><a href="{build}/index.html">{build}</a></td>'
            f'<td><code>{escape((record.commit or "-")[:12])}</code> {escape(record.ref)}</td>'
            f"<td>{_when(record.started)}</td><td class=\"num\">{_duration(record)}</td>"
            f'<td class="{status}">{status}</td>{"".join(cells)}</tr>')
    project = records[-1].project if records else "wheelworks"
    body = (f"<h1>Builds of {escape(project)}</h1>\n" + freshness_html(records, stale_after) +
            f"<table>\n<tr><th>build</th><th>commit</th><th>started</th><th>took</th><th>status</th>{head}</tr>\n"
            + "\n".join(rows) + "\n</table>\n<h2>Seconds per target</h2>\n" + plot_svg(records))
    return _page(f"Builds of {project}", body, css)


def build_html(record: BuildRecord, css: str = "../style.css") -> str:
    """One build: its libraries, and every target's steps with their logs."""
    libraries = "".join(
        f"<tr><td>{escape(lib.name)} {escape(lib.version)}</td><td>{'cached' if lib.cached else 'built'}</td>"
        f'<td class="num">{lib.seconds:.1f}</td><td><a href="{escape(lib.log)}">log</a></td></tr>'
        for lib in record.libraries)
    environments: dict[tuple[str, ...], list[str]] = {}
    for target in record.targets:
        if target.build_requires:
            environments.setdefault(tuple(target.build_requires), []).append(target.identifier)
    requires = "".join(f"<tr><td>{escape(' '.join(ids))}</td><td><code>{escape(' '.join(pins))}</code></td></tr>"
                       for pins, ids in environments.items())
    rows = []
    for target in record.targets:
        steps = " ".join(
            f'<a class="{escape(step.status)}" href="{escape(step.log)}">{escape(step.name)}</a> {step.seconds:.1f} s'
            if step.log else f'<span class="{escape(step.status)}">{escape(step.name)}</span> {escape(step.error or "")}'
            for step in target.steps)
        hits = f"{target.ccache['hits']} / {target.ccache['hits'] + target.ccache['misses']}" if target.ccache else "-"
        wheel = f'<span class="wheel">{escape(target.wheel or "-")}</span>'
        failed = next((step for step in target.steps if step.status == "failed" and step.error), None)
        if failed:
            steps += f'<div class="error">{escape(failed.name)}: {escape(failed.error or "")}</div>'
        note = f" (from {escape(target.reused_from)})" if target.reused_from else (
            f" (built by {escape(target.built_by)})" if target.built_by else "")
        rows.append(
            f'<tr data-target="{escape(target.identifier)}"><td>{escape(target.identifier)}</td>'
            f'<td class="{status_of(target)}">{status_of(target)}{note}</td><td>{steps or "-"}</td>'
            f'<td class="num">{"-" if target.status == "missing" else f"{_seconds(target):.1f}"}</td>'
            f'<td class="num">{hits}</td><td>{wheel}</td>'
            f'<td class="num">{target.size or "-"}</td><td><span class="sha">{target.sha256 or "-"}</span></td></tr>')
    contents = "".join(
        f'<tr data-target="{escape(t.identifier)}"><td>{escape(t.wheel or "-")}</td><td><ul>'
        + "".join(f"<li>{escape(line)}</li>" for line in t.components) + "</ul></td></tr>"
        for t in record.targets if t.components)
    body = (
        f'<p><a href="../index.html">all builds</a></p>\n<h1>Build {escape(record.id)}: {escape(record.project)}</h1>\n'
        f"<p>{escape(record.ref)} at <code>{escape(record.commit or '-')}</code>; started {_when(record.started)}, "
        f'took {_duration(record)}; <span class="{escape(record.shown_status())}">{escape(record.shown_status())}</span>'
        f"{': ' + escape(record.error) if record.error else ''}</p>\n"
        f"<p>CPythons: {escape(' '.join(record.matrix) or '-')} ({escape(record.matrix_source or '-')}); "
        f'platform {escape(record.platform)}'
        + (f"; toolchain {escape(record.toolchain)} (ready in {record.toolchain_seconds:.1f} s)" if record.toolchain else "")
        + '. <a href="logs/source.log">source log</a></p>\n'
        f"<h2>Libraries</h2>\n<table><tr><th>library</th><th>this build</th><th>seconds</th><th>log</th></tr>"
        f"{libraries or '<tr><td>-</td><td>no recipes</td><td></td><td></td></tr>'}</table>\n"
        f"<h2>Build requirements</h2>\n<table><tr><th>targets</th><th>versions</th></tr>{requires}</table>\n"
        "<h2>Targets</h2>\n<table>\n<tr><th>target</th><th>status</th><th>steps (logs)</th><th>seconds</th>"
        "<th>ccache hits</th><th>wheel</th><th>bytes</th><th>sha256</th></tr>\n" + "\n".join(rows) + "\n</table>\n"
        "<h2>What each wheel vendors (its SBOM)</h2>\n<table><tr><th>wheel</th><th>components</th></tr>"
        f"{contents or '<tr><td>-</td><td>nothing vendored</td></tr>'}</table>")
    return _page(f"Build {record.id}", body, css)


def write_report(builds_dir: Path, output: Path, last: int = 30) -> list[str]:
    """The dashboard of the last ``last`` builds in ``builds_dir``, written to ``output``;
    returns the build ids it shows."""
    store = Records(builds_dir)
    ids = store.ids()[-last:]
    records = [store.load(i) for i in ids]
    output.mkdir(parents=True, exist_ok=True)
    atomic.write_text(output / "style.css", CSS)
    atomic.write_text(output / "index.html", overview_html(records))
    for record in records:
        folder = output / record.id
        atomic.write_text(folder / "index.html", build_html(record))
        logs = store.folder(record.id) / "logs"
        if logs.is_dir() and output.resolve() != builds_dir.resolve():
            shutil.copytree(logs, folder / "logs", dirs_exist_ok=True)
    return ids
