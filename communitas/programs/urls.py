from django.urls import path

from communitas.programs import calendar_views, session_views, views

app_name = "programs"
E = "<int:program_id>/enrollments/<int:enrollment_id>/"
urlpatterns = [
    path("", views.program_list, name="list"),
    path("consents/", views.consent_documents, name="consent_documents"),
    path("new/", views.program_new, name="new"),
    path("<int:program_id>/", views.program_detail, name="detail"),
    path("<int:program_id>/edit/", views.program_edit, name="edit"),
    path("<int:program_id>/invite/", views.program_invite, name="invite"),
    path("<int:program_id>/settings/", views.program_settings, name="settings"),
    path("<int:program_id>/roster/", views.roster, name="roster"),
    path(E, views.enrollment_detail, name="enrollment"),
    path(E + "decide/", views.enrollment_decide, name="decide"),
    path(E + "measure/", views.enrollment_measure, name="measure"),
    path(E + "document/", views.enrollment_document, name="document"),
    path(E + "status/", views.enrollment_status, name="status"),
    path(E + "withdraw/", views.consent_withdraw, name="withdraw"),
    path("<int:program_id>/retreats/new/", session_views.retreat_new, name="retreat_new"),
    path("<int:program_id>/retreats/<int:retreat_id>/", session_views.retreat_detail, name="retreat"),
    path("<int:program_id>/retreats/<int:retreat_id>/enroll/", session_views.retreat_enroll, name="retreat_enroll"),
    path("<int:program_id>/retreats/<int:retreat_id>/circles/", session_views.circle_new, name="circle_new"),
    path("<int:program_id>/circles/<int:circle_id>/", session_views.circle_detail, name="circle"),
    path("<int:program_id>/sessions/new/", session_views.session_new, name="session_new"),
    path("<int:program_id>/sessions/<int:session_id>/", session_views.session_detail, name="session"),
    path(
        "<int:program_id>/sessions/<int:session_id>/<str:action>/", session_views.session_action, name="session_action"
    ),
]
urlpatterns += [
    path("calendar/", calendar_views.calendar_week, name="calendar"),
    path("calendar/feeds/", calendar_views.calendar_feeds, name="calendar_feeds"),
    path("calendar/feeds/<int:feed_id>/revoke/", calendar_views.calendar_feed_revoke, name="calendar_feed_revoke"),
]
