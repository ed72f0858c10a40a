"""Staff pages for community partners, referrals, contributions and approvals (under /community/)."""

from django.urls import path

from communitas.community import partner_views as views

urlpatterns = [
    path("partners/", views.partner_list, name="partners"),
    path("partners/new/", views.partner_new, name="partner_new"),
    path("partners/<int:partner_id>/", views.partner_detail, name="partner"),
    path("partners/<int:partner_id>/edit/", views.partner_edit, name="partner_edit"),
    path("partners/<int:partner_id>/contributions/", views.contribution_new, name="contribution_new"),
    path("contributions/", views.contribution_list, name="contributions"),
    path("contributions/<int:contribution_id>/", views.contribution_detail, name="contribution"),
    path("approvals/<int:approval_id>/revoke/", views.approval_revoke, name="approval_revoke"),
    path("participants/<int:participant_id>/referrals/", views.referrals, name="referrals"),
    path("referrals/<int:referral_id>/status/", views.referral_status, name="referral_status"),
]
