"""The journeys that matter, in headless Chromium against the live server."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from qijia.applications import services as s
from qijia.applications.models import Application, Payment, ScreeningFinding, Status
from qijia.applications.screening import screen_application_now
from qijia.applications.testing import make_world, pdf_bytes, photo_bytes
from qijia.core.testing import TEST_PASSWORD, EnterpriseFactory, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _as(chromium, live_server, user):
    context = chromium.new_context(
        base_url=live_server.url, locale="zh-CN", viewport={"width": 390, "height": 844}
    )  # a phone
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.goto("/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login" not in url)
    return page


def _planted_pair(world):
    """Two applications of other enterprises that share one photo; the second awaits approval."""
    ids = []
    for n in range(2):
        enterprise = EnterpriseFactory(established_on=dt.date(2010, 1, 1))
        user = make_user("enterprise", enterprise=enterprise)
        app = s.application_create(
            actor=user, call_id=world.call.pk, title=f"被复用照片项目{n}", amount_requested="100000"
        )
        s.evidence_add(
            actor=user,
            application_id=app.pk,
            material_code="site_photo",
            upload=SimpleUploadedFile("same.jpg", photo_bytes(4242), "image/jpeg"),
        )
        scan = s.evidence_add(
            actor=user,
            application_id=app.pk,
            material_code="invoice",
            upload=SimpleUploadedFile("i.pdf", pdf_bytes(), "application/pdf"),
        )
        s.invoice_add(
            actor=user,
            application_id=app.pk,
            invoice_code="",
            invoice_number=f"2644200000000000{n:04d}",
            issued_on=timezone.localdate() - dt.timedelta(days=9),
            seller_tax_id=EnterpriseFactory().uscc,
            buyer_tax_id=enterprise.uscc,
            amount="100000",
            tax="13000",
            scan_id=scan.pk,
        )
        s.application_submit(actor=user, application_id=app.pk)
        screen_application_now(application_id=app.pk)
        ids.append(app.pk)
    s.application_pass_formal_review(actor=world.officer, application_id=ids[1])
    return Application.objects.get(pk=ids[1])


def test_apply_return_correct_review_planted_duplicate_approve_notice_pay(
    chromium, live_server, tmp_path, monkeypatch
):
    from qijia.core.reference import load_reference

    load_reference()
    world = make_world()
    planted = _planted_pair(world)
    assert ScreeningFinding.objects.filter(application=planted, kind="duplicate_photo").exists()
    photo, photo2, scan = tmp_path / "现场.jpg", tmp_path / "现场-更正.jpg", tmp_path / "发票.pdf"
    photo.write_bytes(photo_bytes(11))
    photo2.write_bytes(photo_bytes(12))
    scan.write_bytes(pdf_bytes("invoice scan"))

    # 1. the enterprise finds the programme in the calculator and applies
    ent = _as(chromium, live_server, world.applicant)
    ent.goto("/programmes/")
    card = ent.locator(f".calc-row[data-call='{world.call.pk}']")
    assert "符合条件" in card.inner_text()
    card.get_by_role("link", name="在线申报").click()
    ent.fill("#id_title", "伺服压机产线改造")
    ent.fill("#id_amount", "200000")
    ent.get_by_role("button", name="保存草稿").click()
    ent.wait_for_url("**/applications/*/")
    app = Application.objects.get(title="伺服压机产线改造")
    ent.select_option("#material_code", "site_photo")
    ent.set_input_files("#file", str(photo))
    ent.locator("#upload-form button").click()
    ent.wait_for_selector("text=材料已上传")
    ent.select_option("#material_code", "invoice")
    ent.set_input_files("#file", str(scan))
    ent.locator("#upload-form button").click()
    ent.wait_for_selector("#files >> text=发票.pdf")
    ent.fill("#inv_code", "044001900111")
    ent.fill("#inv_number", "87654321")
    ent.fill("#inv_date", (timezone.localdate() - dt.timedelta(days=20)).isoformat())
    ent.fill("#inv_seller", EnterpriseFactory().uscc)
    ent.fill("#inv_amount", "226000")
    ent.fill("#inv_tax", "26000")
    ent.select_option("#inv_scan", index=1)
    ent.get_by_role("button", name="保存发票").click()
    ent.wait_for_selector("text=发票信息已录入")
    ent.locator("form[data-action=submit] button").click()
    ent.wait_for_selector("#status[data-status=submitted]")

    # 2. the officer returns it; the enterprise corrects the photo and resubmits
    officer = _as(chromium, live_server, world.officer)
    officer.goto(f"/applications/{app.pk}/")
    officer.fill("#note-return_for_correction", "现场照片看不清设备铭牌，请重新拍摄")
    officer.locator("form[data-action=return_for_correction] button").click()
    officer.wait_for_selector("#status[data-status=returned]")
    ent.goto(f"/applications/{app.pk}/")
    assert "请重新拍摄" in ent.locator("#timeline").inner_text()
    row = ent.locator("#files tr", has_text="现场.jpg")
    row.locator("input[type=file]").set_input_files(str(photo2))
    row.get_by_role("button", name="上传更正版本").click()
    ent.wait_for_selector("text=历史版本")
    ent.locator("form[data-action=resubmit] button").click()
    ent.wait_for_selector("#status[data-status=submitted]")
    assert app.files.filter(kind="photo").count() == 2  # the first version is kept

    # 3. the reviewer sees the planted duplicate side by side and confirms it
    officer.goto(f"/applications/{planted.pk}/")
    finding = officer.locator(".finding[data-kind=duplicate_photo]")
    images = finding.locator(".side-by-side img")
    assert images.count() == 2
    for i in range(2):
        assert images.nth(i).evaluate("img => img.complete && img.naturalWidth > 0")
    finding.locator("input[name=reason]").fill("两家企业提交同一张现场照片")
    finding.get_by_role("button", name="确认问题").click()
    officer.wait_for_selector("text=筛查发现已确认")
    officer.fill("#note-reject", "证明材料造假")
    officer.locator("form[data-action=reject] button").click()
    officer.wait_for_selector("#status[data-status=rejected]")

    # 4. approval, public notice and payment to the end
    officer.goto(f"/applications/{app.pk}/")
    officer.locator("form[data-action=pass_formal_review] button").click()
    officer.wait_for_selector("#status[data-status=awaiting_approval]")
    approver = _as(chromium, live_server, world.approver)
    approver.goto(f"/applications/{app.pk}/")
    approver.fill("#amount-approve", "180000")
    approver.fill("#note-approve", "同意")
    approver.locator("form[data-action=approve] button").click()
    approver.wait_for_selector("#status[data-status=approved]")
    officer.goto(f"/applications/{app.pk}/")
    officer.locator("form[data-action=publish_notice] button").click()
    officer.wait_for_selector("#status[data-status=in_notice]")
    # the notice period passes
    Application.objects.filter(pk=app.pk).update(
        notice_starts_on=timezone.localdate() - dt.timedelta(days=10),
        notice_ends_on=timezone.localdate() - dt.timedelta(days=5),
    )
    officer.goto(f"/applications/{app.pk}/")
    officer.locator("form[data-action=close_notice] button").click()
    officer.wait_for_selector("#status[data-status=payable]")
    officer.fill("#bank_reference", "GK20261128001")
    officer.locator("form[data-action=pay] button").click()
    officer.wait_for_selector("#status[data-status=paid]")
    officer.go_back()  # the browser re-posts nothing, but a second click must not pay twice
    app.refresh_from_db()
    assert app.status == Status.PAID
    assert Payment.objects.filter(application=app).count() == 1
    assert Payment.objects.get(application=app).amount == 180000
    ent.goto(f"/applications/{app.pk}/")
    assert "资金拨付" in ent.locator("#timeline").inner_text()
