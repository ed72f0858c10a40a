from django.urls import path

from communitas.insights import analysis_views, dashboard_views, views

app_name = "insights"
urlpatterns = [
    path("", views.research_home, name="home"),
    path("programs/<int:program_id>/", dashboard_views.dashboard, name="dashboard"),
    path("programs/<int:program_id>/analyses", analysis_views.analysis_request, name="analysis_request"),
    path("analyses/<int:run_id>/panel", analysis_views.analysis_panel, name="analysis_panel"),
    path("programs/<int:program_id>/dataset.csv", views.dataset_csv, name="dataset"),
    path("programs/<int:program_id>/dataset.parquet", views.dataset_parquet, name="dataset_parquet"),
    path("programs/<int:program_id>/dictionary.csv", views.dictionary, name="dictionary"),
]
