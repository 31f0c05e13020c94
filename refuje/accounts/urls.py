from django.urls import URLPattern, URLResolver, include, path

urlpatterns: list[URLPattern | URLResolver] = [
    path("auth/", include("refuje.accounts.auth_urls")),
    path("auth/", include("refuje.accounts.otp_urls")),
]
