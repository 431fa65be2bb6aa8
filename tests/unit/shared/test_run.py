"""How an error line shows the command that failed."""


def test_an_error_line_shows_a_command_on_one_line_masked_before_it_is_cut():
    from wheelworks.shared import masking
    from wheelworks.shared.run import brief

    masking.register("s3cr3t-t0ken-value")
    script = "printf 'a\\n' > x.c &&\n  cc x.c\n" + "y" * 300 + " s3cr3t-t0ken-value"
    shown = brief(masking.mask(script))
    assert "\n" not in shown and shown.startswith("printf 'a\\n' > x.c && ; cc x.c ;") and shown.endswith("…")
    assert len(shown) == 200 and "s3cr3t" not in shown
