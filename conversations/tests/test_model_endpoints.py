"""Staff who edit chat model configurations cannot send the server's secrets to a host of their choosing."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from conftest import answer_question, make_user
from conversations import prompts, services
from conversations.models import ChatModelConfig, MessageStatus


def _config(**fields) -> ChatModelConfig:
    return ChatModelConfig(name="Cloud", model="openai:gpt-4o-mini", **fields)


def _errors(config: ChatModelConfig) -> dict:
    with pytest.raises(ValidationError) as refused:
        config.full_clean()
    return refused.value.message_dict


@pytest.mark.parametrize("name", ["SECRET_KEY", "DATABASE_URL", "POSTGRES_PASSWORD", "OPENAI_API_KEY_FILE"])
def test_only_api_key_variables_may_be_named(db, name):
    assert "api_key_env" in _errors(_config(api_key_env=name))


def test_an_api_key_variable_is_accepted(db):
    _config(api_key_env="OPENAI_API_KEY").full_clean()


def test_the_variable_patterns_come_from_the_settings(db, settings):
    settings.CHAT_MODEL_KEY_ENV_PATTERNS = ["LLM_TOKEN_*"]
    _config(api_key_env="LLM_TOKEN_PROD").full_clean()
    assert "api_key_env" in _errors(_config(api_key_env="OPENAI_API_KEY"))


def test_a_base_url_on_an_unlisted_host_is_refused(db):
    assert "base_url" in _errors(_config(base_url="https://collector.example.net/v1"))


def test_base_urls_on_loopback_listed_hosts_and_the_configured_server_are_accepted(db, settings):
    settings.CHAT_MODEL_BASE_URL = "https://llm.example.org/v1"
    settings.CHAT_MODEL_ALLOWED_HOSTS = ["localhost", "127.0.0.1", "*.openai.azure.com"]
    for url in [
        "",
        "http://localhost:11434",
        "http://127.0.0.1:8001/v1",
        "https://llm.example.org/other",
        "https://ours.openai.azure.com/",
    ]:
        _config(base_url=url).full_clean()


def test_a_forbidden_variable_stored_earlier_is_refused_when_used(db, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "the-server-secret")
    config = ChatModelConfig.objects.create(name="Old", model="openai:x", api_key_env="SECRET_KEY")
    with pytest.raises(ValueError, match="SECRET_KEY"):
        config.api_key()


def test_no_key_is_handed_out_for_an_unlisted_host_stored_earlier(db):
    config = ChatModelConfig.objects.create(name="Old", model="openai:x", base_url="https://collector.example.net/v1")
    config.set_api_key("sk-stored")
    # Refused even with no key of its own: the model client would fall back to OPENAI_API_KEY.
    for stored in ["sk-stored", ""]:
        config.set_api_key(stored)
        with pytest.raises(ValueError, match="collector.example.net"):
            config.api_key()


def test_an_allowed_variable_is_read_when_used(db, monkeypatch):
    monkeypatch.setenv("RAGCHAT_TEST_API_KEY", "from-env")
    assert _config(api_key_env="RAGCHAT_TEST_API_KEY").api_key() == "from-env"


def test_the_admin_form_refuses_a_secret_variable_and_an_unlisted_host(client, db):
    client.force_login(make_user("staff", is_staff=True, is_superuser=True))
    fields = {
        "name": "Cloud",
        "model": "openai:gpt-4o-mini",
        "temperature": 0.2,
        "timeout_seconds": 30,
        "max_tokens": 500,
        "api_key_env": "SECRET_KEY",
        "base_url": "https://collector.example.net/v1",
    }
    page = client.post(reverse("admin:conversations_chatmodelconfig_add"), fields).content.decode()
    assert "may not hold a chat model key" in page and "may not be sent to collector.example.net" in page
    assert not ChatModelConfig.objects.exists()


def test_an_answer_from_a_configuration_stored_before_the_rules_fails_with_a_reason(knowledge_base, alice):
    config = _config(api_key_env="SECRET_KEY")
    config.save()  # as a row written before the allow-list existed: never validated
    prompts.prompt_version_create(chat_type="answer", system_prompt="Cite [n].", model_config=config)
    conversation = services.conversation_create(owner=alice, chat_type="answer")
    message = answer_question(conversation=conversation, question="When to prune roses?")

    assert message.status == MessageStatus.FAILED
    assert message.error == (
        "This answer style's model configuration is not allowed on this site; an administrator must fix it."
    )
    assert "SECRET_KEY" in message.error_detail
