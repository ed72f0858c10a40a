from django.urls import path

from communitas.outcomes import views

app_name = "outcomes"
urlpatterns = [
    path("", views.outcomes_home, name="home"),
    path("programs/<int:program_id>/", views.program_assessments, name="program"),
    path("programs/<int:program_id>/enrollments/<int:enrollment_id>/anchor/", views.enrollment_anchor, name="anchor"),
    path("participants/<int:participant_id>/", views.participant_outcomes, name="participant"),
    path("assessments/<int:assessment_id>/link/", views.assessment_link, name="link"),
]
