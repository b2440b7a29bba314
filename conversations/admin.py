from django import forms
from django.contrib import admin, messages

from conversations import crypto
from conversations.models import ChatModelConfig, ChatType, PromptVersion
from conversations.prompts import (
    active_prompt,
    current_system_prompt,
    prompt_version_activate,
    prompt_version_create,
)


class ChatModelConfigForm(forms.ModelForm):
    """The API key is write-only: it is stored encrypted and never rendered back."""

    api_key = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Leave empty to keep the stored key. Prefer an environment variable (API key env).",
    )
    clear_api_key = forms.BooleanField(required=False, label="Remove the stored key")
    base_url = forms.URLField(required=False, assume_scheme="https", help_text="For OpenAI-compatible servers.")

    class Meta:
        model = ChatModelConfig
        fields = ["name", "model", "temperature", "timeout_seconds", "max_tokens", "base_url", "api_key_env"]

    def save(self, commit=True):
        config = super().save(commit=False)
        if self.cleaned_data["clear_api_key"]:
            config.set_api_key("")
        elif self.cleaned_data["api_key"]:
            config.set_api_key(self.cleaned_data["api_key"])
        if commit:
            config.save()
        return config


@admin.register(ChatModelConfig)
class ChatModelConfigAdmin(admin.ModelAdmin):
    form = ChatModelConfigForm
    list_display = ["name", "model", "temperature", "timeout_seconds", "max_tokens", "key_status"]
    readonly_fields = ["key_status"]

    @admin.display(description="API key")
    def key_status(self, obj: ChatModelConfig) -> str:
        if obj.api_key_env:
            return f"from ${obj.api_key_env}"
        if not obj.api_key_encrypted:
            return "none"
        if not crypto.can_decrypt(obj.api_key_encrypted):
            # The encryption keys changed without the fallbacks that wrote it: say so, not "stored".
            return "stored, but it can no longer be decrypted: enter the key again"
        return "stored (hidden)"


@admin.register(PromptVersion)
class PromptVersionAdmin(admin.ModelAdmin):
    """Versions are never edited in place: saving the form adds a new, active version."""

    list_display = ["__str__", "chat_type", "is_active", "model_config", "note", "created_by", "created_at"]
    list_filter = ["chat_type", "is_active"]
    fields = ["chat_type", "system_prompt", "model_config", "note"]
    actions = ["activate"]

    def get_readonly_fields(self, request, obj=None):
        return [*self.fields, "is_active", "created_by", "created_at"] if obj else []

    def get_changeform_initial_data(self, request):
        """Add a version starting from the active one (?chat_type=answer)."""
        initial = super().get_changeform_initial_data(request)
        chat_type = initial.get("chat_type")
        if chat_type in ChatType.values:
            current = active_prompt(chat_type)
            initial["system_prompt"] = current_system_prompt(chat_type)
            initial["model_config"] = current.model_config_id if current else None
        return initial

    def save_model(self, request, obj, form, change):
        if change:
            return  # read-only; nothing to save
        created = prompt_version_create(created_by=request.user, **form.cleaned_data)
        obj.pk = created.pk

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # messages point at the version that answered them

    @admin.action(description="Make active (roll back or forward to this version)", permissions=["change"])
    def activate(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Choose exactly one version to activate.", messages.ERROR)
            return
        version = prompt_version_activate(version=queryset.get())
        self.log_change(request, version, "Activated")
        self.message_user(request, f"{version} is now active.", messages.SUCCESS)
