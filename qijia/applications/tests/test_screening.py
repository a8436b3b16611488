"""Screening in the loop: the engine sees the database's applications, photos, invoices and the
enterprise registry; findings land on the application with their evidence."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from qijia.applications import services as s
from qijia.applications.models import ScreeningFinding
from qijia.applications.screening import screen_application_now
from qijia.applications.testing import filled_application, pdf_bytes, photo_upload
from qijia.core.testing import EnterpriseFactory, make_user
from qijia.enterprises.models import Person, PersonRole

pytestmark = pytest.mark.django_db


def _second_applicant(world):
    other = EnterpriseFactory(established_on=dt.date(2012, 1, 1))
    user = make_user("enterprise", enterprise=other)
    return other, user


def test_planted_duplicate_photo_is_found_with_both_files(world):
    first = filled_application(world, photo_seed=42)
    s.application_submit(actor=world.applicant, application_id=first.pk)
    screen_application_now(application_id=first.pk)
    assert not first.findings.exists()

    other, user = _second_applicant(world)
    world.applicant, saved = user, world.applicant
    world.enterprise, saved_e = other, world.enterprise
    second = filled_application(world, photo_seed=42, title="同图项目")  # same photo bytes
    world.applicant, world.enterprise = saved, saved_e
    s.application_submit(actor=user, application_id=second.pk)
    created = screen_application_now(application_id=second.pk)
    assert created >= 1
    finding = ScreeningFinding.objects.get(application=second, kind="duplicate_photo")
    assert finding.evidence["other_reference"] == first.reference
    assert finding.evidence["file_id"] == second.files.get(kind="photo").pk
    assert finding.evidence["other_file_id"] == first.files.get(kind="photo").pk
    # screening again keeps the one finding (and any disposal)
    assert screen_application_now(application_id=second.pk) == 0


def test_invoice_on_three_applications_gives_one_finding_naming_both_others(world, client):
    apps = []
    for k, seed in enumerate((61, 62, 63)):
        if k:
            world.enterprise, world.applicant = _second_applicant(world)
        app = filled_application(world, photo_seed=seed, invoice_number="31415926")
        s.application_submit(actor=world.applicant, application_id=app.pk)
        apps.append(app)
    screen_application_now(application_id=apps[2].pk)
    found = ScreeningFinding.objects.get(application=apps[2], kind="duplicate_invoice")
    assert found.subject == "044001900111|31415926"
    assert found.evidence["other_application_ids"] == [apps[0].reference, apps[1].reference]
    assert f"申报 {apps[0].reference}、{apps[1].reference} 中" in found.summary
    client.force_login(world.officer)
    page = client.get(f"/applications/{apps[2].pk}/").content.decode()
    assert f"{apps[0].reference}、{apps[1].reference}" in page


def test_related_party_seller_is_found_through_the_registry(world, client):
    seller = EnterpriseFactory(name="东莞市关联设备有限公司")
    boss = Person.objects.create(name="陈大文")
    PersonRole.objects.create(person=boss, enterprise=world.enterprise, role="legal_representative")
    PersonRole.objects.create(person=boss, enterprise=seller, role="shareholder", share_pct=60)
    app = s.application_create(
        actor=world.applicant, call_id=world.call.pk, title="采购设备", amount_requested="100000"
    )
    s.evidence_add(
        actor=world.applicant,
        application_id=app.pk,
        material_code="site_photo",
        upload=photo_upload(77),
    )
    scan = s.evidence_add(
        actor=world.applicant,
        application_id=app.pk,
        material_code="invoice",
        upload=SimpleUploadedFile("i.pdf", pdf_bytes(), "application/pdf"),
    )
    s.invoice_add(
        actor=world.applicant,
        application_id=app.pk,
        invoice_code="044001900111",
        invoice_number="55667788",
        issued_on=timezone.localdate() - dt.timedelta(days=5),
        seller_tax_id=seller.uscc,
        seller_name=seller.name,
        buyer_tax_id=world.enterprise.uscc,
        amount="100000",
        tax="13000",
        scan_id=scan.pk,
    )
    s.application_submit(actor=world.applicant, application_id=app.pk)
    screen_application_now(application_id=app.pk)
    finding = ScreeningFinding.objects.get(application=app, kind="related_party_supplier")
    names = [step.get("name") for step in finding.evidence["path"]]
    assert "陈大文" in names and seller.name in names
    client.force_login(world.officer)
    page = client.get(f"/applications/{app.pk}/").content.decode()
    assert "关系路径" in page and "陈大文" in page and "法定代表人" in page


def test_failed_screening_is_audited_and_leaves_approval_blocked(world, monkeypatch):
    from qijia.applications import screening as adapter
    from qijia.applications.tasks import screen_application
    from qijia.audit.models import AuditEvent

    app = filled_application(world)
    s.application_submit(actor=world.applicant, application_id=app.pk)

    def broken(application):
        raise RuntimeError("disk gone")

    monkeypatch.setattr(adapter, "build_bundle", broken)
    assert screen_application(app.pk) == -1
    assert AuditEvent.objects.filter(
        action="applications.screening_failed", object_id=str(app.pk)
    ).exists()
    s.application_pass_formal_review(actor=world.officer, application_id=app.pk)
    with pytest.raises(s.PreconditionFailed, match="诚信筛查尚未完成"):
        s.application_approve(actor=world.approver, application_id=app.pk, amount="1000")


def test_migration_renames_stored_subjects_keeping_disposals(world):
    from django.apps import apps

    migration = importlib.import_module("qijia.applications.migrations.0004_finding_subjects")
    app = filled_application(world)

    def finding(subject: str, kind: str = "duplicate_invoice", **kw) -> ScreeningFinding:
        return ScreeningFinding.objects.create(
            application=app,
            kind=kind,
            severity="high",
            summary="发票重复",
            subject=subject,
            **kw,
        )

    dismissed = finding("4400231130|00000001|7", disposition="dismissed", reason="同一合同分期")
    second_holder = finding("4400231130|00000001|9")
    digital = finding("|24442000000012345678|7")
    current = finding("4400231130|00000002")
    older_of_current = finding("4400231130|00000002|7")
    photo = finding(f"evidence/a.jpg|{app.pk}|evidence/b.jpg", kind="duplicate_photo")
    gone = finding("evidence/a.jpg|999999|evidence/c.jpg", kind="duplicate_photo")
    migration.rename_subjects(apps, None)
    subjects = dict(ScreeningFinding.objects.values_list("pk", "subject"))
    assert subjects == {
        dismissed.pk: "4400231130|00000001",
        second_holder.pk: "4400231130|00000001|9",
        digital.pk: "|24442000000012345678",
        current.pk: "4400231130|00000002",
        older_of_current.pk: "4400231130|00000002|7",
        photo.pk: f"evidence/a.jpg|{app.reference}|evidence/b.jpg",
        gone.pk: "evidence/a.jpg|999999|evidence/c.jpg",
    }
    assert ScreeningFinding.objects.get(pk=dismissed.pk).reason == "同一合同分期"
