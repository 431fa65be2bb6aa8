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

