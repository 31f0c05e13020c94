from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    name = "refuje.reviews"
    label = "reviews"
