"""Stored API keys survive key rotation, and a key that no longer decrypts is reported."""

import pytest

from conversations import crypto


@pytest.fixture
def keys(settings):
    """Start from the defaults: no field key, so the key is derived from SECRET_KEY."""
    settings.FIELD_ENCRYPTION_KEY, settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = [], "old-secret", []
    return settings


def test_rotating_the_secret_key_keeps_stored_keys_readable_through_its_fallbacks(keys):
    token = crypto.encrypt("sk-1234")
    keys.SECRET_KEY, keys.SECRET_KEY_FALLBACKS = "new-secret", ["old-secret"]
    assert crypto.decrypt(token) == "sk-1234"


def test_field_encryption_keys_rotate_the_first_encrypts_and_all_decrypt(keys):
    keys.FIELD_ENCRYPTION_KEY = ["key-one"]
    old = crypto.encrypt("sk-old")
    keys.FIELD_ENCRYPTION_KEY = ["key-two", "key-one"]
    new = crypto.encrypt("sk-new")
    assert crypto.decrypt(old) == "sk-old"
    keys.FIELD_ENCRYPTION_KEY = ["key-two"]
    assert crypto.decrypt(new) == "sk-new"


def test_the_secret_key_can_rotate_freely_under_a_field_encryption_key(keys):
    keys.FIELD_ENCRYPTION_KEY = ["key-one"]
    token = crypto.encrypt("sk-1234")
    keys.SECRET_KEY = "new-secret"
    assert crypto.decrypt(token) == "sk-1234"


def test_keys_stored_before_a_field_encryption_key_was_set_stay_readable(keys):
    token = crypto.encrypt("sk-1234")
    keys.FIELD_ENCRYPTION_KEY = ["key-one"]
    assert crypto.decrypt(token) == "sk-1234"


def test_rotate_re_encrypts_with_the_first_key(keys):
    keys.FIELD_ENCRYPTION_KEY = ["key-one"]
    token = crypto.encrypt("sk-1234")
    keys.FIELD_ENCRYPTION_KEY = ["key-two", "key-one"]
    rotated = crypto.rotate(token)
    keys.FIELD_ENCRYPTION_KEY, keys.SECRET_KEY = ["key-two"], "another-secret"
    assert crypto.decrypt(rotated) == "sk-1234"


def test_a_key_that_no_longer_decrypts_is_reported(keys):
    token = crypto.encrypt("sk-1234")
    assert crypto.can_decrypt(token)
    keys.SECRET_KEY = "new-secret"  # rotated without keeping the old one as a fallback
    assert not crypto.can_decrypt(token)
    with pytest.raises(ValueError, match="cannot be decrypted"):
        crypto.decrypt(token)
