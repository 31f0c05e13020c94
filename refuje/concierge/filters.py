"""Filters of the staff request board (django-filter); bad values are 400 field errors."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import CreatedVia, RequestPriority, RequestStatus, ServiceRequest

MAX_ID = 2**63 - 1


class IdFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField


class ServiceRequestFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(
        choices=RequestStatus.choices, help_text=_("One or more statuses (repeat the parameter).")
    )
    department = IdFilter(field_name="department_id", min_value=1, max_value=MAX_ID)
    priority = django_filters.MultipleChoiceFilter(choices=RequestPriority.choices)
    created_via = django_filters.ChoiceFilter(choices=CreatedVia.choices)
    after_hours = django_filters.BooleanFilter(help_text=_("Created outside the department's working hours."))
    overdue = django_filters.BooleanFilter(
        method="filter_overdue", help_text=_("Still new and past its response deadline.")
    )
    escalated = django_filters.BooleanFilter(method="filter_escalated", help_text=_("Escalated at least once."))
    created = django_filters.IsoDateTimeFromToRangeFilter(
        field_name="created_at", help_text=_("created_after / created_before, ISO 8601 with offset.")
    )
    search = django_filters.CharFilter(
        method="filter_search", max_length=100, help_text=_("Words in the description, a room, or a guest's phone.")
    )
    ordering = django_filters.OrderingFilter(
        fields=(("created_at", "created_at"), ("response_due_at", "response_due_at")),
        help_text=_("created_at or response_due_at, with - for descending (default -created_at)."),
    )

    class Meta:
        model = ServiceRequest
        fields: list[str] = []

    def filter_overdue(
        self, queryset: QuerySet[ServiceRequest], name: str, value: bool | None
    ) -> QuerySet[ServiceRequest]:
        if value is None:
            return queryset
        overdue = Q(status=RequestStatus.NEW, response_due_at__lt=timezone.now())
        return queryset.filter(overdue) if value else queryset.exclude(overdue)

    def filter_escalated(
        self, queryset: QuerySet[ServiceRequest], name: str, value: bool | None
    ) -> QuerySet[ServiceRequest]:
        if value is None:
            return queryset
        return queryset.filter(escalation_level__gt=0) if value else queryset.filter(escalation_level=0)

    def filter_search(self, queryset: QuerySet[ServiceRequest], name: str, value: str) -> QuerySet[ServiceRequest]:
        term = value.strip()
        if not term:
            return queryset
        return queryset.filter(
            Q(description__icontains=term) | Q(stay__room__iexact=term) | Q(stay__guest__phone_number__contains=term)
        )
