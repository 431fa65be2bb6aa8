"""The ABI a wheel claims, against the target that built it."""

import pytest

from wheelworks.build.abi import check, is_abi3, mentions_limited_api
from wheelworks.build.targets import Target
from wheelworks.shared.errors import StepError


def test_abi3_and_the_limited_api_marks():
    assert is_abi3("p-1-cp39-abi3-manylinux_2_17_x86_64.whl") and not is_abi3("p-1-cp312-cp312-linux_x86_64.whl")
    assert mentions_limited_api(["", "Extension('x', ['x.c'], py_limited_api=True)"])
    assert mentions_limited_api(["[tool.scikit-build]\nwheel.py-api = 'cp312'\n"])
    assert not mentions_limited_api(["setup(ext_modules=[Extension('x', ['x.c'])])"])


@pytest.mark.parametrize(("identifier", "python", "wheel", "ok"), [
    ("cp314t-manylinux_x86_64", "3.14t", "p-1-cp314-cp314t-manylinux_2_17_x86_64.whl", True),
    ("cp314t-manylinux_x86_64", "3.14t", "p-1-cp314-cp314-manylinux_2_17_x86_64.whl", False),
    ("cp314-manylinux_x86_64", "3.14", "p-1-cp314-cp314t-manylinux_2_17_x86_64.whl", False),
    ("cp314t-manylinux_x86_64", "3.14t", "p-1-py3-none-any.whl", True),
])
def test_a_free_threaded_target_needs_a_free_threaded_wheel(identifier, python, wheel, ok):
    target = Target(identifier, python)
    if ok:
        check(target, wheel)
    else:
        with pytest.raises(StepError, match=identifier):
            check(target, wheel)
