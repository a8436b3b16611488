"""Drafting: the enterprise starts and edits an application, attaches its evidence files and
records its invoices, while the application is a draft or returned for correction."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from qijia.audit.services import audit_record, snapshot
from qijia.core.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from qijia.core.identifiers import IdentifierError, validate_invoice, validate_uscc
from qijia.programmes.models import Call, ProgrammeStatus

from ..evidence import check_file
from ..models import (
    Application,
    EvidenceFile,
    EvidenceKind,
    Invoice,
    ReferenceCounter,
    Status,
)
from ..permissions import require
from ._common import _event, _lock, _money, _today

EDITABLE = {Status.DRAFT, Status.RETURNED}


def _next_reference(year: int) -> str:
    """SQ<year>-<6 digits>, gap-free per year: the year's counter row is locked until commit."""
    prefix = f"SQ{year}-"
    counter = ReferenceCounter.objects.select_for_update().filter(year=year).first()
    if counter is None:
        last = (
            Application.objects.filter(reference__startswith=prefix)
            .order_by("-reference")
            .values_list("reference", flat=True)
            .first()
        )
        try:
            with transaction.atomic():
                ReferenceCounter.objects.create(
                    year=year, last=int(last.removeprefix(prefix)) if last else 0
                )
        except IntegrityError:
            pass  # created concurrently: lock the winner's row below
        counter = ReferenceCounter.objects.select_for_update().get(year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"{prefix}{counter.last:06d}"


def application_create(
    *,
    actor: Any,
    call_id: int,
    title: str,
    amount_requested: Any,
    description: str = "",
    project_start: dt.date | None = None,
    project_end: dt.date | None = None,
) -> Application:
    """Start a draft for the actor's own enterprise in an open call."""
    require(actor, "applications.apply")
    call = Call.objects.select_related("programme").filter(pk=call_id).first()
    if call is None or call.programme.status != ProgrammeStatus.PUBLISHED:
        raise NotFound("申报批次不存在")
    if not call.is_open_on(_today()):
        raise InvalidTransition(f"申报批次不在申报期内（{call.opens_on}至{call.closes_on}）")
    errors: dict[str, str] = {}
    if not title.strip():
        errors["title"] = "请填写项目名称"
    if project_start and project_end and project_end < project_start:
        errors["project_end"] = "结束日期不能早于开始日期"
    if errors:
        raise ValidationFailed("申报信息有误", fields=errors)
    amount = _money(amount_requested, "amount_requested")
    if amount > call.programme.max_amount:
        raise ValidationFailed(
            f"申请金额不能超过{call.programme.max_amount}元",
            fields={"amount_requested": f"不能超过{call.programme.max_amount}元"},
        )
    fields = dict(
        programme=call.programme,
        call=call,
        enterprise=actor.enterprise,
        created_by=actor,
        title=title.strip(),
        description=description,
        project_start=project_start,
        project_end=project_end,
        amount_requested=amount,
        status_changed_at=timezone.now(),
    )
    with transaction.atomic():
        app = Application.objects.create(reference=_next_reference(_today().year), **fields)
        _event(app, actor=actor, action="create", label="创建申报草稿")
        audit_record(actor=actor, action="applications.created", obj=app, after=snapshot(app))
    return app


def application_update(
    *,
    actor: Any,
    application_id: int,
    title: str,
    amount_requested: Any,
    description: str = "",
    project_start: dt.date | None = None,
    project_end: dt.date | None = None,
) -> Application:
    """Edit a draft or a returned application (the fields, not the files: those are versioned)."""
    amount = _money(amount_requested, "amount_requested")
    if not title.strip():
        raise ValidationFailed("申报信息有误", fields={"title": "请填写项目名称"})
    with transaction.atomic():
        app = _lock(application_id)
        require(actor, "applications.act_as_applicant", app)
        if app.status not in EDITABLE:
            raise InvalidTransition("只有草稿或退回补正的申请可以修改")
        if amount > app.programme.max_amount:
            raise ValidationFailed(
                f"申请金额不能超过{app.programme.max_amount}元",
                fields={"amount_requested": "超过最高资助额"},
            )
        before = snapshot(
            app, ["title", "amount_requested", "description", "project_start", "project_end"]
        )
        app.title, app.amount_requested, app.description = title.strip(), amount, description
        app.project_start, app.project_end = project_start, project_end
        app.save()
        audit_record(
            actor=actor,
            action="applications.updated",
            obj=app,
            before=before,
            after=snapshot(app, list(before)),
        )
    return app


_Corrected = TypeVar("_Corrected", EvidenceFile, Invoice)


def _latest_to_correct(
    model: type[_Corrected], pk: int, app: Application, *, missing: str, superseded: str
) -> _Corrected:
    """The record of ``app`` that a correction replaces, locked; only the latest version of a
    record may be corrected, so two corrections never fork one history."""
    previous = model.objects.select_for_update().filter(pk=pk, application=app).first()
    if previous is None:
        raise NotFound(missing)
    if model.objects.filter(supersedes=previous).exists():
        raise Conflict(superseded)
    return previous


def evidence_add(
    *,
    actor: Any,
    application_id: int,
    material_code: str,
    upload: Any,
    caption: str = "",
    supersedes_id: int | None = None,
) -> EvidenceFile:
    """Attach a file (checked by content, hashed, stored once, never overwritten). With
    ``supersedes_id`` it is the corrected version of an earlier file, which stays on record."""
    with transaction.atomic():
        app = _lock(application_id)
        require(actor, "applications.act_as_applicant", app)
        if app.status not in EDITABLE:
            raise InvalidTransition("只有草稿或退回补正的申请可以上传材料")
        materials = {m["code"]: m for m in app.programme.required_materials}
        if material_code not in materials and material_code != "other":
            raise ValidationFailed("未知的材料类型", fields={"material_code": "未知的材料类型"})
        kind = materials.get(material_code, {}).get("kind", EvidenceKind.OTHER)
        checked = check_file(upload, kind=kind, field=material_code)
        previous = None
        version = 1
        if supersedes_id is not None:
            previous = _latest_to_correct(
                EvidenceFile,
                supersedes_id,
                app,
                missing="要更正的材料不存在",
                superseded="该材料已有更新的版本，请更正最新版本",
            )
            version = previous.version + 1
            material_code = previous.material_code
        evidence = EvidenceFile(
            application=app,
            material_code=material_code,
            kind=kind,
            version=version,
            supersedes=previous,
            original_name=checked.name,
            sha256=checked.sha256,
            size_bytes=len(checked.content),
            content_type=checked.content_type,
            caption=caption[:200],
            uploaded_by=actor,
        )
        evidence.file.save(checked.name, ContentFile(checked.content), save=False)
        evidence.save()
        _event(
            app,
            actor=actor,
            action="evidence_added",
            label=f"上传材料：{materials.get(material_code, {}).get('label', '其他材料')}"
            + (f"（第{version}版）" if version > 1 else ""),
            data={"file": checked.name, "sha256": checked.sha256},
        )
        audit_record(
            actor=actor,
            action="applications.evidence_added",
            obj=evidence,
            after=snapshot(
                evidence,
                [
                    "application_id",
                    "material_code",
                    "version",
                    "supersedes_id",
                    "sha256",
                    "size_bytes",
                    "content_type",
                    "original_name",
                ],
            ),
        )
    return evidence


def invoice_add(
    *,
    actor: Any,
    application_id: int,
    invoice_code: str,
    invoice_number: str,
    issued_on: dt.date,
    seller_tax_id: str,
    buyer_tax_id: str,
    amount: Any,
    tax: Any,
    seller_name: str = "",
    buyer_name: str = "",
    scan_id: int | None = None,
    supersedes_id: int | None = None,
) -> Invoice:
    """Record an invoice's key fields (#42); tax IDs and invoice numbers are validated."""
    errors: dict[str, str] = {}
    try:
        code_n, number_n = validate_invoice(invoice_code, invoice_number)
    except IdentifierError as exc:
        errors["invoice_number"] = exc.message
        code_n, number_n = "", ""
    tax_ids = {}
    for field, value in (("seller_tax_id", seller_tax_id), ("buyer_tax_id", buyer_tax_id)):
        try:
            tax_ids[field] = validate_uscc(value)
        except IdentifierError as exc:
            errors[field] = exc.message
    try:
        amount_v = _money(amount, "amount")
    except ValidationFailed as exc:
        errors.update(exc.fields)
    try:
        tax_v = Decimal(str(tax)).quantize(Decimal("0.01"))
        if tax_v < 0:
            errors["tax"] = "税额不能为负"
    except (InvalidOperation, ValueError):
        errors["tax"] = "请输入税额（元）"
    if issued_on and issued_on > _today():
        errors["issued_on"] = "开票日期不能晚于今天"
    if errors:
        raise ValidationFailed("发票信息有误", fields=errors)
    with transaction.atomic():
        app = _lock(application_id)
        require(actor, "applications.act_as_applicant", app)
        if app.status not in EDITABLE:
            raise InvalidTransition("只有草稿或退回补正的申请可以录入发票")
        scan = None
        if scan_id is not None:
            scan = EvidenceFile.objects.filter(pk=scan_id, application=app).first()
            if scan is None:
                raise NotFound("发票扫描件不存在")
        previous = None
        if supersedes_id is not None:
            previous = _latest_to_correct(
                Invoice,
                supersedes_id,
                app,
                missing="要更正的发票不存在",
                superseded="该发票已有更正记录，请更正最新记录",
            )
        invoice = Invoice.objects.create(
            application=app,
            scan=scan,
            supersedes=previous,
            invoice_code=code_n,
            invoice_number=number_n,
            issued_on=issued_on,
            seller_tax_id=tax_ids["seller_tax_id"],
            seller_name=seller_name,
            buyer_tax_id=tax_ids["buyer_tax_id"],
            buyer_name=buyer_name,
            amount=amount_v,
            tax=tax_v,
        )
        _event(
            app,
            actor=actor,
            action="invoice_added",
            label=f"录入发票 {code_n}{'-' if code_n else ''}{number_n}",
            data={"invoice_id": invoice.pk},
        )
        audit_record(
            actor=actor, action="applications.invoice_added", obj=invoice, after=snapshot(invoice)
        )
    return invoice
