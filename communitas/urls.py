from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.urls import include, path

from communitas.api import api
from communitas.core import ops_views
from communitas.navigation import home
from communitas.outcomes.public_views import robots


def healthz(request):
    """For the proxy and monitoring: 200 while the database answers, 503 while it does not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return JsonResponse({"status": "unavailable", "database": "down"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


urlpatterns = [
    path("", home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("ops/tasks/", ops_views.task_list, name="ops_tasks"),
    path("accounts/", include("communitas.accounts.urls")),
    path("participants/", include("communitas.participants.urls")),
    path("a/", include("communitas.outcomes.public_urls")),
    path("join/", include("communitas.programs.journey_urls")),
    path("programs/", include("communitas.programs.urls")),
    path("calendar/", include("communitas.programs.calendar_urls")),
    path("outcomes/", include("communitas.outcomes.urls")),
    path("safety/", include("communitas.safety.urls")),
    path("facilitators/", include("communitas.facilitators.urls")),
    path("compliance/", include("communitas.compliance.urls")),
    path("community/", include("communitas.community.urls")),
    path("c/", include("communitas.community.space_urls")),
    path("insights/", include("communitas.insights.urls")),
    path("reports/", include("communitas.interop.urls")),
    path("robots.txt", robots),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", api.urls),
]
