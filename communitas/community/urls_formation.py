"""Group-formation pages (under /community/)."""

from django.urls import path

from communitas.community import formation_views as views

urlpatterns = [
    path("retreats/<int:retreat_id>/formation/", views.formation_page, name="formation"),
    path(
        "retreats/<int:retreat_id>/formation/people/<int:participant_id>/",
        views.matching_profile,
        name="matching_profile",
    ),
    path("formation/runs/<int:run_id>/", views.formation_run, name="formation_run"),
    path("formation/runs/<int:run_id>/rerun/", views.formation_rerun, name="formation_rerun"),
    path("formation/runs/<int:run_id>/apply/", views.formation_apply, name="formation_apply"),
]
