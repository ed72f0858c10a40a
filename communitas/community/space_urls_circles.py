"""Participant pages for circles (under /c/<token>/)."""

from django.urls import path

from communitas.community import circle_views

urlpatterns: list = [
    path("<str:token>/agreements/", circle_views.space_agreements, name="agreements"),
]
