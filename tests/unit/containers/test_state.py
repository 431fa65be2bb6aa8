"""What a container's names mean: one wheel however its name is spelled, markers by content."""

from wheelworks.containers.state import identity, marker_key, spelling_conflicts


def test_spellings_of_one_wheel_are_one_identity():
    a = identity("Synth_Pkg-1.0-py3-none-any.whl")
    assert a == identity("synth.pkg-1.0-py3-none-any.whl") == identity("synth_pkg-1.0-py3-none-any.whl")
    assert a != identity("synth_pkg-1.0-1-py3-none-any.whl")  # a build tag is another wheel
    assert identity("not-a-wheel.tar.gz") is None


def test_a_second_spelling_conflicts_with_the_first_or_with_what_is_there():
    assert spelling_conflicts(["Synth_Pkg-1.0-py3-none-any.whl", "synth.pkg-1.0-py3-none-any.whl"], []) == [
        "synth.pkg-1.0-py3-none-any.whl (as Synth_Pkg-1.0-py3-none-any.whl)"]
    assert spelling_conflicts(["synth.pkg-1.0-py3-none-any.whl"], ["synth_pkg-1.0-py3-none-any.whl"]) == [
        "synth.pkg-1.0-py3-none-any.whl (as synth_pkg-1.0-py3-none-any.whl)"]
    assert spelling_conflicts(["synth_pkg-1.0-py3-none-any.whl"], ["synth_pkg-1.0-py3-none-any.whl"]) == []


def test_a_completion_marker_is_named_by_its_files_in_any_order():
    a = marker_key("pytally", "1.0", ["b.whl", "a.whl"])
    assert a == marker_key("pytally", "1.0", ["a.whl", "b.whl"]) != marker_key("pytally", "1.0", ["a.whl"])
    assert a.startswith(".wheelworks/") or "pytally/1.0/" in a
