from django.urls import URLPattern, URLResolver, path

from . import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("hotels/<slug:hotel>/requests/stream/", views.staff_request_stream, name="staff-request-stream"),
    path("guest/requests/stream/", views.guest_request_stream, name="guest-request-stream"),
]
