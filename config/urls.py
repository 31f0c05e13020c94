from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from refuje.common import health
from refuje.common.views import api_not_found

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/v1/", include("refuje.accounts.urls")),
    path("api/v1/", include("refuje.hotels.urls")),
    path("api/v1/", include("refuje.experiences.urls")),
    path("api/v1/", include("refuje.qrcodes.urls")),
    path("api/v1/", include("refuje.stays.urls")),
    path("api/v1/", include("refuje.concierge.urls")),
    path("api/v1/", include("refuje.insights.urls")),
    path("api/v1/", include("refuje.realtime.urls")),
    path("api/v1/", include("refuje.notifications.urls")),
    path("api/v1/", include("refuje.push.urls")),
    path("api/v1/", include("refuje.bookings.urls")),
    path("api/v1/", include("refuje.payments.urls")),
    path("api/v1/", include("refuje.reviews.urls")),
    path("api/v1/", include("refuje.providers.urls")),
    path("api/v1/public/", include("refuje.public.urls")),
    path("api/<path:rest>", api_not_found),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

handler404 = "refuje.common.views.page_not_found"
handler500 = "refuje.common.views.server_error"
