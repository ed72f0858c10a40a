from django.urls import path

from communitas.participants import record_views, views

app_name = "participants"
urlpatterns = [
    path("", views.participant_list, name="list"),
    path("new/", views.participant_create, name="create"),
    path("<int:participant_id>/", views.participant_detail, name="detail"),
    path("<int:participant_id>/edit/", views.participant_edit, name="edit"),
    path("<int:participant_id>/archive/", views.participant_archive, name="archive"),
    path("<int:participant_id>/support/", views.support_person_add, name="support_add"),
    path("<int:participant_id>/support/<int:person_id>/", views.support_person_edit, name="support_edit"),
    path("<int:participant_id>/support/<int:person_id>/remove/", views.support_person_remove, name="support_remove"),
    path("record-requests/", record_views.record_requests, name="record_requests"),
    path("<int:participant_id>/records/", record_views.participant_records, name="records"),
    path("<int:participant_id>/records/requests/", record_views.record_request_add, name="record_request_add"),
    path(
        "<int:participant_id>/records/requests/<int:request_id>/decide/",
        record_views.record_request_decide,
        name="record_request_decide",
    ),
    path(
        "<int:participant_id>/records/requests/<int:request_id>/destroy/",
        record_views.record_destroy,
        name="record_destroy",
    ),
]
