"""How reminders reach participants. Messages never carry PHI: no program, substance,
instrument or organization name, only a generic line and the link."""

from __future__ import annotations

import logging
from typing import Protocol

from django.conf import settings
from django.core.mail import send_mail
from django.utils import translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)


class SmsBackend(Protocol):
    def send(self, *, to: str, text: str) -> None: ...


class ConsoleSmsBackend:
    """Development: logs the text instead of sending it."""

    def send(self, *, to: str, text: str) -> None:
        logger.warning("SMS to %s: %s", to, text)


class LocmemSmsBackend:
    """Tests: keeps sent texts in ``outbox``."""

    outbox: list[dict] = []

    def send(self, *, to: str, text: str) -> None:
        LocmemSmsBackend.outbox.append({"to": to, "text": text})


def sms_backend() -> SmsBackend:
    return import_string(settings.COMMUNITAS_SMS_BACKEND)()


def reminder_text(url: str, language: str) -> tuple[str, str]:
    """(subject, body) in the participant's language."""
    with translation.override(language):
        subject = _("A short check-in is waiting for you")
        body = _("Your care team asked you to answer a short questionnaire. It takes a few minutes: %(url)s") % {
            "url": url
        }
    return subject, body


def send_reminder(*, email: str, phone: str, url: str, language: str) -> str:
    """Send by email when there is an address, else by text message; returns the channel used."""
    subject, body = reminder_text(url, language)
    if email:
        send_mail(subject=subject, message=body, from_email=None, recipient_list=[email])
        return "email"
    if phone:
        sms_backend().send(to=phone, text=body)
        return "sms"
    return "none"
