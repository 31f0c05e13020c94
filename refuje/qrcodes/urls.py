from django.urls import URLPattern, URLResolver, path

from . import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("hotels/<slug:hotel>/qr-codes/", views.QRCodeCollectionView.as_view(), name="qr-code-list"),
    path("hotels/<slug:hotel>/qr-codes/sheet.pdf", views.QRCodeSheetView.as_view(), name="qr-code-sheet"),
    path("hotels/<slug:hotel>/qr-codes/<int:qr_code_id>/", views.QRCodeDetailView.as_view(), name="qr-code-detail"),
    path(
        "hotels/<slug:hotel>/qr-codes/<int:qr_code_id>/image.png",
        views.QRCodePngView.as_view(),
        name="qr-code-png",
    ),
    path(
        "hotels/<slug:hotel>/qr-codes/<int:qr_code_id>/image.svg",
        views.QRCodeSvgView.as_view(),
        name="qr-code-svg",
    ),
]
