"""Test helpers for the lifecycle: a small world (section, staff, enterprise, programme with an open
call and budget) and files that pass the content checks. Imported by tests and the demo seed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from qijia.core.testing import EnterpriseFactory, OrgUnitFactory, make_uscc, make_user

from .samples import pdf_bytes, photo_bytes

MATERIALS = [
    {"code": "site_photo", "label": "项目现场照片", "kind": "photo", "required": True},
    {"code": "invoice", "label": "采购发票", "kind": "invoice", "required": True},
    {"code": "contract", "label": "采购合同", "kind": "contract", "required": False},
]


def photo_upload(seed: int = 1, name: str = "site.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, photo_bytes(seed), content_type="image/jpeg")


@dataclass
class World:
    section: Any
    officer: Any
    approver: Any
    enterprise: Any
    applicant: Any
    programme: Any
    call: Any
    budget: Any


def make_world(
    *,
    budget: Decimal = Decimal("1000000"),
    max_amount: Decimal = Decimal("500000"),
    major_threshold: Decimal = Decimal("300000"),
    expert_review: bool = False,
    section_code: str = "section-funds",
    section_budget: Decimal | None = None,
    criteria: list[tuple[str, str, Any]] | None = None,
) -> World:
    from qijia.programmes import services as ps

    section = OrgUnitFactory.create(code=section_code, name=f"{section_code}科", kind="section")
    officer = make_user("officer", org_unit=section)
    approver = make_user("approver", org_unit=section)
    enterprise = EnterpriseFactory(established_on=dt.date(2015, 3, 1), size_class="small")
    applicant = make_user("enterprise", enterprise=enterprise)
    programme = ps.programme_create(
        actor=officer,
        code=f"p-{section_code}-{make_uscc()[-6:]}",
        title="技术改造专项资金",
        section=section,
        max_amount=max_amount,
        major_threshold=major_threshold,
        notice_days=5,
        expert_review_required=expert_review,
        required_materials=MATERIALS,
    )
    for fact, op, value in criteria or [
        ("industry", "in", ["C39", "C38"]),
        ("operating", "is_true", None),
        ("not_listed", "is_true", None),
    ]:
        ps.criterion_add(
            actor=officer, programme_id=programme.pk, fact=fact, operator=op, value=value
        )
    ps.programme_set_status(actor=officer, programme_id=programme.pk, status="published")
    today = timezone.localdate()
    call = ps.call_create(
        actor=officer,
        programme_id=programme.pk,
        title=f"{today.year}年第一批",
        year=today.year,
        opens_on=today - dt.timedelta(days=10),
        closes_on=today + dt.timedelta(days=20),
    )
    programme_budget = ps.budget_set(
        actor=officer, programme_id=programme.pk, year=today.year, amount=budget
    )
    if section_budget is not None:
        ps.section_budget_set(
            actor=approver, section=section, year=today.year, amount=section_budget
        )
    return World(
        section, officer, approver, enterprise, applicant, programme, call, programme_budget
    )


def seller_uscc() -> str:
    return make_uscc()


def filled_application(
    world: World,
    *,
    amount: Decimal = Decimal("200000"),
    photo_seed: int = 1,
    invoice_number: str | None = None,
    title: str = "智能产线改造",
) -> Any:
    """A complete draft: photo, invoice scan and invoice fields."""
    from qijia.applications import services as s

    app = s.application_create(
        actor=world.applicant, call_id=world.call.pk, title=title, amount_requested=amount
    )
    s.evidence_add(
        actor=world.applicant,
        application_id=app.pk,
        material_code="site_photo",
        upload=photo_upload(photo_seed),
    )
    scan = s.evidence_add(
        actor=world.applicant,
        application_id=app.pk,
        material_code="invoice",
        upload=SimpleUploadedFile("inv.pdf", pdf_bytes("invoice")),
    )
    s.invoice_add(
        actor=world.applicant,
        application_id=app.pk,
        invoice_code="044001900111",
        invoice_number=invoice_number or f"{app.pk % 10**8:08d}",
        issued_on=timezone.localdate() - dt.timedelta(days=30),
        seller_tax_id=seller_uscc(),
        buyer_tax_id=world.enterprise.uscc,
        amount="226000.00",
        tax="26000.00",
        scan_id=scan.pk,
    )
    return app
