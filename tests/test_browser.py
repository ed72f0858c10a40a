"""Headless-Chromium journeys against a live server (Debian's /usr/bin/chromium).

Skipped when Chromium is absent, unless COMMUNITAS_REQUIRE_BROWSER=1 (CI), where it fails.
A failing test leaves a screenshot in test-artifacts/.
"""

import os
import shutil
from pathlib import Path

import pytest

from communitas.participants.models import Participant
from tests.factories import PASSWORD

CHROMIUM = os.environ.get("COMMUNITAS_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _chromium_available() -> bool:
    return Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is not None


@pytest.fixture(scope="module")
def browser():
    if not _chromium_available():
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
def page(browser, request):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    yield tab
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        tab.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


def _sign_in(page, live_server, email):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")


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


def test_it_works_on_a_phone(browser, live_server, alice, participant):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    tab = context.new_page()
    try:
        _sign_in(tab, live_server, "alice@cascadia.example")
        tab.wait_for_selector("text=Marisol Quispe")
        width = tab.evaluate("document.documentElement.scrollWidth")
        assert width <= 400, f"page scrolls sideways on a phone ({width}px)"
    finally:
        context.close()


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


def test_a_participant_answers_phq9_in_spanish_on_a_phone(browser, live_server, org, participant, alice):
    from communitas.outcomes.models import Response
    from communitas.safety.models import SafetyAlert
    from tests.outcomes_helpers import baseline_link

    _assessment, _link, token = baseline_link(org, participant)
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    try:
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
    finally:
        context.close()
    response = Response.objects.get(assessment__participant=participant)
    assert Response.objects.count() == 1
    assert (response.score.total, response.score.flags) == (6, ["phq9_item9_positive"])
    assert response.language == "es"
    assert SafetyAlert.objects.filter(participant=participant, acknowledged_at__isnull=True).count() == 1


def test_a_person_joins_on_a_phone_and_a_clinician_makes_them_ready(browser, live_server, org, alice):
    from communitas.accounts.models import Membership
    from communitas.programs.invitations import token_for
    from communitas.programs.models import Enrollment
    from communitas.programs.selectors import enrollment_readiness
    from communitas.programs.services import invitation_create
    from tests.journey_helpers import oregon_program

    program, _document = oregon_program(org)
    token = token_for(invitation_create(program=program, actor=alice))
    Membership.objects.filter(user=alice).update(is_clinician=True)

    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    tab = phone.new_page()
    tab.set_default_timeout(10_000)
    try:
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
    finally:
        phone.close()

    enrollment = Enrollment.objects.get(program=program)
    staff = browser.new_context(viewport={"width": 1280, "height": 900})
    page = staff.new_page()
    page.set_default_timeout(10_000)
    try:
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
    finally:
        staff.close()
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


def test_a_participant_accepts_a_pod_and_logs_a_check_in_on_a_phone(browser, live_server, org, alice):
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

    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    phone = context.new_page()
    phone.set_default_timeout(10_000)
    try:
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
    except Exception:
        ARTIFACTS.mkdir(exist_ok=True)
        phone.screenshot(path=str(ARTIFACTS / "pod-check-in.png"), full_page=True)
        raise
    finally:
        context.close()
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
