from django.urls import URLPattern, URLResolver, path

from . import views

# Included under api/v1/ before the public app, so the public path is spelled out in full here.
urlpatterns: list[URLPattern | URLResolver] = [
    path("guest/requests/<int:request_id>/review/", views.RequestReviewView.as_view(), name="guest-request-review"),
    path("bookings/<int:booking_id>/review/", views.BookingReviewView.as_view(), name="booking-review"),
    path("hotels/<slug:hotel>/reviews/", views.StaffReviewListView.as_view(), name="staff-review-list"),
    path(
        "hotels/<slug:hotel>/reviews/<int:review_id>/moderate/",
        views.StaffReviewModerateView.as_view(),
        name="staff-review-moderate",
    ),
    path(
        "public/hotels/<slug:hotel>/experiences/<int:experience_id>/reviews/",
        views.PublicExperienceReviewsView.as_view(),
        name="public-experience-reviews",
    ),
]
