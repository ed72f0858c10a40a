from django.urls import path

from communitas.compliance import views

app_name = "compliance"
urlpatterns = [
    path("rule-packs/", views.rule_packs, name="rule_packs"),
    path("rule-packs/new/", views.rule_pack_add, name="rule_pack_add"),
    path("rule-packs/<int:pack_id>/", views.rule_pack_detail, name="rule_pack"),
    path("legal-status/", views.legal_status, name="legal_status"),
    path("legal-status/new/", views.legal_status_add, name="legal_status_add"),
    path("participants/<int:participant_id>/client-data/", views.client_data, name="client_data"),
    path("reporting-settings/", views.reporting_settings, name="reporting_settings"),
]
