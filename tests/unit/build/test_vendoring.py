"""The vendoring check's judgement of a wheel's needs."""

from __future__ import annotations


def test_vendoring_judges_what_the_wheel_needs(tmp_path):
    from wheelworks.build.vendoring import Need, judge, library_stems, needs

    (tmp_path / "p" / "lib").mkdir(parents=True)
    for name in ("libtally.so", "libtally.so.1", "libtally.so.1.2.3", "libscore.so", "libfreetype.so.6"):
        (tmp_path / "p" / "lib" / name).touch()
    stems = library_stems([tmp_path / "p"])
    assert stems == {"libtally", "libscore", "libfreetype"}
    site = "/v/lib/python3.12/site-packages"
    ext, vendored_tally = f"{site}/pytally/_tally.cpython-312-x86_64-linux-gnu.so", f"{site}/pytally.libs/libtally-1a2b3c4d.so.1.2.3"
    elf = {  # path -> (SONAME, DT_NEEDED)
        ext: (None, ["libtally-1a2b3c4d.so.1.2.3", "libc.so.6"]),
        vendored_tally: ("libtally-1a2b3c4d.so.1.2.3", ["libscore.so", "libc.so.6"]),
        "/usr/lib/x86_64-linux-gnu/libscore.so": ("libscore.so", ["libc.so.6"]),
        "/usr/lib/x86_64-linux-gnu/libc.so.6": ("libc.so.6", []),
        # Tk, loaded by tkinter, not by the wheel, and what it loaded:
        "/usr/lib/x86_64-linux-gnu/libtk8.6.so": ("libtk8.6.so", ["libfreetype.so.6"]),
        "/usr/lib/x86_64-linux-gnu/libfreetype.so.6": ("libfreetype.so.6", []),
    }
    found = needs([ext, vendored_tally], list(elf), lambda path: elf.get(path, (None, [])))
    assert Need(vendored_tally, "libscore.so", "/usr/lib/x86_64-linux-gnu/libscore.so") in found  # through the wheel
    assert not any(n.name == "libfreetype.so.6" for n in found)  # the interpreter's business
    vendored, foreign = judge(found, site, stems)
    assert vendored == [vendored_tally]
    assert foreign == [Need(vendored_tally, "libscore.so", "/usr/lib/x86_64-linux-gnu/libscore.so")]
