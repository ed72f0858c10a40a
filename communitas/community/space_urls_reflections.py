"""Participant pages for the space's home and reflections (under /c/<token>/)."""

from django.urls import path

from communitas.community import reflection_views, space_views

T = "<str:token>/"
urlpatterns = [
    path(T, space_views.home, name="home"),
    path(T + "reflections/", reflection_views.space_reflections, name="reflections"),
    path(
        T + "reflections/<int:reflection_id>/visibility/",
        reflection_views.space_reflection_visibility,
        name="reflection_visibility",
    ),
    path(
        T + "reflections/<int:reflection_id>/withdraw/",
        reflection_views.space_reflection_withdraw,
        name="reflection_withdraw",
    ),
]
