from django.urls import path

from communitas.insights import views

app_name = "insights"
urlpatterns = [
    path("", views.research_home, name="home"),
    path("programs/<int:program_id>/dataset.csv", views.dataset_csv, name="dataset"),
    path("programs/<int:program_id>/dictionary.csv", views.dictionary, name="dictionary"),
]
