from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _


def api_not_found(request: HttpRequest, rest: str) -> JsonResponse:
    """Unknown /api/ paths answer JSON, never an HTML error page."""
    return JsonResponse({"detail": _("No such API endpoint."), "code": "not_found"}, status=404)
