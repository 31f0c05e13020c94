"""Output shapes of a signed-in person, shared by every sign-in path (OTP, password, refresh)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from refuje.hotels.models import HotelMembership

from .models import User


class UserSerializer(serializers.ModelSerializer[User]):
    class Meta:
        model = User
        fields = ["id", "phone_number", "email", "full_name", "user_type", "preferred_language", "phone_verified_at"]
        read_only_fields = fields


class MembershipSummarySerializer(serializers.ModelSerializer[HotelMembership]):
    hotel: serializers.SlugRelatedField[HotelMembership] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )
    hotel_name = serializers.CharField(source="hotel.name", read_only=True)
    departments: serializers.PrimaryKeyRelatedField[HotelMembership] = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True
    )

    class Meta:
        model = HotelMembership
        fields = ["id", "hotel", "hotel_name", "role", "departments"]
        read_only_fields = fields


class SignedInSerializer(serializers.Serializer[dict[str, Any]]):
    user = UserSerializer()
    memberships = MembershipSummarySerializer(many=True)


def signed_in_payload(user: User) -> dict[str, Any]:
    memberships = (
        HotelMembership.objects.filter(user=user, is_active=True, hotel__is_active=True)
        .select_related("hotel")
        .prefetch_related("departments")
    )
    return dict(SignedInSerializer({"user": user, "memberships": memberships}).data)
