"""The pages' limits, applied to API callers: the same question budget, counted in the same table."""

from django.conf import settings

from api.problems import ApiRefusal
from ragchat.ratelimit import RateLimit


def ask_limit() -> RateLimit:
    # The scope the chat pages count in (conversations.views): one budget per user, however they ask.
    return RateLimit("ask", settings.ASK_RATE_LIMIT, settings.ASK_RATE_WINDOW_SECONDS)


def ask_allowed(user) -> None:
    """Count one question of ``user``'s; raise a 429 refusal with Retry-After once the window's are used."""
    limit = ask_limit()
    decision = limit.consume(str(user.pk))
    if not decision.allowed:
        raise ApiRefusal(
            429,
            f"You have asked {limit.limit} questions in {limit.window} seconds, the most this site allows. "
            f"Wait {decision.retry_after} seconds and ask again.",
            headers={"Retry-After": str(decision.retry_after)},
        )
