"""Reflections: a reflection is never visible beyond the participant's choice, including
through the API and exports (acceptance 3 of issue 6). The last test opens every page and every
API read route in the project as staff and looks for a private reflection's text."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse

from communitas.accounts.models import Membership
from communitas.api import api
from communitas.community import reflection_services as services
from communitas.community.models import CommunityLink, Reflection
from communitas.community.selectors import reflections_visible_to
from communitas.core.models import AuditEntry
from communitas.participants.services import consent_document_publish, consent_sign, consent_withdraw
from communitas.programs.models import Enrollment, Session
from communitas.programs.session_services import circle_set_members
from tests.api_helpers import assert_error, call
from tests.community_helpers import community, meeting
from tests.conftest import bearer
from tests.facilitator_helpers import make_profile
from tests.factories import make_user

pytestmark = pytest.mark.django_db
Role = Membership.Role
PRIVATE = "Lantern-under-the-river 7f3a: only for me"
FOR_FACILITATORS = "Told the facilitators 2b9c: sleeping better"
FOR_CIRCLE = "Shared with my circle 4e6d: grateful for Thursday"


@pytest.fixture
def world(org, alice, bob):
    return community(org, alice, bob)


def write(person, text, visibility="only_me"):
    return services.reflection_create(participant=person, body=text, visibility=visibility)


def staff_page(client, person) -> str:
    return client.get(f"/community/participants/{person.pk}/reflections/").content.decode()


def api_texts(headers, person) -> str:
    response = call(Client(), "get", f"/community/participants/{person.pk}/reflections", **headers)
    assert response.status_code == 200, response.content
    return " ".join(item["body"] for item in response.json()["items"])


def space_text(world, person, rest="reflections/") -> str:
    return Client().get(world.space(person, rest)).content.decode()


def test_a_reflection_is_private_by_default_and_stored_encrypted(world):
    ana = world.members[0]
    response = Client().post(world.space(ana, "reflections/"), {"body": PRIVATE})
    assert response.status_code == 400  # the choice is required on the form...
    response = Client().post(world.space(ana, "reflections/"), {"body": PRIVATE, "visibility": "only_me"})
    assert response.status_code == 302
    reflection = Reflection.objects.get()
    assert reflection.visibility == "only_me" and write(ana, "x").visibility == "only_me"  # ...and the default
    with connection.cursor() as cursor:
        cursor.execute("SELECT body FROM community_reflection WHERE id = %s", [reflection.pk])
        assert cursor.fetchone()[0].startswith("enc1$")
    assert PRIVATE in space_text(world, ana)


def test_only_me_is_read_by_nobody_else(world, alice_client, bob_client, alice_api, bob_api):
    ana, ben = world.members[0], world.members[1]
    write(ana, PRIVATE)
    for client in (alice_client, bob_client):
        assert PRIVATE not in staff_page(client, ana)
    for headers in (alice_api, bob_api):
        assert PRIVATE not in api_texts(headers, ana)
    assert PRIVATE not in space_text(world, ben) + space_text(world, ben, "")
    assert PRIVATE not in space_text(world, world.stranger)


def test_my_facilitators_reaches_the_facilitators_of_their_circles_only(
    org, world, alice, alice_client, bob_client, alice_api, bob_api
):
    ana, ben = world.members[0], world.members[1]
    write(ana, FOR_FACILITATORS, "my_facilitators")
    assert FOR_FACILITATORS in staff_page(bob_client, ana) and FOR_FACILITATORS in api_texts(bob_api, ana)
    assert FOR_FACILITATORS not in staff_page(alice_client, ana)  # a coordinator is not their facilitator
    assert FOR_FACILITATORS not in api_texts(alice_api, ana)
    fay = make_user(org, Role.FACILITATOR, email="fay@cascadia.example")
    make_profile(org, alice, display_name="Fay Other", user=fay)  # facilitates no circle of Ana's
    assert FOR_FACILITATORS not in api_texts(bearer(fay, org), ana)
    assert FOR_FACILITATORS not in space_text(world, ben)


def test_my_circle_reaches_its_members_and_facilitators_with_a_first_name(world, alice_client, bob_client, alice_api):
    ana, ben = world.members[0], world.members[1]
    write(ana, FOR_CIRCLE, "my_circle")
    bens_view = space_text(world, ben)
    assert FOR_CIRCLE in bens_view and "Ana" in bens_view and "Torres" not in bens_view
    assert "1 reflection shared by your circle" in space_text(world, ben, "")
    assert FOR_CIRCLE in staff_page(bob_client, ana)
    assert FOR_CIRCLE not in space_text(world, world.stranger)
    assert FOR_CIRCLE not in staff_page(alice_client, ana) + api_texts(alice_api, ana)


def test_leaving_the_circle_ends_access_at_once(world, alice, bob_api):
    ana, ben, chen = world.members
    write(ana, FOR_CIRCLE, "my_circle")
    circle_set_members(circle=world.circle, actor=alice, participants=[ana, chen], facilitators=[])
    assert FOR_CIRCLE not in space_text(world, ben)
    assert FOR_CIRCLE in space_text(world, chen)
    assert FOR_CIRCLE not in api_texts(bob_api, ana)  # Bob no longer facilitates it


def test_changing_the_choice_takes_effect_at_once_and_is_audited_without_text(world, bob_api):
    ana, ben = world.members[0], world.members[1]
    reflection = write(ana, FOR_CIRCLE, "my_circle")
    url = world.space(ana, f"reflections/{reflection.pk}/visibility/")
    assert Client().post(url, {"visibility": "my_facilitators"}).status_code == 302
    assert FOR_CIRCLE not in space_text(world, ben)
    assert FOR_CIRCLE in api_texts(bob_api, ana)
    assert Client().post(url, {"visibility": "only_me"}).status_code == 302
    assert FOR_CIRCLE not in api_texts(bob_api, ana)
    entry = AuditEntry.objects.filter(action="community.reflection.visibility_changed").latest("id")
    assert entry.data == {"participant": ana.pseudonym, "previous": "my_facilitators", "visibility": "only_me"}


def test_withdrawing_hides_it_from_everyone_else_but_keeps_it_for_the_author(world, bob_client, bob_api):
    ana, ben = world.members[0], world.members[1]
    reflection = write(ana, FOR_CIRCLE, "my_circle")
    assert FOR_CIRCLE in space_text(world, ben)
    assert Client().post(world.space(ana, f"reflections/{reflection.pk}/withdraw/")).status_code == 302
    assert FOR_CIRCLE not in space_text(world, ben) + staff_page(bob_client, ana) + api_texts(bob_api, ana)
    assert FOR_CIRCLE in space_text(world, ana) and "you stopped sharing it" in space_text(world, ana)
    reflection.refresh_from_db()
    assert reflection.withdrawn_at is not None and reflection.visibility == "only_me"
    entry = AuditEntry.objects.filter(action="community.reflection.withdrawn").get()
    assert entry.data == {"participant": ana.pseudonym, "previous": "my_circle"}


def test_saying_no_to_sharing_with_the_group_keeps_circle_reflections_from_the_circle(org, world, bob_api):
    ana, ben = world.members[0], world.members[1]
    write(ana, FOR_CIRCLE, "my_circle")
    document = consent_document_publish(
        organization=org,
        actor=None,
        title="Community",
        version="1",
        language="en",
        body="Sharing reflections.",
        scopes=["share_reflections"],
        required_scopes=[],
    )
    consent_sign(participant=ana, document=document, typed_name="Ana Torres", granted={"share_reflections"}, via="link")
    assert FOR_CIRCLE in space_text(world, ben)
    consent_withdraw(participant=ana, scope="share_reflections")
    assert FOR_CIRCLE not in space_text(world, ben) + api_texts(bob_api, ana)
    before = Reflection.objects.count()
    response = Client().post(world.space(ana, "reflections/"), {"body": "new", "visibility": "my_circle"})
    assert response.status_code == 400 and "you said no to sharing" in response.content.decode()
    assert Reflection.objects.count() == before


@pytest.mark.parametrize(
    "data",
    [
        {"body": "", "visibility": "only_me"},
        {"body": "   ", "visibility": "only_me"},
        {"body": "x" * 4001, "visibility": "only_me"},
        {"body": "hello", "visibility": "everyone"},
    ],
)
def test_bad_input_changes_nothing(world, data):
    ana = world.members[0]
    before = AuditEntry.objects.count()
    assert Client().post(world.space(ana, "reflections/"), data).status_code == 400
    assert not Reflection.objects.exists() and AuditEntry.objects.count() == before


def test_nobody_changes_someone_elses_reflection(world):
    ana, ben = world.members[0], world.members[1]
    reflection = write(ana, PRIVATE)
    url = world.space(ben, f"reflections/{reflection.pk}/visibility/")
    assert Client().post(url, {"visibility": "my_circle"}).status_code == 404
    assert Client().post(world.space(ben, f"reflections/{reflection.pk}/withdraw/")).status_code == 404
    assert (
        Client().post(world.space(ana, f"reflections/{reflection.pk}/visibility/"), {"visibility": "x"}).status_code
        == 400
    )
    assert Reflection.objects.get().visibility == "only_me"
    with pytest.raises(services.ReflectionError):
        services.reflection_set_visibility(reflection=reflection, participant=ben, visibility="my_circle")


def test_another_organization_and_other_roles_get_nothing(org, world, charlie_client, charlie_api, rita_api):
    ana = world.members[0]
    write(ana, FOR_FACILITATORS, "my_facilitators")
    assert charlie_client.get(f"/community/participants/{ana.pk}/reflections/").status_code == 404
    assert_error(call(Client(), "get", f"/community/participants/{ana.pk}/reflections", **charlie_api), 404)
    assert_error(call(Client(), "get", f"/community/participants/{ana.pk}/reflections", **rita_api), 403)
    hospitality = make_user(org, Role.HOSPITALITY, email="hal@cascadia.example")
    client = Client()
    client.force_login(hospitality)
    assert client.get(f"/community/participants/{ana.pk}/reflections/").status_code == 403
    assert Client().get(f"/community/participants/{ana.pk}/reflections/").status_code == 302
    assert_error(call(Client(), "get", f"/community/participants/{ana.pk}/reflections"), 401)


def test_the_selector_refuses_anything_but_a_participant_or_a_membership(world):
    with pytest.raises(TypeError):
        reflections_visible_to(world.circle)


def test_no_audit_entry_holds_reflection_text(world):
    ana = world.members[0]
    reflection = write(ana, FOR_CIRCLE, "my_circle")
    services.reflection_set_visibility(reflection=reflection, participant=ana, visibility="my_facilitators")
    services.reflection_withdraw(reflection=reflection, participant=ana)
    dumped = " ".join(str(e.data) for e in AuditEntry.objects.filter(action__startswith="community.reflection"))
    assert "4e6d" not in dumped and dumped.count(ana.pseudonym) == 3


# --- every page and every API read route ---------------------------------------------------------


def _patterns(resolvers, namespace=""):
    for entry in resolvers:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}:{entry.namespace}" if namespace and entry.namespace else entry.namespace or namespace
            yield from _patterns(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            yield (f"{namespace}:{entry.name}" if namespace else entry.name), entry.pattern.converters


def _value(name: str, converter, ids: dict, token: str):
    if type(converter).__name__ == "IntConverter":
        return ids.get(name, ids["participant_id"])
    return token if name == "token" else "x"


def _page_urls(ids: dict, token: str) -> list[str]:
    urls = []
    for name, converters in _patterns(get_resolver().url_patterns):
        if name.startswith("api") or "logout" in name:
            continue
        kwargs = {k: _value(k, c, ids, token) for k, c in converters.items()}
        try:
            urls.append(reverse(name, kwargs=kwargs))
        except NoReverseMatch:  # a pattern these values cannot fill
            continue
    return urls


def _api_paths(ids: dict) -> list[str]:
    paths = []
    for path, methods in api.get_openapi_schema()["paths"].items():
        if "get" in methods:
            paths.append(re.sub(r"\{(\w+)\}", lambda m: str(ids.get(m.group(1), ids["participant_id"])), path))
    return paths


def _ids(world, reflection, link) -> dict:
    ana = world.members[0]
    session = Session.objects.filter(circle=world.circle).first()
    enrollment = Enrollment.objects.get(participant=ana, program=world.program)
    return {
        "participant_id": ana.pk,
        "program_id": world.program.pk,
        "retreat_id": world.retreat.pk,
        "circle_id": world.circle.pk,
        "session_id": session.pk if session else 0,
        "enrollment_id": enrollment.pk,
        "reflection_id": reflection.pk,
        "link_id": link.pk,
        "profile_id": world.profile.pk,
        "facilitator_id": world.profile.pk,
    }


def test_no_page_or_api_route_shows_a_private_reflection_to_staff_or_other_participants(
    org, world, alice, alice_client, bob_client, alice_api, bob_api, rita_api
):
    ana, ben = world.members[0], world.members[1]
    meeting(world, alice, days=2)
    private = write(ana, PRIVATE)
    withdrawn = write(ana, "Withdrawn 5d1e: changed my mind", "my_circle")
    services.reflection_withdraw(reflection=withdrawn, participant=ana)
    write(ana, FOR_FACILITATORS, "my_facilitators")
    ids = _ids(world, private, CommunityLink.objects.get(participant=ana))
    admin = make_user(org, Role.ADMIN, email="ada@cascadia.example")
    admin_client = Client(raise_request_exception=False)
    admin_client.force_login(admin)
    staff = {"coordinator": alice_client, "facilitator": bob_client, "admin": admin_client}
    for client in staff.values():
        client.raise_request_exception = False
    shown, opened = {}, 0
    for url in _page_urls(ids, world.tokens[ben.pk]):
        for who, client in staff.items():
            body = client.get(url).content.decode(errors="replace")
            opened += 1
            assert "7f3a" not in body and "5d1e" not in body, f"{who} read a private reflection at {url}"
            shown.setdefault(who, []).append(FOR_FACILITATORS in body)
        anonymous = Client(raise_request_exception=False).get(url).content.decode(errors="replace")
        assert "7f3a" not in anonymous and "5d1e" not in anonymous, f"another participant read it at {url}"
    api_clients = {
        "coordinator": alice_api,
        "facilitator": bob_api,
        "researcher": rita_api,
        "admin": bearer(admin, org),
    }
    for path in _api_paths(ids):
        for who, headers in api_clients.items():
            body = Client(raise_request_exception=False).get(path, **headers).content.decode(errors="replace")
            opened += 1
            assert "7f3a" not in body and "5d1e" not in body, f"{who} read a private reflection at {path}"
            shown.setdefault(f"api {who}", []).append(FOR_FACILITATORS in body)
    # The harness reaches real pages: the facilitator does read what was shared with them, on a
    # page and through the API, and Ana reads her own private reflection in her space.
    assert any(shown["facilitator"]) and any(shown["api facilitator"]), "the sweep never rendered a reflection"
    assert not any(shown["coordinator"] + shown["admin"] + shown["api coordinator"] + shown["api researcher"])
    assert PRIVATE in space_text(world, ana)
    assert opened > 200
