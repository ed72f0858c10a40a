"""Participant pages for their own records (under /c/<token>/records/)."""

from django.urls import path

from communitas.community import space_views as views

T = "<str:token>/records/"
urlpatterns = [
    path(T, views.space_records, name="records"),
    path(T + "download.json", views.space_records_download, {"fmt": "json"}, name="records_json"),
    path(T + "download.pdf", views.space_records_download, {"fmt": "pdf"}, name="records_pdf"),
    path(T + "corrections/", views.space_records_correction, name="records_correction"),
    path(T + "destruction/", views.space_records_destruction, name="records_destruction"),
]
