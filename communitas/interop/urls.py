from django.urls import path

from communitas.interop import views

app_name = "reports"
urlpatterns = [
    path("", views.reports_home, name="home"),
    path("sb303/<str:quarter>/", views.sb303, name="sb303"),
]
