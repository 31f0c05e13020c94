from django.urls import URLPattern, URLResolver, path

from . import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("qr/<str:token>/", views.PublicQRCodeView.as_view(), name="public-qr"),
    path("hotels/<slug:hotel>/", views.PublicHotelView.as_view(), name="public-hotel"),
]
