import dataclasses
import os
from dataclasses import dataclass, fields
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from conversations import crypto, model_endpoints
from documents.search import RetrievedChunk


class ChatType(models.TextChoices):
    """The answer style: how the answer is written; each style has its own system prompt (prompts.py).

    Stored as ``chat_type`` (the name the project was specified with) and shown as "Answer style".
    """

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
    collections = models.ManyToManyField(
        "documents.Collection",
        blank=True,
        related_name="+",
        help_text="What its questions search. None: every collection its owner may read, as it is at each question.",
    )
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


class ChatModelConfig(models.Model):
    """A chat model staff can choose per answer style, instead of the CHAT_MODEL setting."""

    name = models.CharField(max_length=100, unique=True)
    model = models.CharField(max_length=200, help_text="provider:model for init_chat_model, e.g. openai:gpt-4o-mini.")
    temperature = models.FloatField(default=0.2)
    timeout_seconds = models.FloatField(default=60)
    max_tokens = models.PositiveIntegerField(default=1024, help_text="Token budget of one answer.")
    base_url = models.URLField(blank=True, help_text="For OpenAI-compatible servers.")
    api_key_env = models.CharField(
        max_length=100, blank=True, help_text="Name of the environment variable with the API key (preferred)."
    )
    api_key_encrypted = models.TextField(blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(temperature__gte=0, temperature__lte=2), name="model_temperature_range"
            ),
            models.CheckConstraint(condition=models.Q(timeout_seconds__gt=0), name="model_timeout_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.model})"

    def clean(self) -> None:
        errors = {}
        for field, check in [
            ("api_key_env", model_endpoints.check_key_env),
            ("base_url", model_endpoints.check_base_url),
        ]:
            try:
                check(getattr(self, field))
            except model_endpoints.EndpointRefused as refused:
                errors[field] = str(refused)
        if errors:
            raise ValidationError(errors)

    def set_api_key(self, key: str) -> None:
        self.api_key_encrypted = crypto.encrypt(key) if key else ""

    def api_key(self) -> str:
        """The key from the named environment variable, else the stored one, else empty.

        Raises EndpointRefused for a forbidden variable or base URL, even with no key of its own:
        the model's client would otherwise fall back to a key of the server's environment.
        """
        model_endpoints.check_key_env(self.api_key_env)
        model_endpoints.check_base_url(self.base_url)
        if self.api_key_env and os.environ.get(self.api_key_env):
            return os.environ[self.api_key_env]
        return crypto.decrypt(self.api_key_encrypted) if self.api_key_encrypted else ""


class PromptVersionQuerySet(models.QuerySet):
    def active(self) -> "PromptVersionQuerySet":
        return self.filter(is_active=True)


class PromptVersion(models.Model):
    """The system prompt (and chat model) of an answer style; every change is a new version."""

    chat_type = models.CharField(max_length=20, choices=ChatType.choices)
    system_prompt = models.TextField()
    model_config = models.ForeignKey(
        ChatModelConfig,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        help_text="Empty: the CHAT_MODEL setting (or extractive answers when that is empty too).",
    )
    note = models.CharField(max_length=200, blank=True, help_text="What changed, for the record.")
    is_active = models.BooleanField(default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PromptVersionQuerySet.as_manager()

    class Meta:
        ordering = ["chat_type", "-created_at", "-id"]
        constraints = [
            # Answering looks up the one active version of a chat type.
            models.UniqueConstraint(
                fields=["chat_type"], condition=models.Q(is_active=True), name="prompt_one_active_per_chat_type"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_chat_type_display()} v{self.pk}{' (active)' if self.is_active else ''}"


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

    def submitted(self, *, owner, submission_id) -> "MessageQuerySet":
        """The owner's message stored from this form submission, if any."""
        return self.filter(conversation__owner=owner, submission_id=submission_id)


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
    prompt_version = models.ForeignKey(PromptVersion, on_delete=models.PROTECT, null=True, blank=True)
    model_name = models.CharField(max_length=200, blank=True, help_text="Empty for extractive answers.")
    prompt_tokens = models.PositiveIntegerField(null=True, blank=True)
    completion_tokens = models.PositiveIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True, help_text="Retrieval plus answering.")
    error = models.TextField(blank=True, help_text="Why the answer failed, in words its owner can act on.")
    error_detail = models.TextField(
        blank=True, help_text="For staff: the exception behind the error (never shown to the owner)."
    )
    flagged = models.BooleanField(default=False, help_text="Marked by a moderator for attention.")
    hidden = models.BooleanField(default=False, help_text="Hidden from its owner by a moderator.")
    expected_source = models.CharField(
        max_length=500, blank=True, help_text="Filled by a moderator: the document that should have answered."
    )
    feedback = models.SmallIntegerField(choices=Feedback.choices, null=True, blank=True)
    feedback_comment = models.TextField(blank=True)
    feedback_at = models.DateTimeField(null=True, blank=True)
    request_id = models.CharField(
        max_length=64, blank=True, help_text="Id of the request that last answered it: search the logs for it."
    )
    submission_id = models.UUIDField(
        null=True,
        blank=True,
        editable=False,
        help_text="Sent with the question form, so a resubmission is not stored twice.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    answer_started_at = models.DateTimeField(
        default=timezone.now, null=True, blank=True, editable=False, help_text="When the last answer was begun."
    )
    answered_at = models.DateTimeField(null=True, blank=True)

    objects = MessageQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        permissions = [
            # The staff insight page (insight/) reads every user's messages in aggregate.
            ("view_insight", "Can view the insight page"),
        ]
        indexes = [
            # A conversation's messages in order: WHERE conversation_id = ? ORDER BY created_at.
            models.Index(fields=["conversation", "created_at"], name="message_conversation_order"),
            # Admin and moderation: recent messages, newest first.
            models.Index(fields=["-created_at"], name="message_recent"),
            # From a log line to its message: WHERE request_id = ? (admin search).
            models.Index(fields=["request_id"], name="message_request_id"),
        ]
        constraints = [
            # A double click or a browser retry sends the same submission id: store it once.
            models.UniqueConstraint(fields=["submission_id"], name="message_unique_submission"),
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

    @property
    def is_stalled(self) -> bool:
        """Still waiting long after any answer would have ended: its worker died (killed, restarted).

        Errors and timeouts are recorded as failures; only a process that vanished leaves this.
        """
        if self.status != MessageStatus.PENDING or self.answer_started_at is None:
            return False
        return timezone.now() - self.answer_started_at > timedelta(seconds=settings.ANSWER_STALL_SECONDS)

    def passages(self) -> list["CitedPassage"]:
        """The numbered passages the answer was given, as they read then: the one way to read them."""
        return [CitedPassage.from_stored(item) for item in self.context_used]

    def passage(self, number: int) -> "CitedPassage | None":
        """The passage cited as [number], if the answer was given one with that number."""
        return next((passage for passage in self.passages() if passage.n == number), None)


@dataclass(frozen=True)
class CitedPassage(RetrievedChunk):
    """A passage given to an answer, cited as [n]: a retrieved chunk as it read at answer time.

    Stored in ``Message.context_used`` so it survives re-imports and deletions of its document
    (its chunk and document ids may then name rows that no longer exist).
    """

    n: int = dataclasses.field(kw_only=True)  # after RetrievedChunk's fields with defaults

    # What callers outside the app (exports, ``ask --json``) are given: no ids, no text.
    SUMMARY = ("n", "path", "page", "title", "heading", "collection", "score", "similarity")

    @classmethod
    def from_stored(cls, item: dict) -> "CitedPassage":
        return cls(**{field.name: item.get(field.name) for field in fields(cls)})

    def summary(self) -> dict:
        return {name: getattr(self, name) for name in self.SUMMARY}


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
