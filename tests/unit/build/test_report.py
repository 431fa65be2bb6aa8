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
