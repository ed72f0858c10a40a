import base64
import secrets

import pytest
from django.core.exceptions import FieldError
from django.db import connection

from communitas.core.crypto import DecryptionError, Keyring, blind_token, normalize_term
from communitas.participants.models import Participant, SupportPerson


def _key():
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def _stored(table, column, pk):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])
        return cursor.fetchone()[0]


@pytest.mark.parametrize("column", ["display_name", "email", "phone", "date_of_birth", "cultural_background"])
def test_it_never_stores_participant_identity_in_plaintext(participant, column):
    participant.date_of_birth = "1980-02-03"
    participant.cultural_background = "Quechua; Catholic"
    participant.save()
    raw = _stored("participants_participant", column, participant.pk)
    assert raw.startswith("enc1$")
    assert str(getattr(participant, column)) not in raw


def test_it_reads_back_what_it_wrote(participant):
    fresh = Participant.objects.get(pk=participant.pk)
    assert (fresh.display_name, fresh.email, fresh.phone) == (
        "Marisol Quispe",
        "marisol@example.net",
        "+1 503 555 0147",
    )


def test_it_encrypts_support_person_contacts(participant):
    person = SupportPerson.objects.get(participant=participant)
    assert _stored("participants_supportperson", "name", person.pk).startswith("enc1$")


def test_it_refuses_lookups_it_cannot_answer(participant):
    with pytest.raises(FieldError):
        list(Participant.objects.filter(email="marisol@example.net"))


def test_it_decrypts_values_written_under_an_older_key():
    old, new = _key(), _key()
    sealed = Keyring.from_encoded([old]).encrypt("Marisol", "participants.participant.display_name")
    rotated = Keyring.from_encoded([new, old])
    assert rotated.decrypt(sealed, "participants.participant.display_name") == "Marisol"
    assert rotated.needs_rotation(sealed)


def test_it_refuses_a_ciphertext_moved_to_another_column():
    ring = Keyring.from_encoded([_key()])
    sealed = ring.encrypt("Marisol", "participants.participant.display_name")
    with pytest.raises(DecryptionError):
        ring.decrypt(sealed, "participants.participant.email")


def test_it_refuses_a_tampered_ciphertext():
    ring = Keyring.from_encoded([_key()])
    sealed = ring.encrypt("Marisol", "ctx")
    tampered = sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")
    with pytest.raises(DecryptionError):
        ring.decrypt(tampered, "ctx")


def test_it_makes_blind_tokens_case_and_accent_insensitive():
    assert normalize_term("  JOSÉ ") == "jose"
    assert blind_token("s", "José") == blind_token("s", "jose")
    assert blind_token("s", "jose") != blind_token("t", "jose")


def test_it_rotates_every_encrypted_row_to_the_newest_key(participant, settings):
    from communitas.core.crypto import keyring
    from communitas.core.keys import field_key_rotate
    from communitas.core.models import AuditEntry

    settings.FIELD_ENCRYPTION_KEYS = [_key(), *settings.FIELD_ENCRYPTION_KEYS]
    assert keyring().needs_rotation(_stored("participants_participant", "email", participant.pk))
    counts = field_key_rotate()
    assert counts["participants.participant"] == 1 and counts["participants.supportperson"] == 1
    for column in ("display_name", "email", "phone"):
        assert not keyring().needs_rotation(_stored("participants_participant", column, participant.pk))
    settings.FIELD_ENCRYPTION_KEYS = settings.FIELD_ENCRYPTION_KEYS[:1]  # the old key is gone now
    assert Participant.objects.get(pk=participant.pk).email == "marisol@example.net"
    assert AuditEntry.objects.filter(action="core.field_key.rotated").exists()
