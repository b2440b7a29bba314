"""Versioned system prompts per answer style: every change is kept, one version is active."""

from django.db import transaction

from conversations import rag
from conversations.models import ChatModelConfig, ChatType, PromptVersion


def active_prompt(chat_type: str) -> PromptVersion:
    """The active version for ``chat_type``; the built-in prompt becomes version 1 on first use."""
    version = PromptVersion.objects.active().select_related("model_config").filter(chat_type=chat_type).first()
    if version is not None:
        return version
    with transaction.atomic():
        # Two first questions at once: the unique constraint lets only one create version 1.
        version, _ = PromptVersion.objects.get_or_create(
            chat_type=chat_type,
            is_active=True,
            defaults={"system_prompt": rag.SYSTEM_PROMPTS[ChatType(chat_type)], "note": "Built-in prompt"},
        )
    return version


def prompt_version_create(
    *, chat_type: str, system_prompt: str, model_config: ChatModelConfig | None, note: str = "", created_by=None
) -> PromptVersion:
    """Save a new version and make it the active one."""
    with transaction.atomic():
        PromptVersion.objects.select_for_update().filter(chat_type=chat_type, is_active=True).update(is_active=False)
        return PromptVersion.objects.create(
            chat_type=chat_type,
            system_prompt=system_prompt,
            model_config=model_config,
            note=note,
            created_by=created_by,
            is_active=True,
        )


def prompt_version_activate(*, version: PromptVersion) -> PromptVersion:
    """Make an earlier (or later) version the active one again: a rollback."""
    with transaction.atomic():
        PromptVersion.objects.select_for_update().filter(chat_type=version.chat_type, is_active=True).update(
            is_active=False
        )
        version.is_active = True
        version.save(update_fields=["is_active"])
    return version
