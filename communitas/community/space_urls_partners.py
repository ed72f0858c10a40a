"""Participant pages for partners (under /c/<token>/)."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
