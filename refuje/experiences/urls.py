from django.urls import URLPattern, URLResolver, path

from . import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("hotels/<slug:hotel>/experiences/", views.ExperienceCollectionView.as_view(), name="experience-list"),
    path(
        "hotels/<slug:hotel>/experiences/<int:experience_id>/",
        views.ExperienceDetailView.as_view(),
        name="experience-detail",
    ),
    path(
        "hotels/<slug:hotel>/experiences/<int:experience_id>/images/",
        views.ExperienceImageCollectionView.as_view(),
        name="experience-image-list",
    ),
    path(
        "hotels/<slug:hotel>/experiences/<int:experience_id>/images/<int:image_id>/",
        views.ExperienceImageDetailView.as_view(),
        name="experience-image-detail",
    ),
]
