from django.urls import path

from communitas.safety import settings_views, views

app_name = "safety"
urlpatterns = [
    path("alerts/", views.alert_list, name="alerts"),
    path("alerts/<int:alert_id>/", views.alert_detail, name="alert"),
    path("settings/", settings_views.safety_settings, name="settings"),
]
