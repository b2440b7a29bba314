from django.core.management import call_command

from conversations.models import ChatModelConfig


def _config(name: str, key: str) -> ChatModelConfig:
    config = ChatModelConfig(name=name, model="openai:x")
    config.set_api_key(key)
    config.save()
    return config


def test_stored_keys_are_re_encrypted_with_the_new_first_key_so_the_old_can_go(db, settings, capsys):
    settings.FIELD_ENCRYPTION_KEY = ["key-one"]
    config = _config("Cloud", "sk-1234")
    settings.FIELD_ENCRYPTION_KEY = ["key-two", "key-one"]
    call_command("reencrypt_api_keys")
    settings.FIELD_ENCRYPTION_KEY, settings.SECRET_KEY = ["key-two"], "another-secret"
    config.refresh_from_db()
    assert config.api_key() == "sk-1234"
    assert "Re-encrypted 1 stored API key(s)." in capsys.readouterr().out


def test_keys_that_no_longer_decrypt_are_named_and_left_alone(db, settings, capsys):
    settings.FIELD_ENCRYPTION_KEY = ["lost-key"]
    lost = _config("Lost", "sk-lost")
    settings.FIELD_ENCRYPTION_KEY = ["key-two"]
    call_command("reencrypt_api_keys")
    assert "Cannot decrypt, enter again in the admin: Lost" in capsys.readouterr().out
    assert ChatModelConfig.objects.get().api_key_encrypted == lost.api_key_encrypted
