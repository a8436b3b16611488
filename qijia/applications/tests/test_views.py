"""Pages through the Django test client: the journeys, scoping, and refusals shown to the user."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from qijia.applications.models import Application, Status
from qijia.applications.testing import filled_application, pdf_bytes, photo_bytes
from qijia.core.testing import make_uscc, make_user

from .helpers import advance

pytestmark = pytest.mark.django_db


def test_calculator_shows_open_call_with_conditions_for_enterprise(client, world):
    client.force_login(world.applicant)
    page = client.get(reverse("programmes:calculator")).content.decode()
    assert world.programme.title in page
    assert "符合条件" in page and "所属行业" in page


def test_enterprise_applies_through_the_pages(client, world, django_capture_on_commit_callbacks):
    client.force_login(world.applicant)
    r = client.post(
        reverse("applications:create", args=[world.call.pk]),
        {"title": "自动化产线", "amount_requested": "150000"},
    )
    app = Application.objects.get(title="自动化产线")
    assert r.status_code == 302
    url = reverse("applications:upload", args=[app.pk])
    client.post(
        url,
        {
            "material_code": "site_photo",
            "file": SimpleUploadedFile("a.jpg", photo_bytes(3), "image/jpeg"),
        },
    )
    client.post(
        url,
        {
            "material_code": "invoice",
            "file": SimpleUploadedFile("i.pdf", pdf_bytes(), "application/pdf"),
        },
    )
    r = client.post(
        reverse("applications:invoice", args=[app.pk]),
        {
            "invoice_code": "044001900111",
            "invoice_number": "12345678",
            "issued_on": (timezone.localdate() - timezone.timedelta(days=3)).isoformat(),
            "seller_tax_id": make_uscc(),
            "buyer_tax_id": world.enterprise.uscc,
            "amount": "100000",
            "tax": "13000",
        },
        follow=True,
    )
    assert "发票信息已录入" in r.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(reverse("applications:act", args=[app.pk, "submit"]), follow=True)
    app.refresh_from_db()
    assert app.status == Status.SUBMITTED, r.content.decode()
    assert app.screened_at is not None  # screening ran in-process on commit


def test_fake_image_is_refused_with_the_file_name(client, world):
    app = filled_application(world)
    client.force_login(world.applicant)
    r = client.post(
        reverse("applications:upload", args=[app.pk]),
        {
            "material_code": "site_photo",
            "file": SimpleUploadedFile("fake.jpg", b"\xff\xd8\xff not really a jpeg", "image/jpeg"),
        },
        follow=True,
    )
    assert "fake.jpg" in r.content.decode()
    assert app.files.filter(original_name="fake.jpg").count() == 0


def test_submit_refusal_is_shown(client, world):
    app = Application.objects.create(
        reference="SQ-X-1",
        programme=world.programme,
        call=world.call,
        enterprise=world.enterprise,
        created_by=world.applicant,
        title="t",
        amount_requested=1,
    )
    client.force_login(world.applicant)
    r = client.post(reverse("applications:act", args=[app.pk, "submit"]), follow=True)
    assert "申报材料不完整" in r.content.decode()


def test_other_enterprise_cannot_see_application_or_its_files(client, world):
    app = filled_application(world)
    stranger = make_user("enterprise")
    client.force_login(stranger)
    assert client.get(reverse("applications:detail", args=[app.pk])).status_code == 404
    file_id = app.files.first().pk
    assert client.get(reverse("applications:file", args=[file_id])).status_code == 404


def test_staff_do_not_see_drafts_but_see_submissions(client, world):
    app = filled_application(world)
    client.force_login(world.officer)
    assert client.get(reverse("applications:detail", args=[app.pk])).status_code == 404
    advance(world, app, to="submitted")
    r = client.get(reverse("applications:detail", args=[app.pk]))
    assert r.status_code == 200 and "退回补正" in r.content.decode()


def test_work_queue_lists_what_waits(client, world):
    app = advance(world, to="submitted")
    client.force_login(world.officer)
    page = client.get(reverse("applications:queue")).content.decode()
    assert app.reference in page and "形式审查" in page
    client.force_login(world.applicant)
    assert client.get(reverse("applications:queue")).status_code == 403


def test_funds_xlsx_export(client, world):
    from openpyxl import load_workbook

    advance(world, to="approved")
    client.force_login(world.officer)
    r = client.get(reverse("programmes:funds_xlsx") + f"?year={world.call.year}")
    wb = load_workbook(io.BytesIO(r.content))
    rows = list(wb.worksheets[0].iter_rows(values_only=True))
    assert rows[0][0] == "名称"
    assert any(world.programme.code in str(row[0]) and row[3] == 200000 for row in rows[1:])


def test_api_payment_with_the_same_idempotency_key_pays_once(client, world):
    app = advance(world, to="payable")
    client.force_login(world.officer)
    url = f"/api/v1/applications/{app.pk}/pay"
    first = client.post(
        url,
        {"bank_reference": "GK1"},
        content_type="application/json",
        headers={"Idempotency-Key": "api-key-1"},
    )
    again = client.post(
        url,
        {"bank_reference": "GK1"},
        content_type="application/json",
        headers={"Idempotency-Key": "api-key-1"},
    )
    assert first.status_code == 200 and again.status_code == 200
    assert first.json()["id"] == again.json()["id"]
    other = client.post(
        url, {}, content_type="application/json", headers={"Idempotency-Key": "api-key-2"}
    )
    assert other.status_code == 409 and other.json()["code"] == "invalid_transition"
    missing = client.post(url, {}, content_type="application/json")
    assert missing.status_code == 422 and missing.json()["code"] == "validation_failed"
    assert any("idempotency" in field.lower() for field in missing.json()["fields"])


def test_api_hides_other_enterprises_applications(client, world):
    app = advance(world, to="submitted")
    client.force_login(make_user("enterprise"))
    r = client.get(f"/api/v1/applications/{app.pk}")
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    client.force_login(world.applicant)
    body = client.get(f"/api/v1/applications/{app.pk}").json()
    assert [e["action"] for e in body["timeline"]][:2] == ["create", "evidence_added"]


def test_recheck_page_records_seed_then_draws(client, world):
    advance(world, to="paid")
    client.force_login(world.officer)
    client.post(
        reverse("applications:rechecks"), {"programme_id": world.programme.pk, "share_pct": "100"}
    )
    from qijia.applications.models import RecheckDraw

    draw = RecheckDraw.objects.get()
    assert draw.selected is None
    assert str(draw.seed) in client.get(reverse("applications:rechecks")).content.decode()
    client.post(reverse("applications:rechecks"), {"draw_id": draw.pk})
    draw.refresh_from_db()
    assert len(draw.selected) == 1
    client.force_login(world.applicant)
    assert client.get(reverse("applications:rechecks")).status_code == 403


def test_home_panels_for_enterprise_and_staff(client, world):
    app = advance(world, to="submitted")
    client.force_login(world.applicant)
    assert app.reference in client.get(reverse("core:home")).content.decode()
    client.force_login(world.officer)
    page = client.get(reverse("core:home")).content.decode()
    assert "资助申请待办" in page and app.reference in page


def test_anyone_signed_in_sees_the_notice_and_can_object(client, world):
    app = advance(world, to="in_notice")
    other = make_user("enterprise")
    client.force_login(other)
    page = client.get(reverse("applications:notice")).content.decode()
    assert app.reference in page and world.enterprise.name in page
    client.post(
        reverse("applications:notice"),
        {"application_id": app.pk, "filer_name": "同行企业", "content": "该项目设备未到位"},
    )
    assert app.objections.get().filer_name == "同行企业"
