from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults


def api_not_found(request: HttpRequest, rest: str) -> JsonResponse:
    """Unknown /api/ paths answer JSON, never an HTML error page."""
    return JsonResponse({"detail": _("No such API endpoint."), "code": "not_found"}, status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    """An unexpected failure: JSON under /api/, the plain page elsewhere. Details stay in the log."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"detail": _("Something went wrong on our side. Please try again."), "code": "server_error"}, status=500
        )
    return defaults.server_error(request)
