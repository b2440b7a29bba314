from django.contrib import admin
from django.db.models import Count

from conversations.models import Conversation, Message, MessageSource


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
    search_fields = ["title", "owner__username"]
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
    list_display = ["short_question", "owner", "chat_type", "status", "model_name", "latency_ms", "created_at"]
    list_filter = ["chat_type", "status", "created_at", HasErrorFilter, "model_name"]
    list_select_related = ["conversation__owner"]
    search_fields = ["question", "answer"]
    date_hierarchy = "created_at"
    raw_id_fields = ["conversation"]
    readonly_fields = [
        "conversation",
        "question",
        "answer",
        "chat_type",
        "status",
        "context_used",
        "model_name",
        "prompt_tokens",
        "completion_tokens",
        "latency_ms",
        "error",
        "created_at",
        "answered_at",
    ]
    inlines = [MessageSourceInline]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description="Question")
    def short_question(self, obj: Message) -> str:
        return obj.question[:80]

    @admin.display(ordering="conversation__owner__username", description="Owner")
    def owner(self, obj: Message):
        return obj.conversation.owner
