"""Staff manage a programme through the pages: create, criteria, publish, call, budget, adjust."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from qijia.applications.testing import make_world
from qijia.programmes.models import AdjustmentStatus, Programme

pytestmark = pytest.mark.django_db


def test_staff_build_a_programme_through_the_pages(client):
    world = make_world()
    client.force_login(world.officer)
    r = client.post(
        reverse("programmes:new"),
        {
            "code": "ui-prog",
            "title": "页面新建专项",
            "max_amount": "100000",
            "major_threshold": "80000",
            "notice_days": "5",
            "recheck_share_pct": "10",
            "material_label": ["现场照片", "发票", "", ""],
            "material_kind": ["photo", "invoice", "contract", "other"],
        },
    )
    programme = Programme.objects.get(code="ui-prog")
    assert r.status_code == 302 and len(programme.required_materials) == 2
    url = reverse("programmes:manage", args=[programme.pk])
    client.post(url, {"op": "criterion", "fact": "industry", "operator": "in", "value": "C39，C40"})
    assert programme.criteria.get().value == ["C39", "C40"]
    client.post(url, {"op": "published"})
    today = timezone.localdate()
    client.post(
        url,
        {
            "op": "call",
            "title": "第一批",
            "year": today.year,
            "opens_on": today.isoformat(),
            "closes_on": today.isoformat(),
        },
    )
    client.post(url, {"op": "budget", "year": today.year, "amount": "500000"})
    client.post(
        url,
        {
            "op": "adjust",
            "budget_id": programme.budgets.get().pk,
            "delta": "50000",
            "reason": "追加",
        },
    )
    programme.refresh_from_db()
    assert programme.status == "published" and programme.calls.count() == 1
    adjustment = programme.budgets.get().adjustments.get()
    client.force_login(world.approver)
    client.post(url, {"op": "approve_adjustment", "adjustment_id": adjustment.pk})
    adjustment.refresh_from_db()
    assert adjustment.status == AdjustmentStatus.APPROVED
    assert programme.budgets.get().amount == 550000


def test_bad_programme_input_is_shown_with_fields(client):
    world = make_world()
    client.force_login(world.officer)
    r = client.post(
        reverse("programmes:new"),
        {"code": "", "title": "", "max_amount": "x", "major_threshold": "1"},
        follow=True,
    )
    assert "专项信息有误" in r.content.decode()


def test_enterprise_cannot_manage(client):
    world = make_world()
    client.force_login(world.applicant)
    assert client.get(reverse("programmes:manage", args=[world.programme.pk])).status_code == 403
    assert client.get(reverse("programmes:new")).status_code == 403


def test_policy_attachment_is_checked_stored_and_served(client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from qijia.applications.samples import pdf_bytes

    world = make_world()
    client.force_login(world.officer)
    url = reverse("programmes:manage", args=[world.programme.pk])
    r = client.post(
        url,
        {"op": "attachment", "title": "假文件", "file": SimpleUploadedFile("x.pdf", b"not a pdf")},
        follow=True,
    )
    assert "x.pdf" in r.content.decode() and not world.programme.attachments.exists()
    client.post(
        url,
        {
            "op": "attachment",
            "title": "政策原文",
            "file": SimpleUploadedFile("policy.pdf", pdf_bytes("policy")),
        },
    )
    attachment = world.programme.attachments.get()
    client.force_login(world.applicant)
    body = b"".join(
        client.get(reverse("programmes:attachment", args=[attachment.pk])).streaming_content
    )
    assert body.startswith(b"%PDF-")


def test_a_programme_the_user_may_not_see_is_a_404_page_not_a_server_error(client):
    world = make_world()
    draft = Programme.objects.create(
        code="draft-1",
        title="未发布专项",
        section=world.programme.section,
        max_amount=1000,
        major_threshold=500,
    )
    client.force_login(world.applicant)
    for pk in (draft.pk, 999_999):
        for name in ("programmes:detail", "programmes:manage"):
            r = client.get(reverse(name, args=[pk]))
            assert r.status_code == 404, (name, pk)
            assert "专项不存在或尚未发布" in r.content.decode()
    client.force_login(world.officer)
    assert client.get(reverse("programmes:detail", args=[draft.pk])).status_code == 200
