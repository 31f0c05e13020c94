from django.urls import URLPattern, URLResolver, path

from . import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("payments/<int:payment_id>/verify/", views.PaymentVerifyView.as_view(), name="payment-verify"),
    path(
        "hotels/<slug:hotel>/payments/<int:payment_id>/capture/",
        views.PaymentCaptureView.as_view(),
        name="payment-capture",
    ),
    path(
        "hotels/<slug:hotel>/payments/<int:payment_id>/refund/",
        views.PaymentRefundView.as_view(),
        name="payment-refund",
    ),
    path("hotels/<slug:hotel>/payments/<int:payment_id>/void/", views.PaymentVoidView.as_view(), name="payment-void"),
    path("webhooks/moyasar/", views.MoyasarWebhookView.as_view(), name="webhook-moyasar"),
]
