"""The community parts of a participant's record (``participants.records``): circles, group
agreements and waitlists, pods and the check-ins they logged, their preferences, referrals,
their own reflections and the links to their space. Importing this module also registers the
clinical parts (``records_clinical``).

Nothing here shows another participant: a pod or circle appears by its name, never with its
other members; "asked to be in the same circle as" appears as a count; never-together pairs are
left out (they name someone else).

What a destruction keeps: circle memberships, agreement acceptances, waitlist entries, pod
memberships and check-in dates (the other members' pod history), referral statuses (partner
counts); their reflections and pod preferences are deleted, check-in and referral notes and the
self-described gender are blanked, and every link to the space is revoked.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communitas.community import records_clinical  # noqa: F401  (registers the clinical parts)
from communitas.community.models import (
    AgreementAcceptance,
    CircleWaitlistEntry,
    CommunityLink,
    MatchingProfile,
    PodCheckIn,
    PodMember,
    PodPreference,
    Referral,
    Reflection,
)
from communitas.participants.models import Participant
from communitas.participants.records import RecordSection, Rows, register, row


def _circles(participant: Participant) -> Rows:
    rows: Rows = [
        row(circle=c.name, what=str(_("Member")), on=None, status="")
        for c in participant.circles.order_by("name", "pk")
    ]
    acceptances = AgreementAcceptance.objects.filter(participant=participant).select_related("agreement__circle")
    rows += [
        row(
            circle=a.agreement.circle.name,
            what=str(_("Accepted the group agreement, version %(v)s") % {"v": a.agreement.version}),
            on=a.accepted_at,
            status=a.get_via_display(),
        )
        for a in acceptances.order_by("accepted_at", "pk")
    ]
    waits = CircleWaitlistEntry.objects.filter(participant=participant).select_related("circle")
    rows += [
        row(circle=w.circle.name, what=str(_("Waitlist")), on=w.created_at, status=w.get_status_display())
        for w in waits.order_by("created_at", "pk")
    ]
    return rows


register(
    RecordSection(
        key="community.circles",
        title=_("Circles, group agreements and waitlists"),
        fields=(("circle", _("Circle")), ("what", _("What")), ("on", _("When")), ("status", _("Status or how"))),
        collect=_circles,
        order=60,
        keeps=_("Everything (names of circles, dates and statuses only)."),
    )
)


def _pods(participant: Participant) -> Rows:
    members = PodMember.objects.filter(participant=participant).select_related("pod")
    return [
        row(
            pod=m.pod.name,
            kind=m.pod.get_kind_display(),
            pod_status=m.pod.get_status_display(),
            your_answer=m.get_response_display(),
            answered_at=m.responded_at,
        )
        for m in members.order_by("created_at", "pk")
    ]


register(
    RecordSection(
        key="community.pods",
        title=_("Peer-support pods"),
        fields=(
            ("pod", _("Pod")),
            ("kind", _("Kind")),
            ("pod_status", _("Pod status")),
            ("your_answer", _("Your answer")),
            ("answered_at", _("Answered")),
        ),
        collect=_pods,
        order=61,
        keeps=_("Everything (pod names, statuses and dates only)."),
    )
)


def _check_ins(participant: Participant) -> Rows:
    check_ins = PodCheckIn.objects.filter(author=participant).select_related("pod")
    return [
        row(pod=c.pod.name, on=c.on, mode=c.get_mode_display(), mood=c.mood, note=c.note, shared=c.note_shared)
        for c in check_ins.order_by("on", "pk")
    ]


def _erase_check_ins(participant: Participant) -> int:
    check_ins = list(PodCheckIn.objects.filter(author=participant))
    for check_in in check_ins:
        check_in.note, check_in.note_shared = "", False
        check_in.save(update_fields=["note", "note_shared", "updated_at"])
    return len(check_ins)


register(
    RecordSection(
        key="community.pod_check_ins",
        title=_("Pod check-ins you logged"),
        fields=(
            ("pod", _("Pod")),
            ("on", _("Date")),
            ("mode", _("How")),
            ("mood", _("Mood (0-10)")),
            ("note", _("Note")),
            ("shared", _("Note shared with your pod")),
        ),
        collect=_check_ins,
        order=62,
        erase=_erase_check_ins,
        keeps=_("Date, how and mood (the pod's history); the notes are blanked."),
    )
)


def _preferences(participant: Participant) -> Rows:
    rows: Rows = []
    pref = PodPreference.objects.filter(participant=participant).first()
    if pref is not None:
        rows.append(
            row(
                what=str(_("Pod preferences")),
                languages=pref.languages,
                time_zone=pref.time_zone,
                area=pref.area,
                availability=pref.availability,
                size=pref.get_size_display(),
                veteran=pref.veteran,
                prefer_veterans=pref.prefer_veterans,
            )
        )
    profile = MatchingProfile.objects.filter(participant=participant).first()
    if profile is not None:
        rows.append(
            row(
                what=str(_("Facts used to form balanced circles")),
                gender=profile.get_gender_display() if profile.gender else "",
                together_with=profile.together_with.count(),
            )
        )
    return rows


def _erase_preferences(participant: Participant) -> int:
    deleted, _counts = PodPreference.objects.filter(participant=participant).delete()
    for profile in MatchingProfile.objects.filter(participant=participant):
        profile.gender = ""
        profile.save(update_fields=["gender", "updated_at"])
        profile.together_with.clear()
        deleted += 1
    return deleted


register(
    RecordSection(
        key="community.preferences",
        title=_("Your preferences for pods and circles"),
        fields=(
            ("what", _("What")),
            ("languages", _("Languages")),
            ("time_zone", _("Time zone")),
            ("area", _("Town or area")),
            ("availability", _("Times that suit you")),
            ("size", _("Pod size")),
            ("veteran", _("Veteran")),
            ("prefer_veterans", _("Prefer other veterans")),
            ("gender", _("Gender")),
            ("together_with", _("Number of people you asked to be with")),
        ),
        collect=_preferences,
        order=63,
        erase=_erase_preferences,
        keeps=_("Nothing: pod preferences are deleted, gender and requested companions cleared."),
    )
)


def _referrals(participant: Participant) -> Rows:
    referrals = Referral.objects.filter(participant=participant).select_related("partner")
    return [
        row(
            partner=r.partner.name,
            status=r.get_status_display(),
            made_at=r.made_at,
            completed_at=r.completed_at,
            note=r.note,
        )
        for r in referrals.order_by("created_at", "pk")
    ]


def _erase_referrals(participant: Participant) -> int:
    referrals = list(Referral.objects.filter(participant=participant))
    for referral in referrals:
        referral.note = ""
        referral.save(update_fields=["note", "updated_at"])
    return len(referrals)


register(
    RecordSection(
        key="community.referrals",
        title=_("Referrals to community partners"),
        fields=(
            ("partner", _("Partner")),
            ("status", _("Status")),
            ("made_at", _("Made")),
            ("completed_at", _("Completed")),
            ("note", _("Note")),
        ),
        collect=_referrals,
        order=64,
        erase=_erase_referrals,
        keeps=_("Partner, status and dates; the notes are blanked."),
    )
)


def _reflections(participant: Participant) -> Rows:
    reflections = Reflection.objects.filter(participant=participant).order_by("created_at", "pk")
    return [
        row(
            written_at=r.created_at,
            reflection=r.body,
            who_can_read_it=r.get_visibility_display(),
            withdrawn_at=r.withdrawn_at,
        )
        for r in reflections
    ]


def _erase_reflections(participant: Participant) -> int:
    deleted, _counts = Reflection.objects.filter(participant=participant).delete()
    return deleted


register(
    RecordSection(
        key="community.reflections",
        title=_("Your reflections"),
        fields=(
            ("written_at", _("Written")),
            ("reflection", _("Reflection")),
            ("who_can_read_it", _("Who can read it")),
            ("withdrawn_at", _("Withdrawn")),
        ),
        collect=_reflections,
        order=65,
        erase=_erase_reflections,
        keeps=_("Nothing: reflections are deleted."),
    )
)


def _links(participant: Participant) -> Rows:
    links = CommunityLink.objects.filter(participant=participant).order_by("created_at", "pk")
    return [row(created_at=k.created_at, expires_at=k.expires_at, revoked_at=k.revoked_at) for k in links]


def _revoke_links(participant: Participant) -> int:
    return CommunityLink.objects.filter(participant=participant, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


register(
    RecordSection(
        key="community.links",
        title=_("Links to your community space"),
        fields=(("created_at", _("Created")), ("expires_at", _("Expires")), ("revoked_at", _("Revoked"))),
        collect=_links,
        order=66,
        erase=_revoke_links,
        keeps=_("Dates only; every link is revoked."),
    )
)
