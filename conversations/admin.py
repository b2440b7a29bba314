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
from conversations.models import Conversation, Message, MessageSource

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
    search_fields = ["question", "answer", "conversation__owner__username"]
    date_hierarchy = "created_at"
    raw_id_fields = ["conversation"]
    readonly_fields = [
        "conversation", "question", "search_query", "answer", "chat_type", "status", "passages", "model_name",
        "prompt_tokens", "completion_tokens", "latency_ms", "error", "feedback", "feedback_comment",
        "feedback_at", "created_at", "answered_at",
    ]  # fmt: skip
    fields = readonly_fields[:5] + ["flagged", "hidden"] + readonly_fields[5:]
    inlines = [MessageSourceInline]
    actions = ["flag", "unflag", "hide", "unhide", "export_jsonl", "export_csv", "delete_selected"]

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
        rows = (
            (
                item["n"],
                reverse("admin:documents_document_change", args=[item["document_id"]]),
                item["source"],
                item.get("heading", ""),
                round(item.get("similarity", 0), 3),
                item["text"],
            )
            for item in obj.context_used
        )
        html = format_html_join(
            "", '<li value="{}"><a href="{}">{}</a> · {} · similarity {}<br><small>{}</small></li>', rows
        )
        return format_html("<ol>{}</ol>", html) if obj.context_used else "—"

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
            row["sources"] = [{k: s[k] for k in ("n", "source", "title", "score")} for s in message.context_used]
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
            writer.writerow(row | {"sources": "; ".join(s["source"] for s in row["sources"])})
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
