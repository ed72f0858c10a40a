from django.urls import path

from communitas.safety import ae_views, settings_views, views

app_name = "safety"
urlpatterns = [
    path("alerts/", views.alert_list, name="alerts"),
    path("alerts/<int:alert_id>/", views.alert_detail, name="alert"),
    path("settings/", settings_views.safety_settings, name="settings"),
    path("adverse-events/", ae_views.adverse_event_list, name="adverse_events"),
    path("adverse-events/new/", ae_views.adverse_event_record, name="adverse_event_record"),
    path("adverse-events/<int:event_id>/", ae_views.adverse_event_detail, name="adverse_event"),
    path("adverse-events/<int:event_id>/follow-ups/", ae_views.follow_up_add, name="follow_up_add"),
    path(
        "adverse-events/<int:event_id>/follow-ups/<int:task_id>/done/",
        ae_views.follow_up_complete,
        name="follow_up_complete",
    ),
    path("follow-ups/overdue/", ae_views.follow_ups_overdue, name="follow_ups_overdue"),
]
