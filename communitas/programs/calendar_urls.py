"""The public iCalendar feed, mounted at /calendar/: the secret token is the only credential."""

from django.urls import path

from communitas.programs import calendar_views

app_name = "calendar"
urlpatterns = [
    path("<str:token>.ics", calendar_views.calendar_feed, name="feed"),
]
