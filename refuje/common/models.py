from django.db import models


class RateLimitCounter(models.Model):
    """Fixed-window counters in the database: the fallback when Redis is absent or down."""

    key = models.CharField(max_length=200)
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "window_start"], name="common_ratelimit_window")]

    def __str__(self) -> str:
        return f"{self.key}@{self.window_start:%H:%M}={self.count}"
