from django.db import models


class RateLimitCounter(models.Model):
    """Events counted for one key of one rate limit in one fixed window (see ratelimit.py)."""

    scope = models.CharField(max_length=50, help_text="Which limit: ask, signup, …")
    key = models.CharField(max_length=200, help_text="Whom it counts: a user id, an address.")
    window_start = models.DateTimeField()
    expires_at = models.DateTimeField(help_text="When the window ends and the row may be deleted.")
    count = models.PositiveIntegerField()

    class Meta:
        ordering = ["scope", "key", "window_start"]
        constraints = [
            # The conflict target of the counting UPSERT: one row per key and window.
            models.UniqueConstraint(fields=["scope", "key", "window_start"], name="ratelimit_one_per_window"),
            models.CheckConstraint(condition=models.Q(count__gte=1), name="ratelimit_count_positive"),
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("window_start")), name="ratelimit_window_forward"
            ),
        ]
        indexes = [
            # Cleanup: DELETE … WHERE expires_at <= now.
            models.Index(fields=["expires_at"], name="ratelimit_expiry"),
        ]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key} = {self.count} from {self.window_start:%Y-%m-%d %H:%M:%S}"
