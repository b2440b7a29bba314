"""The chat's configuration in the admin: prompt versions and chat-model configurations."""

from django.contrib.admin.models import LogEntry
from django.urls import reverse

from conftest import make_staff
from conversations import prompts
from conversations.models import ChatModelConfig, ChatType, PromptVersion


def test_staff_who_may_only_view_prompt_versions_cannot_activate_one(client, db):
    first = prompts.prompt_version_create(chat_type=ChatType.ANSWER, system_prompt="v1. Cite [n].", model_config=None)
    prompts.prompt_version_create(chat_type=ChatType.ANSWER, system_prompt="v2. Cite [n].", model_config=None)
    client.force_login(make_staff("viewer", "conversations.view_promptversion"))
    client.post(
        reverse("admin:conversations_promptversion_changelist"), {"action": "activate", "_selected_action": [first.pk]}
    )
    assert PromptVersion.objects.get(chat_type=ChatType.ANSWER, is_active=True).system_prompt == "v2. Cite [n]."
    assert not LogEntry.objects.exists()


def test_a_stored_key_that_no_longer_decrypts_says_so(staff_client, settings):
    settings.FIELD_ENCRYPTION_KEY = ["the-key-of-last-year"]
    config = ChatModelConfig(name="Local", model="openai:local-model", base_url="http://localhost:8080/v1")
    config.set_api_key("sk-stored-secret-1234")
    config.save()
    settings.FIELD_ENCRYPTION_KEY = ["this-years-key"]  # rotated without keeping the old one behind it

    page = staff_client.get(reverse("admin:conversations_chatmodelconfig_changelist")).content.decode()
    assert "stored, but it can no longer be decrypted: enter the key again" in page
