"""Masking of secrets in what is written."""

from __future__ import annotations


def test_masking_of_environment_credentials():
    from wheelworks.shared import masking

    masking.register_environment({"DEBUG_TOKEN": "true", "MY_API_KEY": "k3y-0f-the-api", "MY_API_TOKEN": "abc1234",
                                  "PIN_SECRET": "4711", "SIGNING_PRIVATE_KEY_FILE": "/x/key.pem"})
    text = "flag true, key k3y-0f-the-api, token abc1234, pin 4711, file /x/key.pem"
    assert masking.mask(text) == "flag true, key ***, token ***, pin ***, file /x/key.pem"


def test_masking_registry_starts_empty_in_every_test():
    from wheelworks.shared import masking

    assert masking.mask("k3y-0f-the-api abc1234") == "k3y-0f-the-api abc1234"


def test_an_error_line_shows_a_command_on_one_line_masked_before_it_is_cut():
    from wheelworks.shared import masking
    from wheelworks.shared.run import brief

    masking.register("s3cr3t-t0ken-value")
    script = "printf 'a\\n' > x.c &&\n  cc x.c\n" + "y" * 300 + " s3cr3t-t0ken-value"
    shown = brief(masking.mask(script))
    assert "\n" not in shown and shown.startswith("printf 'a\\n' > x.c && ; cc x.c ;") and shown.endswith("…")
    assert len(shown) == 200 and "s3cr3t" not in shown
