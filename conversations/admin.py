import csv
import json
from datetime import date

from django import forms
from django.contrib import admin, messages
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from conversations.insight import default_period, insight_for_period
from conversations.models import ChatModelConfig, ChatType, Conversation, Message, MessageSource, PromptVersion
from conversations.prompts import (
    active_prompt,
    current_system_prompt,
    prompt_version_activate,
    prompt_version_create,
)

EXPORT_FIELDS = [
    "id", "created_at", "owner", "chat_type", "status", "question", "search_query", "answer", "model_name",
    "prompt_tokens", "completion_tokens", "latency_ms", "error", "feedback", "feedback_comment", "flagged",
    "hidden", "sources",
]  # fmt: skip


class MessageInline(admin.TabularInline):
    model = Message
    fields = ["created_at", "chat_type", "status", "question", "answer", "model_name", "latency_ms", "error"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ["title", "owner", "chat_type", "message_count", "updated_at"]
    list_filter = ["chat_type", "updated_at"]
    list_select_related = ["owner"]
    search_fields = ["title", "owner__username", "messages__question", "messages__answer"]
    raw_id_fields = ["owner"]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [MessageInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(message_count=Count("messages"))

    @admin.display(ordering="message_count", description="Messages")
    def message_count(self, obj: Conversation) -> int:
        return obj.message_count


class HasErrorFilter(admin.SimpleListFilter):
    title = "error"
    parameter_name = "has_error"

    def lookups(self, request, model_admin):
        return [("yes", "With an error"), ("no", "Without an error")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.exclude(error="")
        if self.value() == "no":
            return queryset.filter(error="")
        return queryset


class FeedbackFilter(admin.SimpleListFilter):
    title = "feedback"
    parameter_name = "feedback"

    def lookups(self, request, model_admin):
        return [("up", "Thumbs up"), ("down", "Thumbs down"), ("none", "No feedback")]

    def queryset(self, request, queryset):
        values = {"up": 1, "down": -1}
        if self.value() in values:
            return queryset.filter(feedback=values[self.value()])
        if self.value() == "none":
            return queryset.filter(feedback__isnull=True)
        return queryset


class MessageSourceInline(admin.TabularInline):
    model = MessageSource
    fields = ["rank", "score", "chunk"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class PeriodForm(forms.Form):
    start = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = [
        "short_question", "owner", "chat_type", "status", "feedback", "flagged", "hidden", "model_name",
        "latency_ms", "created_at",
    ]  # fmt: skip
    list_filter = [
        "chat_type", "status", "created_at", FeedbackFilter, "flagged", "hidden", HasErrorFilter, "model_name",
    ]  # fmt: skip
    list_select_related = ["conversation__owner"]
    # request_id: from a log line to its message (exact match, as logs give the whole id).
    search_fields = ["question", "answer", "conversation__owner__username", "=request_id"]
    date_hierarchy = "created_at"
    raw_id_fields = ["conversation"]
    readonly_fields = [
        "conversation", "question", "search_query", "answer", "chat_type", "status", "passages", "prompt_version",
        "model_name",
        "prompt_tokens", "completion_tokens", "latency_ms", "error", "feedback", "feedback_comment",
        "feedback_at", "created_at", "answered_at", "request_id",
    ]  # fmt: skip
    fields = readonly_fields[:5] + ["flagged", "hidden", "expected_source"] + readonly_fields[5:]
    inlines = [MessageSourceInline]
    actions = ["flag", "unflag", "hide", "unhide", "export_jsonl", "export_csv", "export_evaluation", "delete_selected"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description="Question")
    def short_question(self, obj: Message) -> str:
        return obj.question[:80]

    @admin.display(ordering="conversation__owner__username", description="Owner")
    def owner(self, obj: Message):
        return obj.conversation.owner

    @admin.display(description="Passages given to the model")
    def passages(self, obj: Message) -> str:
        """Each passage of context_used, linked to its document in the admin."""
        passages = obj.passages()
        rows = (
            (
                passage.n,
                reverse("admin:documents_document_change", args=[passage.document_id]),
                passage.path,
                passage.heading,
                round(passage.similarity, 3),
                passage.text,
            )
            for passage in passages
        )
        html = format_html_join(
            "", '<li value="{}"><a href="{}">{}</a> · {} · similarity {}<br><small>{}</small></li>', rows
        )
        return format_html("<ol>{}</ol>", html) if passages else "—"

    def _set(self, request, queryset, field: str, value: bool, verb: str) -> None:
        """Change a moderation flag and record it in the admin log, message by message."""
        changed = 0
        for message in queryset.filter(**{f"{field}__in": [not value]}):
            setattr(message, field, value)
            message.save(update_fields=[field])
            self.log_change(request, message, verb)
            changed += 1
        self.message_user(request, f"{verb}: {changed} message(s).", messages.SUCCESS)

    @admin.action(description="Flag selected messages")
    def flag(self, request, queryset):
        self._set(request, queryset, "flagged", True, "Flagged")

    @admin.action(description="Remove the flag")
    def unflag(self, request, queryset):
        self._set(request, queryset, "flagged", False, "Unflagged")

    @admin.action(description="Hide from their owners")
    def hide(self, request, queryset):
        self._set(request, queryset, "hidden", True, "Hidden from the owner")

    @admin.action(description="Show to their owners again")
    def unhide(self, request, queryset):
        self._set(request, queryset, "hidden", False, "Shown to the owner again")

    def _rows(self, request, queryset):
        for message in queryset.select_related("conversation__owner").order_by("created_at"):
            self.log_change(request, message, "Exported")
            row = {field: getattr(message, field, None) for field in EXPORT_FIELDS[:-1]}
            row.update(owner=message.conversation.owner.get_username(), created_at=message.created_at.isoformat())
            row["sources"] = [passage.summary() for passage in message.passages()]
            yield row

    @admin.action(description="Export selected as JSON lines")
    def export_jsonl(self, request, queryset):
        body = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in self._rows(request, queryset))
        return _download(body, "messages.jsonl", "application/x-ndjson")

    @admin.action(description="Export selected as CSV")
    def export_csv(self, request, queryset):
        response = _download("", "messages.csv", "text/csv")
        writer = csv.DictWriter(response, fieldnames=EXPORT_FIELDS)
        writer.writeheader()
        for row in self._rows(request, queryset):
            writer.writerow(row | {"sources": "; ".join(s["path"] for s in row["sources"])})
        return response

    @admin.action(description="Export as evaluation questions (JSON lines for `evaluate`)")
    def export_evaluation(self, request, queryset):
        """Lines `evaluate` accepts, for the messages whose expected source a moderator filled in."""
        ready = queryset.exclude(expected_source="").order_by("created_at")
        skipped = queryset.filter(expected_source="").count()
        if not ready:
            self.message_user(request, "Fill in the expected source of the messages first.", messages.ERROR)
            return None
        lines = []
        for message in ready:
            line = {
                "id": f"message-{message.pk}",
                "question": message.question,
                "expected_source": message.expected_source,
            }
            lines.append(json.dumps(line, ensure_ascii=False) + "\n")
            self.log_change(request, message, "Exported as an evaluation question")
        response = _download("".join(lines), "evaluation.jsonl", "application/x-ndjson")
        response["X-Skipped-Without-Expected-Source"] = str(skipped)
        return response

    def get_urls(self):
        insight = path("insight/", self.admin_site.admin_view(self.insight_view), name="conversations_insight")
        return [insight, *super().get_urls()]

    def insight_view(self, request: HttpRequest) -> TemplateResponse:
        start, end = default_period()
        form = PeriodForm(request.GET or {"start": start, "end": end})
        if form.is_valid() and form.cleaned_data["start"] <= form.cleaned_data["end"]:
            start, end = form.cleaned_data["start"], form.cleaned_data["end"]
        context = {
            **self.admin_site.each_context(request),
            "title": "Insight",
            "form": form,
            "insight": insight_for_period(start=start, end=end),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/conversations/insight.html", context)


def _download(body: str, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(body, content_type=f"{content_type}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{date.today():%Y-%m-%d}-{filename}"'
    return response


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
        return "stored (hidden)" if obj.api_key_encrypted else "none"


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

    @admin.action(description="Make active (roll back or forward to this version)")
    def activate(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Choose exactly one version to activate.", messages.ERROR)
            return
        version = prompt_version_activate(version=queryset.get())
        self.log_change(request, version, "Activated")
        self.message_user(request, f"{version} is now active.", messages.SUCCESS)
