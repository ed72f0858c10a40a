import itertools

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from communitas.core.audit import audit_record, audit_verify
from communitas.core.models import AuditChainHead, AuditEntry


def _raw(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.fixture
def trail(org, participant):
    audit_record(action="tests.thing.happened", organization_id=org.pk, data={"n": 1})
    return list(AuditEntry.objects.filter(organization_id=org.pk).order_by("seq"))


def test_it_chains_each_entry_to_the_previous_one(trail):
    assert [e.seq for e in trail] == list(range(1, len(trail) + 1))
    for previous, entry in itertools.pairwise(trail):
        assert entry.prev_hash == previous.entry_hash
    assert trail[0].prev_hash == "0" * 64


def test_it_verifies_an_untouched_chain(trail, capsys):
    call_command("verify_audit")
    assert "audit chain intact" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("column", "value"),
    [("action", "participants.participant.viewed"), ("data", '{"n": 2}'), ("actor_id", 999), ("object_id", "7")],
)
def test_it_names_the_row_altered_by_hand(trail, column, value):
    victim = trail[1]
    _raw(f"UPDATE core_auditentry SET {column} = %s WHERE id = %s", [value, victim.pk])
    with pytest.raises(CommandError) as excinfo:
        call_command("verify_audit")
    assert f"entry id={victim.pk}" in str(excinfo.value)
    assert excinfo.value.returncode == 1


def test_it_notices_a_deleted_entry(trail):
    _raw("DELETE FROM core_auditentry WHERE id = %s", [trail[1].pk])
    _checked, broken = audit_verify()
    assert broken is not None and broken.entry_id == trail[2].pk


def test_it_notices_the_newest_entry_deleted(trail):
    _raw("DELETE FROM core_auditentry WHERE id = %s", [trail[-1].pk])
    _checked, broken = audit_verify()
    assert broken is not None and "missing" in broken.reason


def test_it_notices_a_rehashed_entry_that_breaks_the_next_link(trail):
    victim = trail[0]
    _raw("UPDATE core_auditentry SET entry_hash = %s WHERE id = %s", ["f" * 64, victim.pk])
    _checked, broken = audit_verify()
    assert broken is not None and broken.entry_id == victim.pk


def test_it_refuses_updates_and_deletes_through_the_orm(trail):
    entry = trail[0]
    with pytest.raises(RuntimeError):
        entry.save()
    with pytest.raises(RuntimeError):
        entry.delete()


def test_it_keeps_one_chain_per_organization(org, other_org):
    audit_record(action="tests.thing.happened", organization_id=org.pk)
    audit_record(action="tests.thing.happened", organization_id=other_org.pk)
    audit_record(action="tests.thing.happened")
    chains = set(AuditChainHead.objects.values_list("chain", flat=True))
    assert {f"org:{org.pk}", f"org:{other_org.pk}", "system"} <= chains
