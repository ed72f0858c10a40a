from django.urls import path

from communitas.facilitators import views

app_name = "facilitators"
urlpatterns = [
    path("", views.facilitator_list, name="list"),
    path("new/", views.facilitator_create, name="create"),
    path("<int:profile_id>/", views.facilitator_detail, name="detail"),
    path("<int:profile_id>/edit/", views.facilitator_edit, name="edit"),
    path("<int:profile_id>/credentials/new/", views.credential_add, name="credential_add"),
    path("<int:profile_id>/credentials/<int:credential_id>/verify/", views.credential_verify, name="credential_verify"),
    path("<int:profile_id>/trainings/new/", views.training_add, name="training_add"),
    path("<int:profile_id>/competencies/new/", views.competency_add, name="competency_add"),
    path("<int:profile_id>/supervision/new/", views.supervision_add, name="supervision_add"),
]
