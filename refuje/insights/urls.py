from django.urls import URLPattern, URLResolver, path

from . import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("hotels/<slug:hotel>/stats/", views.HotelStatsView.as_view(), name="hotel-stats"),
]
