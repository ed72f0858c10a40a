"""Runs the WSGI app under gunicorn from inside the process (no separate config file)."""

import re

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger

# A participant's link is their credential: /a/<token>/, /c/<token>/, /join/<token>/ and
# /join/r/<registration key>/. Access logs keep the path with the secret part replaced.
_LINK_SECRET = re.compile(r"(/(?:a|c|join(?:/r)?)/)(?!r/)[^/\s?\"]+")


def redact_link_secrets(text: str) -> str:
    return _LINK_SECRET.sub(r"\1[redacted]", text)


class RedactingLogger(Logger):
    """gunicorn's access log with participant-link secrets taken out of the request line, the
    path and the referrer (use as ``--logger-class communitas.core.server.RedactingLogger``)."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("r", "U", "f"):
            if isinstance(atoms.get(key), str):
                atoms[key] = redact_link_secrets(atoms[key])
        return atoms


class _Gunicorn(BaseApplication):
    def __init__(self, options: dict):
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from communitas.wsgi import application

        return application


def run_server(*, host: str, port: int, workers: int = 2) -> None:
    _Gunicorn(
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "threads": 4,
            "worker_class": "gthread",
            "accesslog": "-",
            "logger_class": "communitas.core.server.RedactingLogger",
            "timeout": 60,
            "graceful_timeout": 10,
        }
    ).run()
