"""Staff pages for integration-circle series, group agreements and waitlists (under /community/)."""

from django.urls import path

from communitas.community import circle_views as views

C = "circles/<int:circle_id>/"
urlpatterns = [
    path("circles/", views.circle_list, name="circles"),
    path(C, views.circle_page, name="circle"),
    path(C + "series/new/", views.series_new, name="series_new"),
    path(C + "series/<int:series_id>/extend/", views.series_extend, name="series_extend"),
    path(C + "series/<int:series_id>/cancel/", views.series_cancel, name="series_cancel"),
    path(C + "meetings/<int:session_id>/cancel/", views.meeting_cancel, name="meeting_cancel"),
    path(C + "agreement/", views.agreement_publish, name="agreement_publish"),
    path(C + "agreement/record/", views.agreement_record, name="agreement_record"),
    path(C + "waitlist/", views.waitlist_page, name="waitlist"),
    path(C + "waitlist/join/", views.circle_join, name="circle_join"),
    path(C + "waitlist/leave/", views.circle_leave, name="circle_leave"),
    path(C + "waitlist/offer/", views.waitlist_offer, name="waitlist_offer"),
    path(C + "waitlist/<int:entry_id>/<str:action>/", views.waitlist_action, name="waitlist_action"),
]
