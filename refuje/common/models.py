from django.db import models
from django.utils.translation import gettext_lazy as _


class RateLimitCounter(models.Model):
    """Fixed-window counters in the database: the fallback when Redis is absent or down."""

    key = models.CharField(max_length=200)
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "window_start"], name="common_ratelimit_window")]

    def __str__(self) -> str:
        return f"{self.key}@{self.window_start:%H:%M}={self.count}"


class JobHeartbeat(models.Model):
    """The last run of one periodic job (keyed by its Celery task name), written by
    `refuje.common.jobs.recorded_job`: admin and the hotel health page show whether it is alive."""

    name = models.CharField(_("job"), max_length=200, primary_key=True)
    last_started_at = models.DateTimeField(_("last started"), null=True, blank=True)
    last_finished_at = models.DateTimeField(_("last finished"), null=True, blank=True)
    last_ok = models.BooleanField(_("last run succeeded"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    last_duration_ms = models.PositiveIntegerField(_("last duration (ms)"), null=True, blank=True)
    last_result = models.JSONField(_("last result"), default=dict, blank=True)
    runs = models.PositiveIntegerField(_("finished runs"), default=0)
    failures = models.PositiveIntegerField(_("failed runs"), default=0)

    class Meta:
        verbose_name = _("job heartbeat")
        verbose_name_plural = _("job heartbeats")

    def __str__(self) -> str:
        return self.name
