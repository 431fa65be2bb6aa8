"""Policies by name, the images CI builds in for them, and who can install what."""

import pytest

from wheelworks.config.policy import Policy, blockers, distributions, image_family, lowest_glibc, parse, refused_on, warning


@pytest.mark.parametrize(("name", "policy"), [
    ("manylinux2014", Policy("manylinux", 2, 17)), ("manylinux_2_17", Policy("manylinux", 2, 17)),
    ("manylinux2010", Policy("manylinux", 2, 12)), ("manylinux1", Policy("manylinux", 2, 5)),
    ("manylinux_2_28", Policy("manylinux", 2, 28)), ("musllinux_1_2", Policy("musllinux", 1, 2)),
])
def test_pep_600_and_656_names_and_the_aliases(name, policy):
    assert parse(name) == policy
    assert parse(policy.name) == policy and policy.plat("x86_64") == f"{policy.name}_x86_64"


@pytest.mark.parametrize("name", ["manylinux", "manylinux_2", "glibc_2_17", "manylinux_2_17_x86_64", "2.17", ""])
def test_anything_else_is_no_policy(name):
    assert parse(name) is None


@pytest.mark.parametrize(("name", "image"), [
    ("manylinux2014", "manylinux2014"), ("manylinux_2_27", "manylinux2014"), ("manylinux_2_28", "manylinux_2_28"),
    ("manylinux_2_33", "manylinux_2_28"), ("manylinux_2_39", "manylinux_2_34"), ("manylinux_2_12", None),
    ("musllinux_1_2", None),
])
def test_ci_builds_in_the_newest_image_the_policy_allows(name, image):
    assert image_family(parse(name)) == image


def test_the_lowest_glibc_of_a_wheel_s_tags():
    assert lowest_glibc(["manylinux2014_x86_64", "manylinux_2_17_x86_64", "manylinux_2_34_x86_64"]) == (2, 17)
    assert lowest_glibc(["manylinux_2_34_aarch64"]) == (2, 34)
    assert lowest_glibc(["musllinux_1_2_x86_64", "linux_x86_64", "any"]) is None


def test_who_cannot_install_a_new_glibc_s_wheel():
    known = distributions()
    assert known["Debian 11"] == (2, 31) and known["Ubuntu 22.04"] == (2, 35)
    who = refused_on((2, 34), known)
    assert "Debian 11" in who and "RHEL 8 and its rebuilds" in who and "Ubuntu 22.04" not in who
    assert warning("x.whl", ["manylinux_2_28_x86_64"], known) is None  # what the CI default image gives
    line = warning("x.whl", ["manylinux_2_35_x86_64"], known)
    assert line and "\n" not in line and "RHEL 9 and its rebuilds" in line and "toolchain" in line


def test_blockers_are_the_symbols_newer_than_the_policy():
    needs = {"GLIBC_2.34": {"pthread_join", "pthread_create"}, "GLIBC_2.2.5": {"malloc"}, "GLIBC_2.17": {"x"},
             "GLIBC_2.33": {"stat"}, "GLIBCXX_3.4.30": {"y"}}
    assert blockers(needs, Policy("manylinux", 2, 17)) == [
        "stat@GLIBC_2.33", "pthread_create@GLIBC_2.34", "pthread_join@GLIBC_2.34"]
    assert blockers(needs, Policy("manylinux", 2, 34)) == []
