from django.urls import path

from communitas.safety import views

app_name = "safety"
urlpatterns = [
    path("alerts/", views.alert_list, name="alerts"),
    path("alerts/<int:alert_id>/", views.alert_detail, name="alert"),
]
