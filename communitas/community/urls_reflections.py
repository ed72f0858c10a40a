"""Staff pages for reflections and community-space links (under /community/)."""

from django.urls import path

from communitas.community import reflection_views, space_views

P = "participants/<int:participant_id>/"
urlpatterns = [
    path(P + "reflections/", reflection_views.participant_reflections, name="participant_reflections"),
    path(P + "space/", space_views.space_links, name="space_links"),
    path(P + "space/<int:link_id>/revoke/", space_views.space_link_revoke, name="space_link_revoke"),
]
