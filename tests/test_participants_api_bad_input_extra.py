"""Bad input the API's own handlers never see: unknown routes, unsupported methods, dates."""

import datetime

import pytest

from communitas.participants.models import Participant


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("put", "/api/v1/participants/{id}", 405, "method_not_allowed"),
        ("get", "/api/v1/no-such-endpoint", 404, "not_found"),
    ],
)
def test_it_shapes_errors_made_outside_the_api_handlers(client, alice_api, participant, method, path, status, code):
    r = getattr(client, method)(path.format(id=participant.pk), **alice_api)
    assert r.status_code == status
    assert r.json()["error"] == code


def test_it_refuses_a_date_of_birth_in_the_future(client, alice_api, participant):
    tomorrow = (datetime.date.today() + datetime.timedelta(days=2)).isoformat()
    r = client.patch(
        f"/api/v1/participants/{participant.pk}",
        data={"date_of_birth": tomorrow},
        content_type="application/json",
        **alice_api,
    )
    assert r.status_code == 422 and r.json()["error"] == "validation_error"
    assert Participant.objects.get(pk=participant.pk).date_of_birth is None
