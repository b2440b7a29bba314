"""Numbers for the staff insight page: how the service is used and where it falls short."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db import connection
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from conversations.models import Feedback, Message, MessageStatus

GAP_LIMIT = 50


@dataclass
class Insight:
    start: date
    end: date
    questions: int
    per_day: list[tuple[date, int]]
    latency_p50: int | None
    latency_p95: int | None
    error_rate: float | None
    thumbs_up: int
    thumbs_down: int
    tokens_by_model: list[dict]
    nothing_found: list[Message]
    thumbs_down_messages: list[Message]

    @property
    def busiest_day(self) -> int:
        return max((count for _, count in self.per_day), default=0)


def _latency_percentiles(messages) -> tuple[int | None, int | None]:
    sql, params = messages.filter(latency_ms__isnull=False).values("latency_ms").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY latency_ms), "
            f"percentile_disc(0.95) WITHIN GROUP (ORDER BY latency_ms) FROM ({sql}) answered",
            params,
        )
        return cursor.fetchone()


def _every_day(start: date, end: date, counts: dict[date, int]) -> list[tuple[date, int]]:
    days = (end - start).days + 1
    return [(start + timedelta(days=n), counts.get(start + timedelta(days=n), 0)) for n in range(days)]


def insight_for_period(*, start: date, end: date) -> Insight:
    """Usage and quality between two dates, both included (in the site's time zone)."""
    messages = Message.objects.filter(created_at__date__gte=start, created_at__date__lte=end)
    per_day = dict(messages.annotate(day=TruncDate("created_at")).values_list("day").annotate(n=Count("id")))
    finished = messages.exclude(status=MessageStatus.PENDING)
    totals = finished.aggregate(
        count=Count("id"),
        failed=Count("id", filter=Q(status=MessageStatus.FAILED)),
        up=Count("id", filter=Q(feedback=Feedback.UP)),
        down=Count("id", filter=Q(feedback=Feedback.DOWN)),
    )
    p50, p95 = _latency_percentiles(finished)
    tokens = (
        finished.exclude(model_name="")
        .values("model_name")
        .annotate(answers=Count("id"), prompt=Sum("prompt_tokens"), completion=Sum("completion_tokens"))
        .order_by("-answers")
    )
    gaps = finished.select_related("conversation__owner").order_by("-created_at")
    return Insight(
        start=start,
        end=end,
        questions=messages.count(),
        per_day=_every_day(start, end, per_day),
        latency_p50=p50,
        latency_p95=p95,
        error_rate=totals["failed"] / totals["count"] if totals["count"] else None,
        thumbs_up=totals["up"],
        thumbs_down=totals["down"],
        tokens_by_model=list(tokens),
        nothing_found=list(gaps.filter(status=MessageStatus.ANSWERED, context_used=[])[:GAP_LIMIT]),
        thumbs_down_messages=list(gaps.filter(feedback=Feedback.DOWN)[:GAP_LIMIT]),
    )


def default_period(days: int = 30) -> tuple[date, date]:
    today = timezone.localdate()
    return today - timedelta(days=days - 1), today
