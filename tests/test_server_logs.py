"""`communitas serve` logs requests without the secret in a participant's link."""

import datetime
from types import SimpleNamespace

from gunicorn.config import Config

from communitas.core.server import RedactingLogger, redact_link_secrets

TOKEN = "eyJsIjoxLCJuIjoiWnYtN1V6dHlJb1llcjBOcGtONVExdyJ9:1xWqi1:zrImH1"


def test_the_access_log_keeps_the_path_but_not_the_link_secret():
    logger = RedactingLogger(Config())
    environ = {
        "REQUEST_METHOD": "POST",
        "RAW_URI": f"/a/{TOKEN}/save",
        "PATH_INFO": f"/a/{TOKEN}/save",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "QUERY_STRING": "",
        "HTTP_REFERER": f"https://care.example.org/a/{TOKEN}/",
        "REMOTE_ADDR": "203.0.113.7",
    }
    response = SimpleNamespace(status="200 OK", headers=[], response_length=12, sent=12)
    request = SimpleNamespace(headers=[], method="POST", path=environ["PATH_INFO"], query="")

    atoms = logger.atoms(response, request, environ, datetime.timedelta(milliseconds=5))

    line = " ".join(str(atoms[k]) for k in ("r", "U", "f"))
    assert TOKEN not in line
    assert atoms["r"] == "POST /a/[redacted]/save HTTP/1.1"
    assert atoms["f"] == "https://care.example.org/a/[redacted]/"


def test_every_kind_of_participant_link_is_redacted_and_staff_paths_are_not():
    assert redact_link_secrets(f"/c/{TOKEN}/records/") == "/c/[redacted]/records/"
    assert redact_link_secrets(f"/join/{TOKEN}/consent/") == "/join/[redacted]/consent/"
    assert redact_link_secrets("/join/r/Reg1stration-Key/") == "/join/r/[redacted]/"
    assert redact_link_secrets("/participants/12/edit/") == "/participants/12/edit/"
    assert redact_link_secrets("/api/v1/assessments/4/links") == "/api/v1/assessments/4/links"
