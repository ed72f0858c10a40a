"""Staff pages for pods and never-together pairs (under /community/)."""

from django.urls import path

from communitas.community import pod_views as views

R = "retreats/<int:retreat_id>/pods/"
urlpatterns = [
    path("pods/", views.pods_home, name="pods_home"),
    path(R, views.retreat_pods, name="retreat_pods"),
    path(R + "propose/", views.pods_propose, name="pods_propose"),
    path(R + "move/", views.pod_move, name="pod_move"),
    path(R + "send/", views.pods_send, name="pods_send"),
    path("pods/<int:pod_id>/", views.pod_detail, name="pod"),
    path("pods/<int:pod_id>/close/", views.pod_close, name="pod_close"),
    path("never-together/", views.never_together, name="never_together"),
    path("never-together/<int:pair_id>/remove/", views.never_together_remove, name="never_together_remove"),
]
