from django.urls import path

from communitas.interop import export_views, sharing_views, views

app_name = "reports"
urlpatterns = [
    path("", views.reports_home, name="home"),
    path("sb303/<str:quarter>/", views.sb303, name="sb303"),
    path("research/", export_views.research, name="research"),
    path("research/projects", export_views.research_project_create, name="research_project_create"),
    path("redcap/<int:program_id>.zip", export_views.redcap, name="redcap"),
    path("fhir/bundle.json", export_views.fhir, name="fhir"),
    path("fhir/import/", export_views.fhir_upload, name="fhir_import"),
    path("colorado/sessions.csv", export_views.colorado, name="colorado"),
    *sharing_views.urlpatterns,
]
