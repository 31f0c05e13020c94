from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt  # nothing to protect: an unknown path must answer JSON 404, not the CSRF page
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


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Paths the URL resolver cannot even match (e.g. with control characters) under /api/ get JSON."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": _("No such API endpoint."), "code": "not_found"}, status=404)
    return defaults.page_not_found(request, exception)
