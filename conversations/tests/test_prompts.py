"""Prompt and model choice (prompts.py): the built-in prompts, prompt versions edited in the admin,
and chat-model configurations with their keys."""

from django.contrib.admin.models import LogEntry
from django.urls import reverse

from conftest import answer_question
from conversations import prompts, services
from conversations.models import ChatModelConfig, ChatType, PromptVersion


def built_in_version(chat_type: str) -> PromptVersion:
    """Version 1 as migration 0008 makes it (a flush by an earlier transactional test removes it)."""
    version, _ = PromptVersion.objects.get_or_create(
        chat_type=chat_type, is_active=True, defaults={"system_prompt": prompts.BUILT_IN_PROMPTS[chat_type]}
    )
    return version


def test_each_chat_type_has_its_own_system_prompt():
    assert set(prompts.BUILT_IN_PROMPTS) == set(ChatType)
    assert len(set(prompts.BUILT_IN_PROMPTS.values())) == len(ChatType)


def test_no_chat_model_is_built_when_none_is_configured(settings, db):
    settings.CHAT_MODEL = ""
    assert prompts.ModelChoice.from_settings() is None
    assert prompts.answer_setup(ChatType.ANSWER).model is None


def test_without_any_version_the_built_in_prompt_answers_and_nothing_is_written(knowledge_base, alice, openai_stub):
    PromptVersion.objects.all().delete()
    conversation = services.conversation_create(owner=alice, chat_type=ChatType.EXPLAIN)
    message = answer_question(conversation=conversation, question="When to prune roses?", chat_type="explain")

    assert message.prompt_version is None and message.model_name == "openai:gpt-test"
    assert openai_stub.requests[-1]["messages"][0]["content"] == prompts.BUILT_IN_PROMPTS[ChatType.EXPLAIN]
    assert not PromptVersion.objects.exists()


def test_editing_in_the_admin_adds_an_active_version_and_keeps_the_old_one(staff_client, staff_user):
    first = built_in_version(ChatType.ANSWER)
    form = staff_client.get(reverse("admin:conversations_promptversion_add"), {"chat_type": "answer"})
    assert prompts.BUILT_IN_PROMPTS[ChatType.ANSWER][:30] in form.content.decode()  # starts from the active text
    staff_client.post(
        reverse("admin:conversations_promptversion_add"),
        {"chat_type": "answer", "system_prompt": "Answer like a pirate. Cite [n].", "note": "pirate"},
    )
    first.refresh_from_db()
    second = PromptVersion.objects.get(note="pirate")
    assert second.is_active and not first.is_active
    assert second.created_by == staff_user
    assert PromptVersion.objects.filter(chat_type="answer").count() == 2


def test_each_message_records_the_prompt_version_and_model_that_answered(knowledge_base, alice, openai_stub):
    conversation = services.conversation_create(owner=alice, chat_type=ChatType.ANSWER)
    before = answer_question(conversation=conversation, question="When to prune roses?", chat_type="answer")
    new = prompts.prompt_version_create(chat_type="answer", system_prompt="Be terse. Cite [n].", model_config=None)
    after = answer_question(conversation=conversation, question="Roses in winter?", chat_type="answer")

    assert before.prompt_version != after.prompt_version == new
    assert after.model_name == "openai:gpt-test"
    assert openai_stub.requests[-1]["messages"][0]["content"] == "Be terse. Cite [n]."


def test_rolling_back_activates_an_earlier_version_and_is_logged(staff_client):
    first = built_in_version(ChatType.ANSWER)
    prompts.prompt_version_create(chat_type="answer", system_prompt="v2", model_config=None)
    staff_client.post(
        reverse("admin:conversations_promptversion_changelist"),
        {"action": "activate", "_selected_action": [first.pk]},
    )
    assert prompts.active_prompt(ChatType.ANSWER) == first
    assert LogEntry.objects.get(object_id=str(first.pk)).get_change_message() == "Activated"


def test_prompt_versions_cannot_be_edited_or_deleted(staff_client):
    version = built_in_version(ChatType.ANSWER)
    url = reverse("admin:conversations_promptversion_change", args=[version.pk])
    staff_client.post(url, {"chat_type": "answer", "system_prompt": "changed", "note": "x"})
    version.refresh_from_db()
    assert version.system_prompt == prompts.BUILT_IN_PROMPTS[ChatType.ANSWER]
    assert staff_client.post(reverse("admin:conversations_promptversion_delete", args=[version.pk])).status_code == 403


def test_a_model_configuration_per_chat_type_is_used_with_its_stored_key(knowledge_base, alice, openai_stub):
    config = ChatModelConfig(name="Local", model="openai:local-model", base_url=openai_stub.base_url, max_tokens=77)
    config.set_api_key("sk-stored-secret-1234")
    config.save()
    prompts.prompt_version_create(chat_type="summarize", system_prompt="Summarize. Cite [n].", model_config=config)
    conversation = services.conversation_create(owner=alice, chat_type=ChatType.SUMMARIZE)
    message = answer_question(conversation=conversation, question="Roses?", chat_type="summarize")

    assert message.model_name == "openai:local-model"
    request = openai_stub.requests[-1]
    assert request["model"] == "local-model"
    assert request["max_completion_tokens"] == 77 and "max_tokens" not in request  # the token budget
    assert "sk-stored-secret-1234" not in config.api_key_encrypted  # encrypted at rest
    assert config.api_key() == "sk-stored-secret-1234"


def test_an_environment_variable_key_wins_over_the_stored_one(db, monkeypatch):
    config = ChatModelConfig(name="Env", model="openai:x", api_key_env="RAGCHAT_TEST_API_KEY")
    config.set_api_key("stored")
    monkeypatch.setenv("RAGCHAT_TEST_API_KEY", "from-env")
    assert config.api_key() == "from-env"


def test_api_keys_are_masked_in_the_admin(staff_client):
    url = reverse("admin:conversations_chatmodelconfig_add")
    staff_client.post(url, {"name": "Cloud", "model": "openai:gpt-4o-mini", "temperature": 0.2,
                            "timeout_seconds": 30, "max_tokens": 500, "api_key": "sk-very-secret-9876"})  # fmt: skip
    config = ChatModelConfig.objects.get(name="Cloud")
    assert config.api_key() == "sk-very-secret-9876"
    for page in [
        staff_client.get(reverse("admin:conversations_chatmodelconfig_changelist")),
        staff_client.get(reverse("admin:conversations_chatmodelconfig_change", args=[config.pk])),
    ]:
        html = page.content.decode()
        assert "sk-very-secret-9876" not in html and config.api_key_encrypted not in html
        assert "stored (hidden)" in html
    # Saving without typing a key keeps it; the clear box removes it.
    change = reverse("admin:conversations_chatmodelconfig_change", args=[config.pk])
    fields = {"name": "Cloud", "model": "openai:gpt-4o-mini", "temperature": 0.2, "timeout_seconds": 30,
              "max_tokens": 500}  # fmt: skip
    staff_client.post(change, fields)
    config.refresh_from_db()
    assert config.api_key() == "sk-very-secret-9876"
    staff_client.post(change, fields | {"clear_api_key": "on"})
    config.refresh_from_db()
    assert config.api_key() == ""
