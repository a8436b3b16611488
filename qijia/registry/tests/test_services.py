"""Services and selectors on PostgreSQL: state, versions, audit rows, notifications."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from qijia.audit.models import AuditEvent
from qijia.core.errors import Conflict, InvalidTransition, PermissionDenied, ValidationFailed
from qijia.core.testing import EnterpriseFactory, make_uscc
from qijia.notifications.models import Notification
from qijia.registry import selectors, services
from qijia.registry.models import CheckLog, Entry, EntryVersion, Evidence

from .conftest import PNG_BYTES, csv_bytes

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 6, 1)


def test_partner_lists_an_enterprise_not_yet_in_the_registry_with_version_and_audit(
    make_entry, partner_a, dept_a, pdf
):
    entry = make_entry(evidence=[pdf()])
    assert entry.source == dept_a and entry.version == 1 and entry.status_on(DAY) == "active"
    version = EntryVersion.objects.get(entry=entry)
    assert (version.action, version.change_seq, version.uscc) == (
        "created",
        entry.change_seq,
        entry.uscc,
    )
    evidence = Evidence.objects.get(entry=entry)
    assert evidence.content_type == "application/pdf" and len(evidence.sha256) == 64
    event = AuditEvent.objects.get(action="registry.entry_created", object_id=str(entry.pk))
    assert event.actor_id == partner_a.pk and event.after["uscc"] == entry.uscc


def test_enterprise_name_is_filled_from_the_enterprise_registry(make_entry):
    enterprise = EnterpriseFactory()
    assert make_entry(uscc=enterprise.uscc).enterprise_name == enterprise.name


def test_invalid_entry_is_refused_with_every_field_named_and_nothing_written(partner_a):
    with pytest.raises(ValidationFailed) as caught:
        services.entry_create(
            actor=partner_a,
            uscc="91441900MA4UJ5C36X",
            list="grey",
            category="nope",
            reason="",
            valid_from="2026-13-01",
        )
    assert set(caught.value.fields) == {"uscc", "list", "category", "reason", "valid_from"}
    assert "校验位" in caught.value.fields["uscc"]
    assert Entry.objects.count() == 0 and AuditEvent.objects.count() == 0


def test_evidence_is_checked_by_content_not_by_name(partner_a, make_entry):
    fake = SimpleUploadedFile("决定书.pdf", b"MZ\x90\x00 this is an executable", "application/pdf")
    with pytest.raises(ValidationFailed) as caught:
        make_entry(evidence=[fake])
    assert "决定书.pdf" in caught.value.message and "不是PDF或图片" in caught.value.message
    assert Entry.objects.count() == 0


def test_evidence_over_the_size_limit_is_refused(settings, make_entry):
    settings.QIJIA_REGISTRY_EVIDENCE_MAX_BYTES = 1024
    big = SimpleUploadedFile("大图.png", PNG_BYTES + b"\x00" * 2000, "image/png")
    with pytest.raises(ValidationFailed, match="超过"):
        make_entry(evidence=[big])


def test_amend_appends_a_version_and_keeps_the_old_one(make_entry, partner_a):
    entry = make_entry()
    amended = services.entry_amend(
        actor=partner_a,
        entry_id=entry.pk,
        changes={"valid_to": dt.date(2026, 12, 31)},
        note="复核后确定期限",
        expected_version=1,
    )
    assert amended.version == 2 and amended.change_seq > entry.change_seq
    versions = list(EntryVersion.objects.filter(entry=entry).order_by("version"))
    assert [(v.version, v.valid_to) for v in versions] == [(1, None), (2, dt.date(2026, 12, 31))]
    event = AuditEvent.objects.get(action="registry.entry_amended")
    assert event.before["valid_to"] is None and event.after["valid_to"] == "2026-12-31"


def test_amend_with_a_stale_version_is_a_conflict(make_entry, partner_a):
    entry = make_entry()
    services.entry_amend(actor=partner_a, entry_id=entry.pk, changes={"reason": "补充事由"})
    with pytest.raises(Conflict) as caught:
        services.entry_amend(
            actor=partner_a, entry_id=entry.pk, changes={"reason": "另一事由"}, expected_version=1
        )
    assert caught.value.code == "version_conflict"


def test_department_cannot_amend_or_revoke_another_departments_entry(make_entry, partner_b):
    entry = make_entry()
    with pytest.raises(PermissionDenied):
        services.entry_amend(actor=partner_b, entry_id=entry.pk, changes={"reason": "改"})
    with pytest.raises(PermissionDenied):
        services.entry_revoke(actor=partner_b, entry_id=entry.pk, reason="撤")
    assert Entry.objects.get(pk=entry.pk).version == 1


def test_bureau_officer_manages_any_entry(make_entry, officer):
    entry = make_entry()
    revoked = services.entry_revoke(actor=officer, entry_id=entry.pk, reason="已补缴税款")
    assert revoked.revoked_by == officer and revoked.status_on(DAY) == "revoked"
    with pytest.raises(InvalidTransition):
        services.entry_revoke(actor=officer, entry_id=entry.pk, reason="再次撤销")
    with pytest.raises(InvalidTransition):
        services.entry_amend(actor=officer, entry_id=entry.pk, changes={"reason": "改"})


def test_inspector_and_enterprise_cannot_create_entries(inspector, user_factory):
    for actor in (inspector, user_factory("enterprise")):
        with pytest.raises(PermissionDenied):
            services.entry_create(
                actor=actor,
                uscc=make_uscc(),
                list="ineligible",
                category="other",
                reason="x",
                valid_from=DAY,
            )


def test_check_returns_only_entries_in_force_on_the_date(make_entry, partner_a):
    uscc = make_uscc()
    current = make_entry(uscc=uscc, valid_from=dt.date(2026, 1, 1), valid_to=dt.date(2026, 12, 31))
    make_entry(uscc=uscc, valid_from=dt.date(2027, 1, 1))  # not yet in force
    revoked = make_entry(uscc=uscc)
    services.entry_revoke(actor=partner_a, entry_id=revoked.pk, reason="错误列入")
    assert [e.pk for e in selectors.registry_check(uscc=uscc.lower(), on=DAY)] == [current.pk]
    assert selectors.registry_check(uscc=uscc, on=dt.date(2027, 1, 1))[0].valid_from.year == 2027
    assert selectors.registry_check(uscc=make_uscc(), on=DAY) == []


def test_every_check_is_recorded_and_sealed_into_the_audit_chain(make_entry, partner_b):
    entry = make_entry()
    selectors.registry_check(uscc=entry.uscc, on=DAY, actor=partner_b)
    log = CheckLog.objects.get()
    assert (log.uscc, log.listed, log.bulk, log.sealed_seq) == (entry.uscc, True, False, None)
    assert partner_b.username in log.actor_label and log.org_unit_label == "市生态环境局"
    assert services.checklog_seal() == 1 and services.checklog_seal() == 0
    event = AuditEvent.objects.get(action="registry.check_sealed")
    log.refresh_from_db()
    assert log.sealed_seq == event.seq and event.after["ids"] == [log.pk]
    assert event.after["sha256"] == services.checklog_digest([log])


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
def test_sealed_query_log_rows_cannot_be_changed_or_deleted(make_entry, partner_b):
    from django.db import DatabaseError, transaction

    entry = make_entry()
    selectors.registry_check(uscc=entry.uscc, on=DAY, actor=partner_b)
    services.checklog_seal()
    with pytest.raises(DatabaseError), transaction.atomic():
        CheckLog.objects.update(uscc=make_uscc())
    with pytest.raises(DatabaseError), transaction.atomic():
        CheckLog.objects.all().delete()


def test_bulk_check_answers_every_code_and_logs_each_in_one_audit_append(make_entry, partner_b):
    listed = [make_entry() for _ in range(3)]
    clean = [make_uscc() for _ in range(40)]
    codes = [e.uscc for e in listed] + clean + [listed[0].uscc]  # a duplicate
    result = selectors.registry_check_bulk(codes=codes, on=DAY, actor=partner_b)
    assert result.checked == 43 and set(result.listed) == {e.uscc for e in listed}
    event = AuditEvent.objects.get(action="registry.check_bulk")
    sealed = CheckLog.objects.filter(audit_seq=event.seq, sealed_seq=event.seq).order_by("id")
    assert event.after["count"] == 43 and sealed.count() == 43
    assert event.after["codes_sha256"] == selectors.codes_digest(r.uscc for r in sealed)
    assert event.after["codes_sha256"] != selectors.codes_digest(list(sealed.values_list(
        "uscc", flat=True))[1:])  # fmt: skip
    assert CheckLog.objects.filter(listed=True).count() == 3


def test_bulk_check_refuses_the_whole_request_when_one_code_is_bad(partner_b):
    with pytest.raises(ValidationFailed) as caught:
        selectors.registry_check_bulk(codes=[make_uscc(), "12345"], on=DAY, actor=partner_b)
    assert list(caught.value.fields) == ["uscc[1]"]
    assert CheckLog.objects.count() == 0


def test_bulk_check_refuses_more_than_ten_thousand_codes(partner_b):
    with pytest.raises(ValidationFailed) as caught:
        selectors.registry_check_bulk(codes=["x"] * 10_001, on=DAY, actor=partner_b)
    assert caught.value.code == "too_many_codes"


def test_naive_path_gives_the_same_answer_as_the_bulk_check(make_entry):
    listed = [make_entry() for _ in range(5)]
    codes = [e.uscc for e in listed] + [make_uscc() for _ in range(10)]
    bulk = selectors.registry_check_bulk(codes=codes, on=DAY)
    naive = selectors.registry_check_naive(codes=codes, on=DAY)
    assert {k: [e.pk for e in v] for k, v in bulk.listed.items()} == {
        k: [e.pk for e in v] for k, v in naive.items()
    }


def test_changes_feed_returns_versions_after_the_cursor_in_order(make_entry, partner_a):
    first = make_entry()
    cursor = first.change_seq
    second = make_entry()
    services.entry_revoke(actor=partner_a, entry_id=first.pk, reason="撤销")
    rows, next_cursor, more = selectors.changes_since(actor=partner_a, since=cursor, limit=1)
    assert [r.entry_id for r in rows] == [second.pk] and more
    rows, next_cursor, more = selectors.changes_since(actor=partner_a, since=next_cursor)
    assert [(r.entry_id, r.action) for r in rows] == [(first.pk, "revoked")] and not more
    assert selectors.changes_since(actor=partner_a, since=next_cursor)[0] == []


def test_csv_import_creates_all_rows_with_versions_and_audit(partner_a):
    codes = [make_uscc() for _ in range(3)]
    content = csv_bytes(
        [
            [
                "统一社会信用代码",
                "企业名称",
                "名单",
                "类别",
                "列入事由",
                "文书编号",
                "生效日期",
                "截止日期",
            ]
        ]
        + [
            [c, f"企业{i}", "不予资助", "欠缴税款", "欠税", "", "2026-01-01", ""]
            for i, c in enumerate(codes)
        ]
    )
    created = services.entries_import_csv(actor=partner_a, content=content, filename="t.csv")
    assert sorted(e.uscc for e in created) == sorted(codes)
    assert EntryVersion.objects.count() == 3
    assert AuditEvent.objects.filter(action="registry.entry_created").count() == 3
    seqs = sorted(e.change_seq for e in Entry.objects.all())
    assert seqs == list(range(seqs[0], seqs[0] + 3))


def test_csv_import_is_all_or_nothing_with_a_row_level_report(partner_a):
    content = csv_bytes(
        [
            ["uscc", "list", "category", "reason", "valid_from", "valid_to"],
            [make_uscc(), "ineligible", "tax_arrears", "欠税", "2026-01-01", ""],
            ["91441900MA4UJ5C36X", "ineligible", "tax_arrears", "欠税", "2026-01-01", ""],
            [make_uscc(), "blacklist", "nope", "", "2026-01-01", "2025-01-01"],
        ],
        encoding="gb18030",
    )
    with pytest.raises(ValidationFailed) as caught:
        services.entries_import_csv(actor=partner_a, content=content, filename="名单.csv")
    fields = caught.value.fields
    assert set(fields) == {"row3.uscc", "row4.category", "row4.reason", "row4.valid_to"}
    assert fields["row3.uscc"].startswith("第3行“统一社会信用代码”")
    assert caught.value.code == "csv_rows_invalid" and Entry.objects.count() == 0


def test_csv_without_required_columns_names_them(partner_a):
    with pytest.raises(ValidationFailed) as caught:
        services.entries_import_csv(actor=partner_a, content=b"uscc,reason\n", filename="x.csv")
    assert "list（名单）" in caught.value.message and "第1行" in caught.value.message


def test_enterprise_objects_and_source_department_upholds_which_revokes(
    make_entry, partner_a, user_factory, pdf
):
    enterprise = EnterpriseFactory()
    entry = make_entry(uscc=enterprise.uscc)
    owner = user_factory("enterprise", enterprise=enterprise, email="boss@example.com")
    mail.outbox.clear()
    objection = services.objection_lodge(
        actor=owner,
        entry_id=entry.pk,
        reason="已于上月补缴全部税款",
        evidence=[pdf("完税证明.pdf")],
    )
    assert objection.due_on == dt.date.today() + dt.timedelta(days=15)
    assert Notification.objects.filter(
        recipient=partner_a, kind="registry.objection_lodged"
    ).exists()
    answered = services.objection_answer(
        actor=partner_a, objection_id=objection.pk, upheld=True, answer="核实已补缴"
    )
    entry.refresh_from_db()
    assert answered.status == "upheld" and entry.revoked_at is not None
    assert entry.revocation_reason == "申诉成立：核实已补缴"
    assert (
        Notification.objects.filter(recipient=owner, kind="registry.objection_answered").count()
        == 1
    )
    assert [v.action for v in entry.versions.order_by("version")] == ["created", "revoked"]


def test_rejected_objection_keeps_the_entry_and_shows_the_reason(
    make_entry, partner_a, user_factory, pdf
):
    enterprise = EnterpriseFactory()
    entry = make_entry(uscc=enterprise.uscc)
    owner = user_factory("enterprise", enterprise=enterprise)
    objection = services.objection_lodge(
        actor=owner, entry_id=entry.pk, reason="不服", evidence=[pdf()]
    )
    with pytest.raises(Conflict):
        services.objection_lodge(actor=owner, entry_id=entry.pk, reason="再次", evidence=[pdf()])
    services.objection_answer(
        actor=partner_a, objection_id=objection.pk, upheld=False, answer="证据不足"
    )
    entry.refresh_from_db()
    objection.refresh_from_db()
    assert entry.revoked_at is None and (objection.status, objection.answer) == (
        "rejected",
        "证据不足",
    )
    with pytest.raises(InvalidTransition):
        services.objection_answer(
            actor=partner_a, objection_id=objection.pk, upheld=True, answer="x"
        )


def test_only_the_listed_enterprise_objects_and_only_the_source_answers(
    make_entry, partner_b, user_factory, pdf
):
    enterprise = EnterpriseFactory()
    entry = make_entry(uscc=enterprise.uscc)
    stranger = user_factory("enterprise")
    with pytest.raises(PermissionDenied):
        services.objection_lodge(actor=stranger, entry_id=entry.pk, reason="x", evidence=[pdf()])
    owner = user_factory("enterprise", enterprise=enterprise)
    with pytest.raises(ValidationFailed):
        services.objection_lodge(actor=owner, entry_id=entry.pk, reason="x", evidence=[])
    objection = services.objection_lodge(
        actor=owner, entry_id=entry.pk, reason="x", evidence=[pdf()]
    )
    with pytest.raises(PermissionDenied):
        services.objection_answer(
            actor=partner_b, objection_id=objection.pk, upheld=True, answer="y"
        )


def test_overdue_objections_are_listed(make_entry, partner_a, user_factory, pdf, settings):
    settings.QIJIA_REGISTRY_OBJECTION_DAYS = -1
    enterprise = EnterpriseFactory()
    entry = make_entry(uscc=enterprise.uscc)
    owner = user_factory("enterprise", enterprise=enterprise)
    objection = services.objection_lodge(
        actor=owner, entry_id=entry.pk, reason="x", evidence=[pdf()]
    )
    overdue = list(selectors.objection_list(actor=partner_a, overdue_only=True))
    assert overdue == [objection] and objection.is_overdue


def test_expiry_job_records_and_notifies_once_per_entry(make_entry, partner_a, user_factory):
    enterprise = EnterpriseFactory()
    owner = user_factory("enterprise", enterprise=enterprise)
    expired = make_entry(
        uscc=enterprise.uscc, valid_from=dt.date(2025, 1, 1), valid_to=dt.date(2025, 12, 31)
    )
    make_entry(valid_from=dt.date(2025, 1, 1))  # open-ended
    assert services.registry_expire(today=dt.date(2026, 1, 1)) == 1
    assert services.registry_expire(today=dt.date(2026, 1, 2)) == 0
    expired.refresh_from_db()
    assert expired.versions.order_by("-version").first().action == "expired"
    kinds = Notification.objects.filter(kind="registry.entry_expired")
    assert {n.recipient_id for n in kinds} == {owner.pk, partner_a.pk}


def test_expiring_view_lists_entries_closing_within_thirty_days(make_entry, partner_a, partner_b):
    today = dt.date.today()
    soon = make_entry(
        valid_from=today - dt.timedelta(days=10), valid_to=today + dt.timedelta(days=20)
    )
    make_entry(valid_from=today - dt.timedelta(days=10), valid_to=today + dt.timedelta(days=40))
    assert list(selectors.expiring_list(actor=partner_a)) == [soon]
    assert list(selectors.expiring_list(actor=partner_b)) == []


def test_token_is_stored_hashed_and_resolves_to_its_department(partner_a):
    from qijia.registry.auth import token_authenticate

    token, text = services.token_create(actor=partner_a, name="税务同步", scope="read")
    assert text.split("_", 2)[2] not in token.secret_hash
    actor = token_authenticate(text)
    assert actor.org_unit_id == partner_a.org_unit_id and not actor.can_write
    assert token_authenticate(text[:-1] + ("A" if text[-1] != "A" else "B")) is None
    services.token_revoke(actor=partner_a, token_id=token.pk)
    assert token_authenticate(text) is None


def test_entry_list_scopes_an_enterprise_to_its_own_listings(make_entry, user_factory):
    enterprise = EnterpriseFactory()
    own = make_entry(uscc=enterprise.uscc)
    make_entry()
    owner = user_factory("enterprise", enterprise=enterprise)
    assert list(selectors.entry_list(actor=owner)) == [own]
    assert list(selectors.entry_list(actor=user_factory("expert"))) == []


def test_expiry_command_and_task_run_the_same_job(make_entry):
    import io

    from django.core.management import CommandError, call_command

    from qijia.registry.tasks import expire_entries

    make_entry(valid_from=dt.date(2020, 1, 1), valid_to=dt.date(2020, 12, 31))
    out = io.StringIO()
    call_command("registry_expire", "--date", "2021-01-01", stdout=out)
    assert "1" in out.getvalue()
    make_entry(valid_from=dt.date(2020, 1, 1), valid_to=dt.date(2020, 6, 30))
    assert expire_entries.apply().get() == 1
    with pytest.raises(CommandError, match="不是有效日期"):
        call_command("registry_expire", "--date", "2021-13-01")
