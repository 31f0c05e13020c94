"""Output of the hotel health page (read-only)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from refuje.common.jobs import JobHealth, JobState

from .health_selectors import EscalationHealth, EscalationState


def _rounded(value: float | None) -> int | None:
    return None if value is None else round(value)


class EscalationHealthSerializer(serializers.Serializer[EscalationHealth]):
    state = serializers.ChoiceField(
        choices=[EscalationState.OK, EscalationState.FAILING, EscalationState.STALE, EscalationState.NEVER_RAN],
        help_text="`ok`; `stale` when the last run is older than `max_age_seconds`; `failing` when it raised; "
        "`never_ran`.",
    )
    healthy = serializers.BooleanField()
    last_run_at = serializers.DateTimeField(allow_null=True, source="heartbeat.last_run_at", default=None)
    age_seconds = serializers.SerializerMethodField()
    max_age_seconds = serializers.IntegerField()
    last_duration_ms = serializers.IntegerField(allow_null=True, source="heartbeat.last_duration_ms", default=None)
    escalated_in_last_run = serializers.IntegerField(allow_null=True, source="heartbeat.escalated_count", default=None)
    last_error = serializers.CharField(source="heartbeat.last_error", default="")

    def get_age_seconds(self, obj: EscalationHealth) -> int | None:
        return _rounded(obj.age_seconds)


class JobHealthSerializer(serializers.Serializer[JobHealth]):
    name = serializers.CharField(source="job.entry", help_text="The entry in the beat schedule.")
    task = serializers.CharField(source="job.task")
    state = serializers.ChoiceField(
        choices=[JobState.OK, JobState.RUNNING, JobState.FAILING, JobState.STALE, JobState.NEVER_RAN],
        help_text="`ok`; `running` (started after its last finish); `failing` (the last run raised); `stale` "
        "(nothing finished for `stale_after_seconds`); `never_ran` (no heartbeat yet).",
    )
    healthy = serializers.BooleanField()
    period_seconds = serializers.SerializerMethodField()
    stale_after_seconds = serializers.SerializerMethodField()
    age_seconds = serializers.SerializerMethodField()
    last_started_at = serializers.DateTimeField(allow_null=True, source="heartbeat.last_started_at", default=None)
    last_finished_at = serializers.DateTimeField(allow_null=True, source="heartbeat.last_finished_at", default=None)
    last_ok = serializers.BooleanField(allow_null=True, source="heartbeat.last_ok", default=None)
    last_duration_ms = serializers.IntegerField(allow_null=True, source="heartbeat.last_duration_ms", default=None)
    last_error = serializers.CharField(source="heartbeat.last_error", default="")
    runs = serializers.IntegerField(source="heartbeat.runs", default=0)
    failures = serializers.IntegerField(source="heartbeat.failures", default=0)

    def get_period_seconds(self, obj: JobHealth) -> int | None:
        return _rounded(obj.job.period_seconds)

    def get_stale_after_seconds(self, obj: JobHealth) -> int | None:
        return _rounded(obj.stale_after_seconds)

    def get_age_seconds(self, obj: JobHealth) -> int | None:
        return _rounded(obj.age_seconds)


class WaitingSerializer(serializers.Serializer[Any]):
    all_departments = serializers.BooleanField(
        help_text="False when the numbers cover only your departments (roles below ADMIN)."
    )
    overdue = serializers.IntegerField(help_text="NEW requests past their response deadline.")
    oldest_due_at = serializers.DateTimeField(allow_null=True, help_text="The earliest missed deadline.")
    escalated_level_1 = serializers.IntegerField(help_text="NEW requests escalated to level 1.")
    escalated_level_2 = serializers.IntegerField(help_text="NEW requests escalated to level 2.")


class HotelHealthSerializer(serializers.Serializer[Any]):
    checked_at = serializers.DateTimeField()
    healthy = serializers.BooleanField(help_text="The escalation job and every other periodic job are healthy.")
    escalation = EscalationHealthSerializer()
    jobs = JobHealthSerializer(many=True)
    waiting = WaitingSerializer()
