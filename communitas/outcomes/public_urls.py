from django.urls import path

from communitas.outcomes import public_views

app_name = "outcomes_public"
urlpatterns = [
    path("<str:token>/", public_views.assessment_form, name="form"),
    path("<str:token>/save", public_views.assessment_autosave, name="autosave"),
    path("<str:token>/done", public_views.assessment_done, name="done"),
]
