"""Integration-circle series, group agreements and the circle waitlist.

Meetings are programs sessions of kind ``circle_meeting`` planned through
``programs.session_services.session_plan`` (staff = the circle's facilitators, expected people =
its members), so attendance and facilitator notes are the session's. A series may run past the
retreat's end: the community part of a program continues after it. Cancelling uses the session's
``cancelled`` status.

Capacity is ``Circle.capacity``. Joining, leaving and answering an offer lock the circle row, so
concurrent requests are served one at a time. When a place frees, the first waiting person is
*offered* it; the place is held for them until staff confirm they join (or record that they
declined, which offers it to the next). Staff confirm rather than the system promoting
automatically because a place in a circle is a conversation (is the person still available,
still ready, is the group still right for them) and the person may have moved on. Membership
itself is written by ``programs.session_services.circle_set_members``.

Every write is atomic and audited with ids and codes only.
"""

from __future__ import annotations

import datetime
import hashlib
import zoneinfo
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from communitas.accounts.models import User
from communitas.community.circle_selectors import JOINABLE, LIVE_WAITLIST
from communitas.community.models import (
    AgreementAcceptance,
    CircleAgreement,
    CircleSeries,
    CircleWaitlistEntry,
    SeriesMeeting,
)
from communitas.community.models.circles import MAX_MEETINGS
from communitas.core.audit import audit_record
from communitas.participants.models import Participant
from communitas.programs import session_services
from communitas.programs.models import Attendance, Circle, Enrollment, Session

STEP_DAYS = {CircleSeries.Cadence.WEEKLY: 7, CircleSeries.Cadence.BIWEEKLY: 14}
MAX_AGREEMENT = 8000
ONLINE_LOCATION = "Online"  # what sessions and calendar feeds show instead of the link
https_url = URLValidator(schemes=["https"])


class CircleRefused(ValueError):
    """A request the rules refuse; nothing was saved."""


def _audit(action: str, actor, obj, **data) -> None:
    audit_record(action=action, actor=actor, organization_id=obj.organization_id, obj=obj, data=data)


# --- the schedule (pure) ----------------------------------------------------------------------


def meeting_dates(
    *,
    starts_on: datetime.date,
    weekday: int,
    cadence: str,
    ends_on: datetime.date | None = None,
    count: int | None = None,
    limit: int = MAX_MEETINGS,
) -> list[datetime.date]:
    """The dates of a series: the first ``weekday`` on or after ``starts_on``, then every one or
    two weeks, up to ``count`` meetings or through ``ends_on``; never more than ``limit``."""
    if (ends_on is None) == (count is None):
        raise ValueError("give an end date or a number of meetings")
    first = starts_on + datetime.timedelta(days=(weekday - starts_on.weekday()) % 7)
    step = datetime.timedelta(days=STEP_DAYS[CircleSeries.Cadence(cadence)])
    total = count if count is not None else max(0, (ends_on - first).days // step.days + 1)  # type: ignore[operator]
    if total > limit:
        raise CircleRefused(f"a series plans at most {limit} meetings at a time")
    return [first + i * step for i in range(total)]


def meeting_window(
    day: datetime.date, start_time: datetime.time, minutes: int, time_zone: str
) -> tuple[datetime.datetime, datetime.datetime]:
    """Start and end of a meeting held at local ``start_time`` in ``time_zone`` on ``day``. The
    wall-clock time stays the same across daylight-saving changes; a time that does not exist
    that day (skipped by the clock change) is read with the offset in force before the change."""
    start = datetime.datetime.combine(day, start_time, tzinfo=zoneinfo.ZoneInfo(time_zone))
    return start, start + datetime.timedelta(minutes=minutes)


# --- series -----------------------------------------------------------------------------------


def _members(circle: Circle) -> list[Participant]:
    return list(circle.members.filter(archived_at__isnull=True).order_by("id"))


def _check_place(mode: str, meeting_link: str, location: str) -> tuple[str, str]:
    if mode == CircleSeries.Mode.ONLINE:
        try:
            https_url(meeting_link)
        except ValidationError:
            raise CircleRefused("an online series needs its meeting link (https://...)") from None
        return meeting_link, ""
    if mode == CircleSeries.Mode.IN_PERSON:
        if not location.strip():
            raise CircleRefused("an in-person series needs its location")
        return "", location.strip()
    raise CircleRefused(f"unknown mode {mode!r}")


def _plan_meetings(series: CircleSeries, actor: User, numbered: list[tuple[int, datetime.date]]) -> list[Session]:
    """Plan each (number, date) as a circle meeting; the staffing validation refuses the whole
    request (nothing saved) if any meeting fails it."""
    circle = series.circle
    staff = list(circle.facilitators.filter(active=True))
    if not staff:
        raise CircleRefused("assign the circle's facilitators before planning its meetings")
    people = _members(circle)
    now = timezone.now()
    sessions = []
    for number, day in numbered:
        start, end = meeting_window(day, series.start_time, series.duration_minutes, series.time_zone)
        if start <= now:
            raise CircleRefused("meetings cannot be planned in the past")
        session = session_services.session_plan(
            program=circle.program,
            actor=actor,
            kind=Session.Kind.CIRCLE_MEETING,
            title=series.title,
            planned_start=start,
            planned_end=end,
            facilitators=staff,
            participants=people,
            circle=circle,
            location=series.location if series.mode == CircleSeries.Mode.IN_PERSON else ONLINE_LOCATION,
        )
        SeriesMeeting.objects.create(
            organization_id=series.organization_id, series=series, session=session, number=number
        )
        sessions.append(session)
    return sessions


@transaction.atomic
def series_create(
    *,
    circle: Circle,
    actor: User,
    title: str,
    mode: str,
    weekday: int,
    start_time: datetime.time,
    duration_minutes: int,
    time_zone: str,
    starts_on: datetime.date,
    cadence: str = CircleSeries.Cadence.WEEKLY,
    ends_on: datetime.date | None = None,
    meeting_count: int | None = None,
    meeting_link: str = "",
    location: str = "",
) -> CircleSeries:
    """A recurring series for ``circle`` and all its meetings. Its dates may run past the end of
    the circle's retreat."""
    link, place = _check_place(mode, meeting_link.strip(), location)
    series = CircleSeries(
        organization_id=circle.organization_id,
        circle=circle,
        title=title.strip(),
        cadence=cadence,
        mode=mode,
        meeting_link=link,
        location=place,
        weekday=weekday,
        start_time=start_time,
        duration_minutes=duration_minutes,
        time_zone=time_zone,
        starts_on=starts_on,
        ends_on=ends_on,
        meeting_count=meeting_count,
        created_by=actor,
    )
    if (ends_on is None) == (meeting_count is None):
        raise CircleRefused("give an end date or a number of meetings, not both")
    try:
        series.full_clean()
    except ValidationError as exc:
        raise CircleRefused("; ".join(exc.messages)) from None
    dates = meeting_dates(starts_on=starts_on, weekday=weekday, cadence=cadence, ends_on=ends_on, count=meeting_count)
    if not dates:
        raise CircleRefused("no meeting falls between those dates")
    series.save()
    sessions = _plan_meetings(series, actor, list(enumerate(dates, start=1)))
    _audit(
        "community.circle_series.created",
        actor,
        series,
        circle=circle.pk,
        cadence=cadence,
        mode=mode,
        meetings=len(sessions),
        past_retreat_end=bool(circle.retreat_id and dates[-1] > circle.retreat.ends_on),  # type: ignore[union-attr]
    )
    return series


@transaction.atomic
def series_extend(
    *, series: CircleSeries, actor: User, meetings: int | None = None, until: datetime.date | None = None
) -> list[Session]:
    """Add ``meetings`` more meetings, or meetings through ``until``, after the last one.
    The new meetings take the circle's current members and facilitators."""
    locked = CircleSeries.objects.select_for_update().select_related("circle__program").get(pk=series.pk)
    if locked.cancelled_at is not None:
        raise CircleRefused("this series was cancelled")
    if (meetings is None) == (until is None):
        raise CircleRefused("give a number of meetings or a new end date")
    done = locked.meetings.aggregate(n=Max("number"))["n"] or 0
    if meetings is not None:
        if not 1 <= meetings <= MAX_MEETINGS:
            raise CircleRefused(f"extend by 1 to {MAX_MEETINGS} meetings")
        dates = meeting_dates(
            starts_on=locked.starts_on,
            weekday=locked.weekday,
            cadence=locked.cadence,
            count=done + meetings,
            limit=done + MAX_MEETINGS,
        )
        locked.meeting_count, locked.ends_on = done + meetings, None
    else:
        dates = meeting_dates(
            starts_on=locked.starts_on,
            weekday=locked.weekday,
            cadence=locked.cadence,
            ends_on=until,
            limit=done + MAX_MEETINGS,
        )
        locked.meeting_count, locked.ends_on = None, until
    new = list(enumerate(dates, start=1))[done:]
    if not new:
        raise CircleRefused("no new meeting falls before that date")
    locked.save(update_fields=["meeting_count", "ends_on", "updated_at"])
    sessions = _plan_meetings(locked, actor, new)
    _audit("community.circle_series.extended", actor, locked, added=len(sessions), meetings=done + len(sessions))
    return sessions


def _cancel(session: Session, actor: User) -> None:
    session.status = Session.Status.CANCELLED
    session.save(update_fields=["status", "updated_at"])
    _audit("community.circle_meeting.cancelled", actor, session, circle=session.circle_id)


@transaction.atomic
def meeting_cancel(*, session: Session, actor: User) -> Session:
    """Cancel one planned circle meeting (its session keeps its attendance and notes)."""
    locked = Session.objects.select_for_update().get(pk=session.pk)
    if locked.kind != Session.Kind.CIRCLE_MEETING:
        raise CircleRefused("only circle meetings are cancelled here")
    if locked.status != Session.Status.PLANNED:
        raise CircleRefused(f"the meeting is {locked.status}")
    _cancel(locked, actor)
    return locked


@transaction.atomic
def series_cancel(*, series: CircleSeries, actor: User) -> int:
    """Cancel the rest of a series: every planned meeting that has not started yet."""
    locked = CircleSeries.objects.select_for_update().get(pk=series.pk)
    if locked.cancelled_at is not None:
        raise CircleRefused("this series was cancelled already")
    rest = Session.objects.select_for_update().filter(
        series_meeting__series=locked, status=Session.Status.PLANNED, planned_start__gt=timezone.now()
    )
    count = 0
    for session in rest:
        _cancel(session, actor)
        count += 1
    locked.cancelled_at = timezone.now()
    locked.save(update_fields=["cancelled_at", "updated_at"])
    _audit("community.circle_series.cancelled", actor, locked, meetings_cancelled=count)
    return count


# --- group agreements -------------------------------------------------------------------------


def agreement_current(circle: Circle) -> CircleAgreement | None:
    return CircleAgreement.objects.filter(circle=circle).order_by("-version").first()


@transaction.atomic
def agreement_publish(*, circle: Circle, actor: User, body: str) -> CircleAgreement:
    """Publish a new version of the circle's agreement; members accept it again."""
    locked = Circle.objects.select_for_update().get(pk=circle.pk)
    text = body.strip()
    if not text or len(text) > MAX_AGREEMENT:
        raise CircleRefused(f"an agreement has 1 to {MAX_AGREEMENT} characters")
    digest = hashlib.sha256(text.encode()).hexdigest()
    current = agreement_current(locked)
    if current is not None and current.body_hash == digest:
        raise CircleRefused("this is the current agreement already")
    agreement = CircleAgreement.objects.create(
        organization_id=locked.organization_id,
        circle=locked,
        version=(current.version + 1) if current else 1,
        body=text,
        body_hash=digest,
        published_by=actor,
    )
    _audit("community.circle_agreement.published", actor, agreement, circle=locked.pk, version=agreement.version)
    return agreement


@transaction.atomic
def agreement_accept(
    *, agreement: CircleAgreement, participant: Participant, actor: User | None = None
) -> AgreementAcceptance:
    """Record that a member accepts the current agreement: by themselves in their community space
    (``actor`` None) or told to staff in person (``actor`` is who recorded it)."""
    current = agreement_current(agreement.circle)
    if current is None or current.pk != agreement.pk:
        raise CircleRefused("a newer version of this agreement has been published")
    if not agreement.circle.members.filter(pk=participant.pk).exists():
        raise CircleRefused("only the circle's members accept its agreement")
    existing = AgreementAcceptance.objects.filter(agreement=agreement, participant=participant).first()
    if existing is not None:
        return existing
    acceptance = AgreementAcceptance.objects.create(
        organization_id=agreement.organization_id,
        agreement=agreement,
        participant=participant,
        accepted_at=timezone.now(),
        via=AgreementAcceptance.Via.SPACE if actor is None else AgreementAcceptance.Via.IN_PERSON,
        recorded_by=actor,
        body_hash=agreement.body_hash,
    )
    _audit(
        "community.circle_agreement.accepted",
        actor,
        acceptance,
        circle=agreement.circle_id,
        version=agreement.version,
        participant=participant.pseudonym,
        via=acceptance.via,
    )
    return acceptance


# --- joining, leaving and the waitlist --------------------------------------------------------


@dataclass(frozen=True)
class JoinResult:
    joined: bool
    entry: CircleWaitlistEntry | None = None  # set when the person is waiting or was offered a place
    position: int | None = None  # 1 = next to be offered a place


def _lock(circle: Circle) -> Circle:
    return Circle.objects.select_for_update().select_related("program").get(pk=circle.pk)


def _held(circle: Circle) -> int:
    offered = CircleWaitlistEntry.objects.filter(circle=circle, status=CircleWaitlistEntry.Status.OFFERED)
    return circle.members.count() + offered.count()


def waitlist_position(entry: CircleWaitlistEntry) -> int | None:
    if entry.status != CircleWaitlistEntry.Status.WAITING:
        return None
    # Entries are created under the circle's row lock, so their ids follow the order of joining.
    ahead = CircleWaitlistEntry.objects.filter(
        circle_id=entry.circle_id, status=CircleWaitlistEntry.Status.WAITING, pk__lte=entry.pk
    )
    return ahead.count()


def _future_meetings(circle: Circle):
    return Session.objects.filter(
        circle=circle,
        kind=Session.Kind.CIRCLE_MEETING,
        status=Session.Status.PLANNED,
        planned_start__gt=timezone.now(),
        series_meeting__isnull=False,
    )


def _set_membership(circle: Circle, actor: User, participant: Participant, *, member: bool) -> None:
    """Write the member list through programs (its capacity and organization checks), and keep
    the series' future meetings expecting exactly the members."""
    people = [p for p in circle.members.all() if p.pk != participant.pk] + ([participant] if member else [])
    session_services.circle_set_members(
        circle=circle, actor=actor, participants=people, facilitators=list(circle.facilitators.all())
    )
    meetings = _future_meetings(circle)
    if member:
        Attendance.objects.bulk_create(
            [
                Attendance(organization_id=circle.organization_id, session=s, participant=participant)
                for s in meetings.exclude(attendance__participant=participant)
            ]
        )
    else:
        Attendance.objects.filter(
            session__in=meetings, participant=participant, status=Attendance.Status.EXPECTED
        ).delete()


def _check_joinable(circle: Circle, participant: Participant) -> None:
    if participant.organization_id != circle.organization_id or participant.archived_at is not None:
        raise CircleRefused("this person cannot join this circle")
    enrolled = Enrollment.objects.filter(program_id=circle.program_id, participant=participant, status__in=JOINABLE)
    if not enrolled.exists():
        raise CircleRefused("only people enrolled in the circle's program join its circles")


@transaction.atomic
def circle_join(*, circle: Circle, participant: Participant, actor: User) -> JoinResult:
    """Add someone to a circle, or to its waitlist when every place is taken or held."""
    locked = _lock(circle)
    _check_joinable(locked, participant)
    if locked.members.filter(pk=participant.pk).exists():
        return JoinResult(joined=True)
    live = CircleWaitlistEntry.objects.filter(circle=locked, participant=participant, status__in=LIVE_WAITLIST).first()
    if live is not None:
        return JoinResult(joined=False, entry=live, position=waitlist_position(live))
    if _held(locked) < locked.capacity:
        _set_membership(locked, actor, participant, member=True)
        _audit("community.circle.joined", actor, locked, participant=participant.pseudonym)
        return JoinResult(joined=True)
    entry = CircleWaitlistEntry.objects.create(
        organization_id=locked.organization_id, circle=locked, participant=participant
    )
    position = waitlist_position(entry)
    _audit("community.circle_waitlist.added", actor, entry, circle=locked.pk, position=position)
    return JoinResult(joined=False, entry=entry, position=position)


def _offer_free_places(circle: Circle, actor: User) -> list[CircleWaitlistEntry]:
    offers = []
    free = circle.capacity - _held(circle)
    waiting = CircleWaitlistEntry.objects.filter(circle=circle, status=CircleWaitlistEntry.Status.WAITING).order_by(
        "id"
    )
    for entry in waiting[: max(free, 0)]:
        entry.status, entry.offered_at = CircleWaitlistEntry.Status.OFFERED, timezone.now()
        entry.save(update_fields=["status", "offered_at", "updated_at"])
        _audit("community.circle_waitlist.offered", actor, entry, circle=circle.pk)
        offers.append(entry)
    return offers


@transaction.atomic
def circle_leave(*, circle: Circle, participant: Participant, actor: User) -> list[CircleWaitlistEntry]:
    """Take someone out of a circle; the freed place is offered to the first waiting person.
    Returns the offers made."""
    locked = _lock(circle)
    if not locked.members.filter(pk=participant.pk).exists():
        raise CircleRefused("this person is not a member of the circle")
    _set_membership(locked, actor, participant, member=False)
    _audit("community.circle.left", actor, locked, participant=participant.pseudonym)
    return _offer_free_places(locked, actor)


@transaction.atomic
def waitlist_offer_free_places(*, circle: Circle, actor: User) -> list[CircleWaitlistEntry]:
    """Offer places that are free (e.g. after the capacity was raised) to the first waiting."""
    return _offer_free_places(_lock(circle), actor)


def _entry(entry: CircleWaitlistEntry, *allowed: str) -> tuple[Circle, CircleWaitlistEntry]:
    circle = _lock(entry.circle)
    locked = CircleWaitlistEntry.objects.select_for_update().get(pk=entry.pk)
    if locked.status not in allowed:
        raise CircleRefused(f"this waitlist entry is {locked.status}")
    return circle, locked


def _resolve(entry: CircleWaitlistEntry, status: str) -> None:
    entry.status, entry.resolved_at = status, timezone.now()
    entry.save(update_fields=["status", "resolved_at", "updated_at"])


@transaction.atomic
def waitlist_confirm(*, entry: CircleWaitlistEntry, actor: User) -> CircleWaitlistEntry:
    """Staff confirm that the person offered a place takes it: they become a member."""
    circle, locked = _entry(entry, CircleWaitlistEntry.Status.OFFERED)
    _check_joinable(circle, locked.participant)
    _resolve(locked, CircleWaitlistEntry.Status.JOINED)  # the held place becomes the membership
    _set_membership(circle, actor, locked.participant, member=True)
    _audit("community.circle_waitlist.confirmed", actor, locked, circle=circle.pk)
    return locked


@transaction.atomic
def waitlist_decline(*, entry: CircleWaitlistEntry, actor: User) -> list[CircleWaitlistEntry]:
    """The person offered a place does not take it; the place goes to the next waiting."""
    circle, locked = _entry(entry, CircleWaitlistEntry.Status.OFFERED)
    _resolve(locked, CircleWaitlistEntry.Status.DECLINED)
    _audit("community.circle_waitlist.declined", actor, locked, circle=circle.pk)
    return _offer_free_places(circle, actor)


@transaction.atomic
def waitlist_withdraw(*, entry: CircleWaitlistEntry, actor: User) -> list[CircleWaitlistEntry]:
    """Take someone off the waitlist (they no longer wait); a held place goes to the next."""
    circle, locked = _entry(entry, CircleWaitlistEntry.Status.WAITING, CircleWaitlistEntry.Status.OFFERED)
    _resolve(locked, CircleWaitlistEntry.Status.WITHDRAWN)
    _audit("community.circle_waitlist.withdrawn", actor, locked, circle=circle.pk)
    return _offer_free_places(circle, actor)
