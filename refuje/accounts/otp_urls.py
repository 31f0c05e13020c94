from django.urls import URLPattern, URLResolver, path

from .otp_views import OtpSendView, OtpVerifyView, PhoneVerifyView

urlpatterns: list[URLPattern | URLResolver] = [
    path("otp/send/", OtpSendView.as_view(), name="otp-send"),
    path("otp/verify/", OtpVerifyView.as_view(), name="otp-verify"),
    path("phone/verify/", PhoneVerifyView.as_view(), name="phone-verify"),
]
