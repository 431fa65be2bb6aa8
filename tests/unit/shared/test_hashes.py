"""Digests: of values independent of dict order, of folders by names and bytes."""

from wheelworks.shared.hashes import digest, file_sha256, tree_digest


def test_a_value_s_digest_ignores_key_order_and_nothing_else():
    assert digest({"a": 1, "b": [1, 2]}) == digest({"b": [1, 2], "a": 1})
    assert digest({"a": 1, "b": [2, 1]}) != digest({"a": 1, "b": [1, 2]})


def test_a_tree_s_digest_covers_names_and_bytes_but_not_git(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.c").write_text("int a;")
    first = tree_digest(tmp_path)
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref: main")
    assert tree_digest(tmp_path) == first
    (tmp_path / "src" / "a.c").rename(tmp_path / "src" / "b.c")
    assert tree_digest(tmp_path) != first
    assert file_sha256(tmp_path / "src" / "b.c") == "68ee7ca0e099b2c45f613f363e4911edbf3f696a3569f0ca666d433db8503c90"
