from django.urls import path

from communitas.programs import views

app_name = "programs"
E = "<int:program_id>/enrollments/<int:enrollment_id>/"
urlpatterns = [
    path("", views.program_list, name="list"),
    path("consents/", views.consent_documents, name="consent_documents"),
    path("<int:program_id>/", views.program_detail, name="detail"),
    path("<int:program_id>/invite/", views.program_invite, name="invite"),
    path("<int:program_id>/settings/", views.program_settings, name="settings"),
    path("<int:program_id>/roster/", views.roster, name="roster"),
    path(E, views.enrollment_detail, name="enrollment"),
    path(E + "decide/", views.enrollment_decide, name="decide"),
    path(E + "measure/", views.enrollment_measure, name="measure"),
    path(E + "document/", views.enrollment_document, name="document"),
    path(E + "status/", views.enrollment_status, name="status"),
    path(E + "withdraw/", views.consent_withdraw, name="withdraw"),
]
