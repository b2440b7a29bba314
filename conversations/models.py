from django.conf import settings
from django.db import models


class ChatType(models.TextChoices):
    """How the answer is written; each type has its own system prompt (see rag.py)."""

    ANSWER = "answer", "Answer"
    EXPLAIN = "explain", "Explain step by step"
    SUMMARIZE = "summarize", "Summarize"


class ConversationQuerySet(models.QuerySet):
    def for_user(self, user) -> "ConversationQuerySet":
        return self.filter(owner=user)

    def recent(self) -> "ConversationQuerySet":
        return self.order_by("-updated_at", "-id")


class Conversation(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversations")
    title = models.CharField(max_length=200)
    chat_type = models.CharField(
        max_length=20, choices=ChatType.choices, default=ChatType.ANSWER, help_text="Default for new questions."
    )
    collection = models.CharField(max_length=100, blank=True, help_text="Limit retrieval to this collection.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ConversationQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [
            # The conversation list: WHERE owner_id = ? ORDER BY updated_at DESC.
            models.Index(fields=["owner", "-updated_at"], name="conversation_owner_recent"),
        ]

    def __str__(self) -> str:
        return self.title


class MessageStatus(models.TextChoices):
    PENDING = "pending", "Waiting for the answer"
    ANSWERED = "answered", "Answered"
    FAILED = "failed", "Failed"


class Feedback(models.IntegerChoices):
    DOWN = -1, "Thumbs down"
    UP = 1, "Thumbs up"


class MessageQuerySet(models.QuerySet):
    def visible(self) -> "MessageQuerySet":
        """What the owner sees: everything a moderator has not hidden."""
        return self.filter(hidden=False)


class Message(models.Model):
    """One exchange: the question as asked, and the answer with everything needed to audit it."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    question = models.TextField()
    search_query = models.TextField(
        blank=True, help_text="The question rewritten to stand alone, as it was searched for (follow-ups)."
    )
    answer = models.TextField(blank=True)
    chat_type = models.CharField(max_length=20, choices=ChatType.choices, default=ChatType.ANSWER)
    status = models.CharField(max_length=20, choices=MessageStatus.choices, default=MessageStatus.PENDING)
    context_used = models.JSONField(
        default=list,
        blank=True,
        help_text="The numbered passages given to the model, as they read at answer time.",
    )
    model_name = models.CharField(max_length=200, blank=True, help_text="Empty for extractive answers.")
    prompt_tokens = models.PositiveIntegerField(null=True, blank=True)
    completion_tokens = models.PositiveIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True, help_text="Retrieval plus answering.")
    error = models.TextField(blank=True)
    flagged = models.BooleanField(default=False, help_text="Marked by a moderator for attention.")
    hidden = models.BooleanField(default=False, help_text="Hidden from its owner by a moderator.")
    feedback = models.SmallIntegerField(choices=Feedback.choices, null=True, blank=True)
    feedback_comment = models.TextField(blank=True)
    feedback_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    objects = MessageQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            # A conversation's messages in order: WHERE conversation_id = ? ORDER BY created_at.
            models.Index(fields=["conversation", "created_at"], name="message_conversation_order"),
            # Admin and moderation: recent messages, newest first.
            models.Index(fields=["-created_at"], name="message_recent"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status=MessageStatus.FAILED) | ~models.Q(error=""),
                name="message_failed_has_error",
            ),
        ]

    def __str__(self) -> str:
        return self.question[:80]

    @property
    def is_failed(self) -> bool:
        return self.status == MessageStatus.FAILED

    def source(self, number: int) -> dict | None:
        """The passage cited as [number], if the answer was given one with that number."""
        return next((item for item in self.context_used if item.get("n") == number), None)


class MessageSource(models.Model):
    """A chunk given to the model for a message, with its rank and retrieval score.

    The chunk link survives re-imports as NULL (the passage text stays in context_used).
    """

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="sources")
    chunk = models.ForeignKey("documents.Chunk", on_delete=models.SET_NULL, null=True, related_name="+")
    rank = models.PositiveSmallIntegerField(help_text="1 is the best match; also the citation number.")
    score = models.FloatField()

    class Meta:
        ordering = ["message", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["message", "rank"], name="message_source_unique_rank"),
            models.CheckConstraint(condition=models.Q(rank__gte=1), name="message_source_rank_positive"),
        ]

    def __str__(self) -> str:
        return f"[{self.rank}] of message {self.message_id}"
