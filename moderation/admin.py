"""The admin of conversations and messages: what moderators read, flag, hide and export.

The chat's own configuration (prompt versions, chat models) stays in conversations/admin.py.
"""

from collections.abc import Iterator

from django.contrib import admin, messages
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from conversations.models import Conversation, Message, MessageSource
from moderation import exports


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
        "prompt_tokens", "completion_tokens", "latency_ms", "error", "error_detail", "feedback", "feedback_comment",
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

    @admin.action(description="Flag selected messages", permissions=["change"])
    def flag(self, request, queryset):
        self._set(request, queryset, "flagged", True, "Flagged")

    @admin.action(description="Remove the flag", permissions=["change"])
    def unflag(self, request, queryset):
        self._set(request, queryset, "flagged", False, "Unflagged")

    @admin.action(description="Hide from their owners", permissions=["change"])
    def hide(self, request, queryset):
        self._set(request, queryset, "hidden", True, "Hidden from the owner")

    @admin.action(description="Show to their owners again", permissions=["change"])
    def unhide(self, request, queryset):
        self._set(request, queryset, "hidden", False, "Shown to the owner again")

    def _exported(self, request, queryset) -> Iterator[Message]:
        """The selected messages, oldest first, each recorded in the admin log as it is exported."""
        for message in queryset.select_related("conversation__owner").order_by("created_at"):
            self.log_change(request, message, "Exported")
            yield message

    @admin.action(description="Export selected as JSON lines")
    def export_jsonl(self, request, queryset):
        return exports.jsonl_download(self._exported(request, queryset))

    @admin.action(description="Export selected as CSV")
    def export_csv(self, request, queryset):
        return exports.csv_download(self._exported(request, queryset))

    @admin.action(description="Export as evaluation questions (JSON lines for `evaluate`)")
    def export_evaluation(self, request, queryset):
        """Evaluation lines for the messages whose expected source a moderator filled in."""
        ready = list(queryset.exclude(expected_source="").order_by("created_at"))
        skipped = queryset.filter(expected_source="").count()
        if not ready:
            self.message_user(request, "Fill in the expected source of the messages first.", messages.ERROR)
            return None
        for message in ready:
            self.log_change(request, message, "Exported as an evaluation question")
        response = exports.evaluation_download(ready)
        response["X-Skipped-Without-Expected-Source"] = str(skipped)
        return response
