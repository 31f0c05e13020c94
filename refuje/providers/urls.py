from django.urls import URLPattern, URLResolver, path

from . import gupshup_webhook_views

urlpatterns: list[URLPattern | URLResolver] = [
    path("webhooks/gupshup/", gupshup_webhook_views.GupshupWebhookView.as_view(), name="webhook-gupshup"),
    path(
        "webhooks/gupshup/<str:token>/",
        gupshup_webhook_views.GupshupTokenWebhookView.as_view(),
        name="webhook-gupshup-token",
    ),
]
