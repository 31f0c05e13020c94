from django.urls import URLPattern, URLResolver, path

from . import views

# Included under api/v1/ before refuje.public.urls, so the public availability route lives here.
urlpatterns: list[URLPattern | URLResolver] = [
    path(
        "public/hotels/<slug:hotel>/experiences/<int:experience_id>/availability/",
        views.AvailabilityView.as_view(),
        name="public-experience-availability",
    ),
    path(
        "hotels/<slug:hotel>/experiences/<int:experience_id>/booking-policy/",
        views.BookingPolicyView.as_view(),
        name="experience-booking-policy",
    ),
    path(
        "hotels/<slug:hotel>/staff/<int:member_id>/schedule/",
        views.StaffScheduleView.as_view(),
        name="staff-schedule",
    ),
    path(
        "hotels/<slug:hotel>/staff/<int:member_id>/time-off/",
        views.StaffTimeOffCollectionView.as_view(),
        name="staff-time-off-list",
    ),
    path(
        "hotels/<slug:hotel>/staff/<int:member_id>/time-off/<int:time_off_id>/",
        views.StaffTimeOffDetailView.as_view(),
        name="staff-time-off-detail",
    ),
    path("hotels/<slug:hotel>/bookings/", views.StaffBookingCollectionView.as_view(), name="staff-booking-list"),
    path(
        "hotels/<slug:hotel>/bookings/<int:booking_id>/transition/",
        views.StaffBookingTransitionView.as_view(),
        name="staff-booking-transition",
    ),
    path("bookings/", views.BookingCollectionView.as_view(), name="booking-list"),
    path("bookings/<int:booking_id>/", views.BookingDetailView.as_view(), name="booking-detail"),
    path(
        "bookings/<int:booking_id>/cancellation-quote/",
        views.BookingQuoteView.as_view(),
        name="booking-cancellation-quote",
    ),
    path("bookings/<int:booking_id>/cancel/", views.BookingCancelView.as_view(), name="booking-cancel"),
]
