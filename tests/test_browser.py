"""Headless-Chromium journeys against a live server (Debian's /usr/bin/chromium).

Skipped when Chromium is absent, unless COMMUNITAS_REQUIRE_BROWSER=1 (CI), where it fails.
Journeys open their browser contexts through ``new_context`` (``page`` is one desktop page from
it); when a journey fails, every page still open in them is saved as a full-page PNG in
test-artifacts/ (``browser_helpers.screenshot_open_pages``), so a journey leaves its contexts open
for the fixture to close.
"""

import os

import pytest

from communitas.participants.models import Participant
from tests.browser_helpers import (
    ARGS,
    CHROMIUM,
    DESKTOP,
    PHONE,
    TIMEOUT_MS,
    chromium_available,
    screenshot_open_pages,
)
from tests.browser_helpers import sign_in as _sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def browser():
    if not chromium_available():
        if os.environ.get("COMMUNITAS_REQUIRE_BROWSER") == "1":
            pytest.fail(f"Chromium not found at {CHROMIUM}")
        pytest.skip("Chromium not installed")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # playwright's sync API runs an event loop
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_context(browser, request):
    """Open a browser context (``new_context(**PHONE)``; desktop when called bare) that this
    fixture closes after the test, once it has screenshotted its open pages if the test failed
    (``rep_call`` is set by the report hook in conftest.py)."""
    opened = []

    def open_context(**options):
        context = browser.new_context(**(options or DESKTOP))
        context.set_default_timeout(TIMEOUT_MS)
        opened.append(context)
        return context

    yield open_context
    call = getattr(request.node, "rep_call", None)
    try:
        if call is not None and call.failed:
            screenshot_open_pages(request.node.name, opened)
    finally:
        for context in opened:
            context.close()


@pytest.fixture
def page(new_context):
    return new_context(**DESKTOP).new_page()


def test_it_signs_in_switches_to_spanish_and_edits_a_participant(page, live_server, alice, participant):
    _sign_in(page, live_server, "alice@cascadia.example")
    page.wait_for_selector("h1:has-text('Participants')")

    page.select_option("#lang", "es")  # the form submits itself on change
    page.wait_for_selector("h1:has-text('Participantes')")
    assert page.locator("html").get_attribute("lang") == "es"

    page.click("text=Marisol Quispe")
    page.wait_for_selector("text=Personas de apoyo")
    page.click("a:has-text('Editar')")
    page.fill("input[name=pronouns]", "ella/elle")
    page.fill("textarea[name=accessibility_needs]", "Intérprete de quechua")
    page.click("button:has-text('Guardar')")
    page.wait_for_selector("text=Cambios guardados.")

    fresh = Participant.objects.get(pk=participant.pk)
    assert (fresh.pronouns, fresh.accessibility_needs) == ("ella/elle", "Intérprete de quechua")
    assert page.locator("text=ella/elle").count() >= 1


def test_it_searches_as_you_type(page, live_server, alice, participant):
    _sign_in(page, live_server, "alice@cascadia.example")
    page.wait_for_selector("h1:has-text('Participants')")
    page.fill("#q", "quis")
    page.wait_for_selector("#participant-table:has-text('Marisol Quispe')")
    page.fill("#q", "nobody-like-this")
    page.wait_for_selector("#participant-table:has-text('No participant matches')")


def test_it_works_on_a_phone(new_context, live_server, alice, participant):
    tab = new_context(**PHONE).new_page()
    _sign_in(tab, live_server, "alice@cascadia.example")
    tab.wait_for_selector("text=Marisol Quispe")
    width = tab.evaluate("document.documentElement.scrollWidth")
    assert width <= 400, f"page scrolls sideways on a phone ({width}px)"


def test_it_runs_without_csp_violations(page, live_server, alice, participant):
    violations = []
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    _sign_in(page, live_server, "alice@cascadia.example")
    page.wait_for_selector("h1:has-text('Participants')")
    page.goto(f"{live_server.url}/participants/{participant.pk}/")
    page.wait_for_selector("h2")
    page.select_option("#lang", "es")
    page.wait_for_selector("text=Personas de apoyo")
    assert violations == []


def test_a_participant_answers_phq9_in_spanish_on_a_phone(new_context, live_server, org, participant, alice):
    from communitas.outcomes.models import Response
    from communitas.safety.models import SafetyAlert
    from tests.outcomes_helpers import baseline_link

    _assessment, _link, token = baseline_link(org, participant)
    tab = new_context(**PHONE).new_page()
    tab.goto(f"{live_server.url}/a/{token}/")
    tab.wait_for_selector("text=Poco interés o placer en hacer cosas")
    for item in range(1, 5):  # the first four, then the phone "drops" the page
        tab.evaluate("document.getElementById('autosave').textContent = ''")
        tab.locator(f"#q-{item} label.option", has_text="Varios días").click()
        tab.wait_for_selector("#autosave:has-text('Guardado')")
    tab.reload()
    for item in range(1, 5):
        assert tab.locator(f"#q-{item} input[value='1']").is_checked(), f"item {item} lost on reload"
    for item in range(5, 9):
        tab.locator(f"#q-{item} label.option", has_text="Ningún día").click()
    tab.evaluate("document.getElementById('autosave').textContent = ''")
    tab.locator("#q-9 label.option", has_text="Más de la mitad de los días").click()
    tab.wait_for_selector("#autosave:has-text('Guardado')")
    replay = tab.evaluate(
        "() => { const f = document.querySelector('form.questionnaire'); "
        "return {action: f.getAttribute('action'), body: new URLSearchParams(new FormData(f)).toString()}; }"
    )
    tab.locator("button[value=submit]").dblclick()
    tab.wait_for_selector("text=No tiene que pasar por esto a solas")
    assert tab.locator(".crisis .contact", has_text="988").count() == 1
    status = tab.evaluate(
        "([url, body]) => fetch(url, {method: 'POST', body: body + '&action=submit', headers: "
        "{'Content-Type': 'application/x-www-form-urlencoded'}}).then(r => r.status)",
        [replay["action"], replay["body"]],
    )
    assert status == 200  # a late second submit lands on the thank-you page, storing nothing new
    width = tab.evaluate("document.documentElement.scrollWidth")
    assert width <= 400, f"page scrolls sideways on a phone ({width}px)"
    response = Response.objects.get(assessment__participant=participant)
    assert Response.objects.count() == 1
    assert (response.score.total, response.score.flags) == (6, ["phq9_item9_positive"])
    assert response.language == "es"
    assert SafetyAlert.objects.filter(participant=participant, acknowledged_at__isnull=True).count() == 1


def test_a_person_joins_on_a_phone_and_a_clinician_makes_them_ready(new_context, live_server, org, alice):
    from communitas.accounts.models import Membership
    from communitas.programs.invitations import token_for
    from communitas.programs.models import Enrollment
    from communitas.programs.selectors import enrollment_readiness
    from communitas.programs.services import invitation_create
    from tests.journey_helpers import oregon_program

    program, _document = oregon_program(org)
    token = token_for(invitation_create(program=program, actor=alice))
    Membership.objects.filter(user=alice).update(is_clinician=True)

    tab = new_context(**PHONE).new_page()
    tab.goto(f"{live_server.url}/join/{token}/?lang=es")
    tab.fill("input[name=display_name]", "Rosa Tupa")
    tab.fill("input[name=email]", "rosa@example.net")
    tab.select_option("select[name=preferred_language]", "es")
    tab.click("button[type=submit]")
    tab.wait_for_selector("text=Informed consent")
    tab.check("input[name=scope_participation]")
    tab.check("input[name=scope_research]")
    tab.fill("input[name=typed_name]", "Rosa Tupa")
    tab.click("main button[type=submit]")
    tab.wait_for_selector("#dob")
    tab.fill("#dob", "1984-06-02")
    tab.locator("label.option", has_text="Convulsiones o epilepsia").click()
    tab.fill("#meds", "Lexapro 10 mg")
    tab.locator("#q-item9 label.option").first.click()
    tab.evaluate("document.getElementById('autosave').textContent = ''")
    tab.locator("input[name=harm_ideation][value=no]").check()
    tab.wait_for_selector("#autosave:has-text('Guardado')")
    assert tab.evaluate("document.documentElement.scrollWidth") <= 400
    tab.click("button[value=submit]")
    tab.wait_for_selector("text=Sus respuestas se enviaron")

    enrollment = Enrollment.objects.get(program=program)
    page = new_context(**DESKTOP).new_page()
    _sign_in(page, live_server, "alice@cascadia.example")
    page.wait_for_selector("h1")
    page.goto(f"{live_server.url}/programs/{program.pk}/enrollments/{enrollment.pk}/")
    page.wait_for_selector("#screening")
    screening = page.locator("#screening").inner_text()
    assert "N1" in screening and "D3" in screening and "FRN23" in screening
    assert page.locator("#effective-outcome").inner_text() == "needs_review"
    page.check("input[name=rule_ids][value=N1]")
    page.fill(
        "textarea[name=reason]", "Childhood febrile seizures only; no seizures since; neurologist letter on file."
    )
    page.click("form.decision button[type=submit]")
    page.wait_for_selector("#effective-outcome:has-text('eligible')")
    for kind in ("client_information_form", "transportation_plan", "safety_support_plan", "sb303_opt_out_offered"):
        page.locator(f"form:has(input[value={kind}]) button").click()
        page.wait_for_load_state()
    page.wait_for_selector("h2:has-text('Readiness') .pill:has-text('ready')")
    assert enrollment_readiness(enrollment).status == "ready"


def test_a_coordinator_runs_a_retreat_session_end_to_end(page, live_server, org, alice):
    import datetime

    from communitas.programs.models import DoseRecord, Session, VitalSigns
    from tests.session_helpers import setting

    program, _document, guide, people = setting(org, alice, people=2)
    _sign_in(page, live_server, "alice@cascadia.example")
    page.wait_for_selector("h1")
    page.goto(f"{live_server.url}/programs/{program.pk}/")
    page.click("text=New retreat or cohort")
    page.fill("input[name=name]", "Spring retreat")
    page.fill("input[name=starts_on]", "2027-04-01")
    page.fill("input[name=ends_on]", "2027-04-04")
    page.fill("input[name=capacity]", "12")
    page.click("main form button[type=submit]")
    page.wait_for_selector("h1:has-text('Spring retreat')")

    page.fill("form.circle-new input[name=name]", "Cedar circle")
    page.fill("form.circle-new input[name=capacity]", "8")
    page.click("form.circle-new button[type=submit]")
    page.wait_for_selector("h1:has-text('Cedar circle')")
    for person in people:
        page.check(f"input[name=members][value='{person.pk}']")
    page.check(f"input[name=facilitators][value='{guide.pk}']")
    page.click("main form button[type=submit]")
    page.wait_for_selector("text=Circle saved.")

    page.click("text=Plan a session for this circle")
    page.select_option("select[name=kind]", "administration")
    page.fill("input[name=title]", "Cedar circle: administration")
    start = datetime.datetime.now() + datetime.timedelta(days=3)
    page.fill("input[name=planned_start]", start.strftime("%Y-%m-%dT10:00"))
    page.fill("input[name=planned_end]", start.strftime("%Y-%m-%dT16:00"))
    for person in people:
        page.check(f"input[name=p_{person.pk}]")
        page.fill(f"input[name=dose_{person.pk}]", "20")
    page.click("form.session-plan button[type=submit]")
    page.wait_for_selector("#validated")

    page.click("text=Start session (validates again)")
    page.wait_for_selector("#session-status:has-text('In progress')")
    page.select_option("form.dose-form select[name=participant]", str(people[0].pk))
    page.fill("form.dose-form input[name=product]", "P. cubensis, dried whole")
    page.fill("form.dose-form input[name=unique_id]", "OR-LOT-2027-114")
    page.fill("form.dose-form input[name=amount_mg]", "20")
    page.click("form.dose-form button[type=submit]")
    page.wait_for_selector("#doses:has-text('OR-LOT-2027-114')")
    page.select_option("form.vitals-form select[name=participant]", str(people[0].pk))
    page.fill("form.vitals-form input[name=systolic]", "132")
    page.fill("form.vitals-form input[name=diastolic]", "84")
    page.fill("form.vitals-form input[name=heart_rate]", "88")
    page.click("form.vitals-form button[type=submit]")
    page.wait_for_selector("#vitals:has-text('132/84')")

    session = Session.objects.get(title="Cedar circle: administration")
    assert session.status == "in_progress" and session.validation["violations"] == []
    assert session.circle.name == "Cedar circle" and session.circle.retreat.name == "Spring retreat"
    assert DoseRecord.objects.get(session=session).amount_mg == 20
    assert VitalSigns.objects.get(session=session).heart_rate == 88


def test_a_coordinator_forms_circles_locks_one_and_forms_again(page, live_server, org, alice):
    import datetime

    from communitas.community.models import FormationRun
    from communitas.programs import session_services as sessions
    from communitas.programs.services import program_create
    from tests.facilitator_helpers import make_profile
    from tests.factories import ParticipantFactory

    program = program_create(organization=org, actor=alice, name="Integration", substance="none", jurisdiction="US-OR")
    retreat = sessions.retreat_create(
        program=program,
        actor=alice,
        name="Autumn retreat",
        starts_on=datetime.date(2026, 12, 1),
        ends_on=datetime.date(2026, 12, 5),
        capacity=20,
    )
    for name in ("Cedar", "Pine"):
        sessions.circle_create(program=program, retreat=retreat, actor=alice, name=name, capacity=4)
    make_profile(org, alice, display_name="Ana", languages=["es", "en"])
    make_profile(org, alice, display_name="Ben", languages=["en"])
    people = [ParticipantFactory(organization=org, preferred_language="en") for _ in range(6)]
    for person in people:
        sessions.retreat_enroll(retreat=retreat, participant=person, actor=alice)

    _sign_in(page, live_server, "alice@cascadia.example")
    page.wait_for_selector("h1")
    page.goto(f"{live_server.url}/programs/{program.pk}/retreats/{retreat.pk}/")
    page.click("text=Form circles")
    page.wait_for_selector("h1:has-text('Form circles for Autumn retreat')")
    page.check("input[name=balance][value=age_band]")
    page.click("main form button[type=submit]")
    page.wait_for_selector("#formation-status:has-text('Best possible assignment found')")
    first = FormationRun.objects.get()
    keep = people[0].pseudonym
    page.check(f"input[name=lock][value='{keep}']")
    page.click("text=Form again, keeping the locked placements")
    page.wait_for_selector("text=Formed again with 1 placement(s) locked.")
    page.wait_for_selector("#rule-report:has-text('lock')")
    second = FormationRun.objects.exclude(pk=first.pk).get()
    assert second.result["assignments"][keep] == first.result["assignments"][keep]
    assert page.locator(f"#assignments tr:has-text('{keep}') .pill").inner_text() == "locked"
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("text=Apply to the circles")
    page.wait_for_selector("text=The circles now hold these people and facilitators.")
    assert sum(circle.members.count() for circle in retreat.circles.all()) == 6


def test_a_participant_accepts_a_pod_and_logs_a_check_in_on_a_phone(new_context, live_server, org, alice):
    import datetime

    from communitas.community import pod_services
    from communitas.community.links import community_link_create
    from communitas.community.models import PodCheckIn, PodMember
    from communitas.programs import session_services as sessions
    from communitas.programs.services import program_create
    from tests.factories import ParticipantFactory

    program = program_create(organization=org, actor=alice, name="Integration", substance="none", jurisdiction="US-OR")
    retreat = sessions.retreat_create(
        program=program,
        actor=alice,
        name="Autumn retreat",
        starts_on=datetime.date(2026, 10, 1),
        ends_on=datetime.date(2026, 10, 5),
        capacity=20,
    )
    people = [ParticipantFactory(organization=org, preferred_language="en") for _ in range(3)]
    for person in people:
        sessions.retreat_enroll(retreat=retreat, participant=person, actor=alice)
    pod_services.pods_propose(retreat=retreat, actor=alice)
    pod_services.pods_send(retreat=retreat, actor=alice)
    me = people[0]
    member = PodMember.objects.get(participant=me)
    for other in PodMember.objects.filter(pod=member.pod).exclude(pk=member.pk):
        pod_services.pod_respond(member=other, accept=True)
    _link, token = community_link_create(participant=me, actor=alice)

    phone = new_context(**PHONE).new_page()
    phone.goto(f"{live_server.url}/c/{token}/")
    phone.click(f"a[href*='/pods/{member.pod_id}/']")
    phone.click("button[value=accept]")
    phone.wait_for_selector("text=Log a check-in")
    phone.check("input[name=mode][value=call]")
    phone.fill("input[name=mood]", "7")
    phone.fill("textarea[name=note]", "We talked about the first week home.")
    phone.click("form[action$='/check-ins/'] button[type=submit]")
    phone.wait_for_selector("text=mood 7/10")
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    check_in = PodCheckIn.objects.get()
    assert check_in.mood == 7 and check_in.note == "We talked about the first week home." and not check_in.note_shared


def test_a_researcher_opens_the_demo_program_dashboard_and_sees_the_community_effect(page, live_server):
    from communitas.demo.seed import PASSWORD as DEMO_PASSWORD
    from communitas.demo.seed import seed_demo

    seed_demo()
    violations = []
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=email]", "ruth.research@cascadia.example")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_selector("h1:has-text('Research data')")
    page.click("text=Community psilocybin circles 2026")

    panel = page.locator("[data-panel=community-effect]")
    panel.wait_for()
    assert panel.locator("svg[data-chart=scatter] circle").count() >= 10  # one dot per circle member
    assert panel.locator("svg[data-chart=forest]").count() == 1
    table = panel.locator("table[data-model-table]")
    assert "followup:engagement" in table.inner_text() and table.locator("tbody tr").count() >= 4
    assert "attended every meeting" in panel.locator("[data-headline]").inner_text()
    for name in ("funnel", "change", "reliable-change", "attendance"):
        assert page.locator(f"[data-panel={name}] svg").count() >= 1
    # the numbers are one click away
    page.locator("[data-panel=change] summary").click()
    assert page.locator("[data-panel=change] details table tbody tr").count() >= 3

    panel.locator("button:has-text('Run again')").click()  # a fresh fit of the newest data
    page.wait_for_selector("[data-panel=community-effect] table[data-model-table]")
    assert violations == []


def test_a_facilitator_runs_their_circle_meeting_and_answers_a_safety_alert(page, live_server, org, alice, bob):
    from django.db import connection

    from communitas.community.circle_services import series_create
    from communitas.core.models import AuditEntry
    from communitas.outcomes.services import response_submit
    from communitas.programs.models import Attendance, FacilitatorNote, Session
    from communitas.programs.session_services import circle_create, note_add
    from communitas.safety.models import SafetyAlert
    from tests.circle_helpers import circle_setting, series_fields
    from tests.outcomes_helpers import baseline_link

    # Alice (coordinator) gave Bob a circle with a weekly series; another circle is not his.
    setting = circle_setting(org, alice, members=2, guide_user=bob)
    series_create(circle=setting.circle, actor=alice, **series_fields(meeting_count=3))
    circle_create(program=setting.program, actor=alice, name="Thursday circle", capacity=4, retreat=setting.retreat)
    first, second = setting.members
    meeting = Session.objects.filter(circle=setting.circle).order_by("planned_start").first()
    note_add(session=meeting, participant=first, author=alice, body="Alice's own reminder: ask about sleep.")
    # One member's baseline PHQ-9 answered "several days" to item 9: an open safety alert.
    assessment, _link, _token = baseline_link(org, first)
    response_submit(
        assessment=assessment, answers={**{str(n): 0 for n in range(1, 9)}, "9": 1}, language="en", source="link"
    )
    alert = SafetyAlert.objects.get(participant=first)

    _sign_in(page, live_server, "bob@cascadia.example")
    page.wait_for_selector("h1:has-text('Participants')")
    assert page.locator("nav a:has-text('Alerts') .pill").inner_text() == "1"

    # His circles: only the one he facilitates, read-only; its first meeting's session page.
    page.click("nav a:has-text('Community')")
    page.wait_for_selector("h1:has-text('Integration circles')")
    circles = page.locator("#circles").inner_text()
    assert "Tuesday circle" in circles and "Thursday circle" not in circles
    page.click("#circles a:has-text('Tuesday circle')")
    page.wait_for_selector("h1:has-text('Tuesday circle')")
    assert page.locator("text=Plan a meeting series").count() == 0
    assert page.locator("#series tbody tr").count() == 3
    page.locator("#series tbody a").first.click()
    page.wait_for_selector("#session-status:has-text('Planned')")
    assert page.locator("#notes").inner_text().count("ask about sleep") == 0  # Alice's note is hers

    page.click("button:has-text('Start session (validates again)')")
    page.wait_for_selector("#session-status:has-text('In progress')")
    for person, status in ((first, "attended"), (second, "left_early")):
        row = page.locator(f"tr:has-text('{person.pseudonym}')")
        row.locator("select[name=status]").select_option(status)
        with page.expect_navigation():
            row.locator("button:has-text('Save')").click()
        assert page.locator(f"tr:has-text('{person.pseudonym}') select[name=status]").input_value() == status

    body = "Spoke about his father for the first time; wants a one-to-one before next week."
    page.select_option("form.note-form select[name=participant]", str(first.pk))
    page.fill("form.note-form textarea[name=body]", body)
    page.check(f"form.note-form input[name=shared_with][value='{alice.pk}']")
    page.click("form.note-form button:has-text('Add note')")
    page.wait_for_selector(f"#notes li:has-text('{first.pseudonym}'):has-text('one-to-one before next week')")
    page.click("button:has-text('End session')")
    page.wait_for_selector("#session-status:has-text('Completed')")

    # The safety flag: he opens it from the nav and records what he did.
    page.click("nav a:has-text('Alerts')")
    page.wait_for_selector("h1:has-text('Safety alerts')")
    page.locator(f"tr:has-text('{first.display_name}') td").first.locator("a").click()
    page.wait_for_selector("h1:has-text('Safety alert')")
    assert "item 9" in page.locator("dl.facts").inner_text()
    done = "Called her at 16:05 after the circle; safety plan reviewed; she is with her sister tonight."
    page.fill("textarea[name=note]", done)
    page.click("main button:has-text('Acknowledge')")
    page.wait_for_selector("text=Alert acknowledged.")
    page.wait_for_selector("text=No open safety alerts.")
    assert page.locator("nav a:has-text('Alerts') .pill").count() == 0

    meeting.refresh_from_db()
    assert meeting.status == "completed" and meeting.started_at and meeting.ended_at
    attendance = dict(Attendance.objects.filter(session=meeting).values_list("participant_id", "status"))
    assert attendance == {first.pk: "attended", second.pk: "left_early"}
    note = FacilitatorNote.objects.get(author=bob)
    assert (note.session_id, note.participant_id, note.body) == (meeting.pk, first.pk, body)
    assert list(note.shared_with.all()) == [alice]
    with connection.cursor() as cursor:
        cursor.execute("SELECT body FROM programs_facilitatornote WHERE id = %s", [note.pk])
        assert cursor.fetchone()[0].startswith("enc1$")
    alert.refresh_from_db()
    assert (alert.acknowledged_by, alert.acknowledgement_note) == (bob, done) and alert.acknowledged_at
    actions = sorted(AuditEntry.objects.filter(actor_id=bob.pk).values_list("action", flat=True))
    assert actions == sorted(
        [
            "accounts.user.logged_in",
            "programs.session.started",
            "programs.attendance.changed",
            "programs.attendance.changed",
            "programs.note.added",
            "programs.session.ended",
            "safety.alert.acknowledged",
        ]
    )
