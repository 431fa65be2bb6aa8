"""wwenc: tokens: made for one name with the public key, opened only with the private one."""

import pytest

from wheelworks.config import secrets
from wheelworks.shared import masking
from wheelworks.shared.errors import SecretError


@pytest.fixture(scope="module")
def pair():
    return secrets.keygen()


def test_a_token_opens_for_its_name_and_what_it_holds_is_masked(pair):
    private, public = pair
    token = secrets.encrypt(public, "build.environment.TOKEN", "hunter2-secret")
    assert token.startswith(secrets.PREFIX) and "hunter2" not in token
    assert secrets.decrypt(token, private, "build.environment.TOKEN") == "hunter2-secret"
    assert masking.mask("the value hunter2-secret") == "the value ***"
    with pytest.raises(SecretError, match="made for another field"):
        secrets.decrypt(token, private, "build.environment.OTHER")


def test_another_key_or_a_damaged_token_is_one_line(pair):
    private, public = pair
    token = secrets.encrypt(public, "n", "v")
    other, _ = secrets.keygen()
    for bad_key, bad_token in ((other, token), (private, token[:-8] + "AAAAAAAA")):
        with pytest.raises(SecretError) as error:
            secrets.decrypt(bad_token, bad_key, "n")
        assert "\n" not in str(error.value)
