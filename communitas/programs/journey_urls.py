from django.urls import path

from communitas.programs import journey_views as views

app_name = "journey"
urlpatterns = [
    path("r/<str:key>/", views.register, name="register"),
    path("<str:token>/", views.start, name="start"),
    path("<str:token>/consent/", views.consent, name="consent"),
    path("<str:token>/intake/", views.intake, name="intake"),
    path("<str:token>/intake/save", views.intake_autosave, name="intake_save"),
    path("<str:token>/done/", views.done, name="done"),
    path("<str:token>/client-data/", views.client_data, name="client_data"),
    path("<str:token>/withdraw/", views.withdraw, name="withdraw"),
]
