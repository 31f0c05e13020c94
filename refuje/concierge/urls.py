from django.urls import URLPattern, URLResolver, path

from . import health_views, views

urlpatterns: list[URLPattern | URLResolver] = [
    path("hotels/<slug:hotel>/health/", health_views.HotelHealthView.as_view(), name="hotel-health"),
    path(
        "hotels/<slug:hotel>/departments/<int:department_id>/policy/",
        views.DepartmentPolicyView.as_view(),
        name="department-policy",
    ),
    path("hotels/<slug:hotel>/requests/", views.StaffRequestCollectionView.as_view(), name="staff-request-list"),
    path(
        "hotels/<slug:hotel>/requests/<int:request_id>/",
        views.StaffRequestDetailView.as_view(),
        name="staff-request-detail",
    ),
    path(
        "hotels/<slug:hotel>/requests/<int:request_id>/transition/",
        views.StaffRequestTransitionView.as_view(),
        name="staff-request-transition",
    ),
    path(
        "hotels/<slug:hotel>/requests/<int:request_id>/notes/",
        views.StaffRequestNoteView.as_view(),
        name="staff-request-notes",
    ),
    path("guest/requests/", views.GuestRequestCollectionView.as_view(), name="guest-request-list"),
    path("guest/requests/<int:request_id>/", views.GuestRequestDetailView.as_view(), name="guest-request-detail"),
    path(
        "guest/requests/<int:request_id>/cancel/",
        views.GuestRequestCancelView.as_view(),
        name="guest-request-cancel",
    ),
]
