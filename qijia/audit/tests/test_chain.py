"""The audit chain: appends in order, verifies clean, and reports each kind of tampering."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from qijia.audit import services
from qijia.audit.models import AuditEvent
from qijia.audit.services import Entry, audit_record, record_many
from qijia.audit.verify import verify_chain
from qijia.identity.models import OrgUnit

pytestmark = pytest.mark.django_db


def _write(n, actor=None):
    unit = OrgUnit.objects.first()
    for i in range(n):
        audit_record(
            actor=actor,
            action="test.change",
            obj=unit,
            before={"n": i},
            after={"n": i + 1, "amount": 1.5},
        )


def _tamper(sql, params=()):
    """Act as someone with database access: bypass the append-only trigger and change rows."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = DEFAULT")


def test_appends_form_a_chain_that_verifies(user_factory):
    officer = user_factory("officer")
    _write(5, actor=officer)
    events = list(AuditEvent.objects.order_by("seq"))
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert events[0].prev_hash == services.GENESIS
    assert all(b.prev_hash == a.hash for a, b in zip(events, events[1:], strict=False))
    assert events[0].actor_id == officer.pk and events[0].actor_role == "officer"
    assert events[0].org_unit_label == str(officer.org_unit)
    result = verify_chain()
    assert result.ok and result.checked == 5


def test_record_many_appends_all_entries_under_one_lock():
    record_many(
        actor=None,
        entries=[
            Entry(action="registry.check", object_type="uscc", object_id=str(i), is_read=True)
            for i in range(100)
        ],
    )
    assert AuditEvent.objects.count() == 100
    assert verify_chain().ok


def test_an_edited_row_is_reported():
    _write(5)
    _tamper("UPDATE audit_auditevent SET after = %s WHERE seq = 3", ['{"n": 999}'])
    result = verify_chain()
    assert not result.ok and result.seq == 3 and "篡改" in result.problem


def test_a_deleted_row_is_reported():
    _write(5)
    _tamper("DELETE FROM audit_auditevent WHERE seq = 2")
    result = verify_chain()
    assert not result.ok and result.seq == 2 and "删除" in result.problem


def test_a_deleted_last_row_is_reported():
    _write(5)
    _tamper("DELETE FROM audit_auditevent WHERE seq = 5")
    result = verify_chain()
    assert not result.ok and result.seq == 5


def test_an_inserted_row_is_reported():
    _write(3)
    last = AuditEvent.objects.get(seq=3)
    # A forger who copies the format but has no key: plausible hash, right prev_hash.
    _tamper(
        "INSERT INTO audit_auditevent (seq, occurred_at, actor_label, actor_role, org_unit_label, action, is_read,"
        " object_type, object_id, object_repr, before, after, ip, channel, request_id, prev_hash, hash)"
        " VALUES (4, %s, 'forger', '', '', 'test.change', false, '', '', '', NULL, NULL, '', '', '', %s, %s)",
        [last.occurred_at, last.hash, "f" * 64],
    )
    result = verify_chain()
    assert not result.ok and result.seq == 4


def test_a_row_renumbered_into_the_middle_is_reported():
    _write(4)
    _tamper("UPDATE audit_auditevent SET seq = 10 WHERE seq = 2")
    result = verify_chain()
    assert not result.ok and result.seq == 2


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_postgres_refuses_update_and_delete_of_audit_rows():
    _write(1)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(seq=1).update(action="x")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(seq=1).delete()


def test_a_failing_audit_write_makes_the_action_fail(monkeypatch):
    unit = OrgUnit.objects.first()
    old_name = unit.name

    def broken(fields):
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr(services, "compute_hash", broken)
    with pytest.raises(RuntimeError), transaction.atomic():
        OrgUnit.objects.filter(pk=unit.pk).update(name="改名")
        audit_record(actor=None, action="org.rename", obj=unit)
    unit.refresh_from_db()
    assert unit.name == old_name
    assert AuditEvent.objects.count() == 0


def test_verify_command_exits_nonzero_and_names_the_record():
    _write(3)
    call_command("audit", "verify")
    _tamper("UPDATE audit_auditevent SET actor_label = 'someone else' WHERE seq = 2")
    with pytest.raises(CommandError) as err:
        call_command("audit", "verify")
    assert "第 2 号" in str(err.value)
