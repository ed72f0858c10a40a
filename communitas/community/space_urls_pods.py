"""Participant pages for pods (under /c/<token>/)."""

from django.urls import path

from communitas.community import pod_views as views

T = "<str:token>/pods/"
urlpatterns = [
    path(T + "preferences/", views.space_pod_preferences, name="pod_preferences"),
    path(T + "<int:pod_id>/", views.space_pod, name="pod"),
    path(T + "<int:pod_id>/respond/", views.space_pod_respond, name="pod_respond"),
    path(T + "<int:pod_id>/check-ins/", views.space_pod_check_in, name="pod_check_in"),
]
