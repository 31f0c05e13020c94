from django.urls import URLPattern, URLResolver, path

from . import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("hotels/", views.HotelCollectionView.as_view(), name="hotel-list"),
    path("hotels/<slug:hotel>/", views.HotelDetailView.as_view(), name="hotel-detail"),
    path("hotels/<slug:hotel>/members/", views.MemberCollectionView.as_view(), name="hotel-member-list"),
    path(
        "hotels/<slug:hotel>/members/<int:member_id>/",
        views.MemberDetailView.as_view(),
        name="hotel-member-detail",
    ),
    path("hotels/<slug:hotel>/departments/", views.DepartmentCollectionView.as_view(), name="hotel-department-list"),
    path(
        "hotels/<slug:hotel>/departments/<int:department_id>/",
        views.DepartmentDetailView.as_view(),
        name="hotel-department-detail",
    ),
]
