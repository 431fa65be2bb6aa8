"""The builds dashboard."""

from __future__ import annotations

from wheelworks.build.records import BuildRecord, TargetRecord


def test_the_dashboard_orders_targets_by_version_and_takes_any_identifier():
    from wheelworks.build.report import overview_html

    record = BuildRecord(id="b1", project="p", repo=".", ref="main", config="c", config_digest="d", platform="x",
                         started=0.0)
    record.targets = [TargetRecord(i, "3", status="ok") for i in
                      ("cp310-manylinux_x86_64", "cp314t-manylinux_x86_64", "cp38-manylinux_x86_64",
                       "cp314-manylinux_x86_64", "a-wheel-name.whl")]
    page = overview_html([record])
    order = [page.index(f'data-target="{i}"') for i in ("cp38-manylinux_x86_64", "cp310-manylinux_x86_64",
                                                        "cp314-manylinux_x86_64", "cp314t-manylinux_x86_64")]
    assert order == sorted(order) and 'data-target="a-wheel-name.whl"' in page


def test_a_build_page_shows_what_each_build_environment_held():
    from wheelworks.build.report import build_html

    record = BuildRecord(id="b1", project="p", repo=".", ref="main", config="c", config_digest="d", platform="x",
                         started=0.0)
    old, new = ["cython==3.1.0", "setuptools==80.0"], ["cython==3.2.1", "setuptools==80.0"]
    record.targets = [TargetRecord("cp312-x", "3.12", build_requires=old), TargetRecord("cp313-x", "3.13",
                      build_requires=old), TargetRecord("cp314-x", "3.14", build_requires=new)]
    page = build_html(record)
    assert "<td>cp312-x cp313-x</td><td><code>cython==3.1.0 setuptools==80.0</code>" in page
    assert "<td>cp314-x</td><td><code>cython==3.2.1 setuptools==80.0</code>" in page


def test_a_build_page_shows_its_toolchain_and_each_wheel_s_components():
    from wheelworks.build.records import BuildRecord, TargetRecord
    from wheelworks.build.report import build_html

    record = BuildRecord(id="b1", project="p", repo=".", ref="main", config="c", config_digest="0",
                         platform="manylinux_x86_64", started=0.0, toolchain="zig 0.17.1 for x86_64-linux-gnu.2.17",
                         toolchain_seconds=48.2)
    record.targets.append(TargetRecord("cp312-manylinux_x86_64", "3.12", status="ok", wheel="p-1-cp312.whl",
                                       components=["libtally 1.2.3 (recipe) p.libs/libtally-1a2b3c4d.so.1",
                                                   "libxcb1 1.15-1 (host) p.libs/<x>.so"]))
    page = build_html(record)
    assert "toolchain zig 0.17.1 for x86_64-linux-gnu.2.17 (ready in 48.2 s)" in page
    assert "<li>libtally 1.2.3 (recipe) p.libs/libtally-1a2b3c4d.so.1</li>" in page
    assert "&lt;x&gt;" in page and "<x>" not in page  # escaped like everything shown


def test_reused_targets_are_not_plotted_as_zero_and_failures_say_why():
    from wheelworks.build.records import BuildRecord, StepRecord, TargetRecord
    from wheelworks.build.report import build_html, plot_svg

    def record(build_id, *targets):
        r = BuildRecord(id=build_id, project="p", repo=".", ref="main", config="c", config_digest="0",
                        platform="manylinux_x86_64", started=0.0)
        r.targets.extend(targets)
        return r

    built = TargetRecord("cp312-manylinux_x86_64", "3.12", status="ok", steps=[StepRecord("build", "ok", 30.0, "b.log")])
    reused = TargetRecord("cp312-manylinux_x86_64", "3.12", status="ok", reused_from="b1",
                          steps=[StepRecord("reused", "ok", 0.0, "")])
    failed = TargetRecord("cp313-manylinux_x86_64", "3.13", status="failed",
                          steps=[StepRecord("repair", "failed", 1.0, "r.log", "x.whl cannot meet manylinux_2_17 <glibc>")])
    missing = TargetRecord("cp314-manylinux_x86_64", "3.14", status="missing")
    svg = plot_svg([record("b1", built), record("b2", reused, failed, missing)])
    assert svg.count("<circle") == 2  # cp312 in b1, cp313 in b2: not the reused one at 0 s
    assert "seconds per target" in svg and "builds, oldest to newest" in svg
    page = build_html(record("b2", reused, failed, missing))
    assert '<div class="error">repair: x.whl cannot meet manylinux_2_17 &lt;glibc&gt;</div>' in page
    assert "<th></th>" not in page and "<th>this build</th>" in page
    row = page.split('data-target="cp314-manylinux_x86_64"')[1].split("</tr>")[0]
    assert '<td class="num">-</td>' in row and "0.0" not in row  # a missing target took no time
