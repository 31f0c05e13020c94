"""Phone-first admin for people and their one-time codes."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth import password_validation
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm as DjangoUserChangeForm
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from refuje.common.admin import AuditedModelAdmin, ReadOnlyModelAdmin, search_by_phone

from .models import OTPCode, User
from .phone import normalize_phone


class PhoneFormField(forms.CharField):
    """Takes a phone number the way people type it and cleans it to E.164."""

    def __init__(self, **kwargs: Any) -> None:
        # Longer than E.164 on purpose: "00966 50 123 4567" is valid input before normalising.
        kwargs.setdefault("max_length", 32)
        kwargs.setdefault("label", _("phone number"))
        kwargs.setdefault(
            "help_text", _("Any form works: +966 50 123 4567, 0501234567, 00966501234567, or another country's number.")
        )
        super().__init__(**kwargs)

    def clean(self, value: Any) -> str:
        return normalize_phone(super().clean(value))


class EmailCleanMixin(forms.ModelForm):
    """No e-mail is NULL (never ""), and addresses are unique ignoring case."""

    instance: User

    def clean_email(self) -> str | None:
        email = (self.cleaned_data.get("email") or "").strip().lower()
        if not email:
            return None
        if User.objects.filter(email__iexact=email).exclude(pk=self.instance.pk).exists():
            raise ValidationError(_("Another user already has this e-mail address."), code="duplicate_email")
        return email


class UserAddForm(EmailCleanMixin):
    phone_number = PhoneFormField()
    password1 = forms.CharField(
        label=_("Password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("Optional. Leave both password fields blank for someone who signs in with one-time codes only."),
    )
    password2 = forms.CharField(
        label=_("Password confirmation"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("Enter the same password again."),
    )

    class Meta:
        model = User
        fields = ("phone_number", "full_name", "email", "user_type", "preferred_language")

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if (cleaned.get("password1") or cleaned.get("password2")) and cleaned.get("password1") != cleaned.get(
            "password2"
        ):
            self.add_error("password2", ValidationError(_("The two passwords differ."), code="password_mismatch"))
        return cleaned

    def _post_clean(self) -> None:
        super()._post_clean()  # type: ignore[misc]
        # Validated against the instance so the similarity check sees the phone and name.
        password = self.cleaned_data.get("password2")
        if password and not self.has_error("password2"):
            try:
                password_validation.validate_password(password, self.instance)
            except ValidationError as error:
                self.add_error("password2", error)

    def save(self, commit: bool = True) -> User:
        user: User = super().save(commit=False)
        password = self.cleaned_data.get("password1")
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        if commit:
            user.save()
            self.save_m2m()
        return user


class UserChangeForm(EmailCleanMixin, DjangoUserChangeForm):
    phone_number = PhoneFormField()

    class Meta:
        model = User
        fields = (
            "phone_number",
            "password",
            "full_name",
            "email",
            "user_type",
            "preferred_language",
            "is_active",
            "is_staff",
            "is_superuser",
            "groups",
            "user_permissions",
        )


@admin.register(User)
class UserAdmin(AuditedModelAdmin, DjangoUserAdmin):
    form = UserChangeForm
    add_form = UserAddForm
    # Django's add template talks about usernames; the plain change form fits a phone-first add.
    add_form_template = None
    list_display = ("phone_number", "full_name", "email", "user_type", "is_active")
    list_filter = ("user_type", "is_active", "is_staff", "is_superuser", "preferred_language")
    search_fields = ("phone_number", "email", "full_name")
    ordering = ("phone_number",)
    readonly_fields = ("phone_verified_at", "last_login", "date_joined")
    fieldsets = (
        (None, {"fields": ("phone_number", "password")}),
        (
            _("Profile"),
            {"fields": ("full_name", "email", "user_type", "preferred_language", "phone_verified_at")},
        ),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "phone_number",
                    "full_name",
                    "email",
                    "user_type",
                    "preferred_language",
                    "password1",
                    "password2",
                ),
            },
        ),
    )

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[User], search_term: str
    ) -> tuple[QuerySet[User], bool]:
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        return search_by_phone(queryset, results, search_term, "phone_number"), may_have_duplicates


@admin.register(OTPCode)
class OTPCodeAdmin(ReadOnlyModelAdmin):
    # code_hash stays out of every page: with the key, the hash of a 6-digit code is quickly reversed.
    exclude = ("code_hash",)
    list_display = (
        "phone_number",
        "purpose",
        "channel",
        "hotel",
        "attempts",
        "is_used",
        "delivery_failed",
        "sms_fallback_sent",
        "expires_at",
        "created_at",
    )
    list_filter = ("purpose", "channel", "is_used", "delivery_failed", "sms_fallback_sent")
    list_select_related = ("hotel",)
    search_fields = ("phone_number", "provider_message_id")
    ordering = ("-created_at",)
    date_hierarchy = "created_at"

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[OTPCode], search_term: str
    ) -> tuple[QuerySet[OTPCode], bool]:
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        return search_by_phone(queryset, results, search_term, "phone_number"), may_have_duplicates
