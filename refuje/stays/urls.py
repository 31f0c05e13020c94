from django.urls import URLPattern, URLResolver, path

from . import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("hotels/<slug:hotel>/stays/", views.StayCollectionView.as_view(), name="stay-list"),
    path("hotels/<slug:hotel>/stays/<int:stay_id>/", views.StayDetailView.as_view(), name="stay-detail"),
    path(
        "hotels/<slug:hotel>/concierge-settings/",
        views.HotelConciergeSettingsView.as_view(),
        name="hotel-concierge-settings",
    ),
    path("guest/stays/current/", views.GuestCurrentStayView.as_view(), name="guest-stay-current"),
    path("guest/stays/self-check-in/", views.GuestSelfCheckInView.as_view(), name="guest-stay-self-check-in"),
]
