from django.urls import URLPattern, URLResolver, path

from . import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("push/vapid-public-key/", views.VapidPublicKeyView.as_view(), name="push-vapid-public-key"),
    path("push/subscriptions/", views.SubscriptionView.as_view(), name="push-subscriptions"),
]
