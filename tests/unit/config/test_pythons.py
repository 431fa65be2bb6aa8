"""The default matrix: supported final CPythons that requires-python admits."""

from datetime import date

import pytest

from wheelworks.config.pythons import default_matrix, known, order
from wheelworks.shared.errors import ConfigError


def test_end_of_life_and_prereleases_are_left_out_unless_asked():
    versions = {p.version: p for p in known()}
    today = date(2026, 12, 1)
    matrix = default_matrix(None, [], today)
    assert all(versions[v].end_of_life >= today and not versions[v].prerelease for v in matrix)
    assert "3.8" not in matrix  # past its end of life
    with_pre = default_matrix(None, ["prerelease", "free-threaded"], today)
    assert set(matrix) < set(with_pre) and any(v.endswith("t") for v in with_pre)


def test_requires_python_narrows_it_and_a_bad_one_is_an_error():
    assert all(order(v) >= (12, False) for v in default_matrix(">=3.12", [], date(2026, 12, 1)))
    with pytest.raises(ConfigError, match="not a version specifier"):
        default_matrix(">=three", [], date(2026, 12, 1))


def test_free_threaded_follows_its_gil_build():
    assert sorted(["3.14t", "3.13", "3.14", "3.13t"], key=order) == ["3.13", "3.13t", "3.14", "3.14t"]
