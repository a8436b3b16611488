"""Writing programmes, calls, criteria and budgets. Every change is audited in its transaction."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from qijia.audit.services import audit_record, snapshot
from qijia.core.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from qijia.identity.models import OrgUnit
from qijia.identity.roles import OrgKind

from .eligibility import validate_criterion
from .models import (
    AdjustmentStatus,
    BudgetAdjustment,
    Call,
    Criterion,
    Programme,
    ProgrammeAttachment,
    ProgrammeBudget,
    ProgrammeStatus,
    SectionBudget,
)
from .permissions import require

MATERIAL_KINDS = {"photo", "invoice", "contract", "other"}


def _money(value: Any, field: str, errors: dict[str, str], *, positive: bool = True) -> Decimal:
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        errors[field] = "请输入金额（元）"
        return Decimal(0)
    if not amount.is_finite() or (positive and amount <= 0):
        errors[field] = "金额必须大于0"
    return amount


def _clean_materials(materials: Any, errors: dict[str, str]) -> list[dict[str, Any]]:
    if not isinstance(materials, list):
        errors["required_materials"] = "材料清单格式有误"
        return []
    clean, seen = [], set()
    for index, item in enumerate(materials, start=1):
        code = str((item or {}).get("code", "")).strip()
        label = str((item or {}).get("label", "")).strip()
        kind = str((item or {}).get("kind", "other")).strip()
        if not code or not label or kind not in MATERIAL_KINDS or code in seen:
            errors["required_materials"] = (
                f"材料清单第{index}项有误（编码、名称、类型，编码不可重复）"
            )
            continue
        seen.add(code)
        clean.append(
            {
                "code": code,
                "label": label,
                "kind": kind,
                "required": bool(item.get("required", True)),
            }
        )
    return clean


def programme_create(
    *,
    actor: Any,
    code: str,
    title: str,
    section: OrgUnit,
    max_amount: Any,
    major_threshold: Any,
    notice_days: int = 7,
    expert_review_required: bool = False,
    policy_text: str = "",
    guide: str = "",
    required_materials: list[dict[str, Any]] | None = None,
    recheck_share_pct: Any = Decimal("10"),
) -> Programme:
    """Create a programme in draft; it becomes visible to enterprises when published."""
    require(actor, "programmes.manage", section_target(section))
    errors: dict[str, str] = {}
    if section.kind != OrgKind.SECTION:
        errors["section"] = "主管单位必须是局内科室"
    if not code.strip():
        errors["code"] = "请填写编码"
    if not title.strip():
        errors["title"] = "请填写名称"
    max_value = _money(max_amount, "max_amount", errors)
    threshold = _money(major_threshold, "major_threshold", errors)
    share = _money(recheck_share_pct, "recheck_share_pct", errors, positive=False)
    if not errors.get("recheck_share_pct") and not (0 <= share <= 100):
        errors["recheck_share_pct"] = "抽查比例应在0到100之间"
    if notice_days < 1 or notice_days > 60:
        errors["notice_days"] = "公示天数应在1到60天之间"
    materials = _clean_materials(required_materials or [], errors)
    if errors:
        raise ValidationFailed("专项信息有误", fields=errors)
    with transaction.atomic():
        try:
            with transaction.atomic():
                programme = Programme.objects.create(
                    code=code.strip(),
                    title=title.strip(),
                    section=section,
                    max_amount=max_value,
                    major_threshold=threshold,
                    notice_days=notice_days,
                    expert_review_required=expert_review_required,
                    policy_text=policy_text,
                    guide=guide,
                    required_materials=materials,
                    recheck_share_pct=share,
                )
        except IntegrityError:
            raise ValidationFailed("专项编码已存在", fields={"code": "专项编码已存在"}) from None
        audit_record(
            actor=actor, action="programmes.created", obj=programme, after=snapshot(programme)
        )
    return programme


class _SectionTarget:
    def __init__(self, section_id: int | None) -> None:
        self.section_id = section_id


def section_target(section: OrgUnit | None) -> _SectionTarget:
    """The object the section rule checks when no programme exists yet."""
    return _SectionTarget(section.pk if section else None)


def _lock_programme(programme_id: int) -> Programme:
    programme = Programme.objects.select_for_update().filter(pk=programme_id).first()
    if programme is None:
        raise NotFound("专项不存在")
    return programme


def programme_set_status(*, actor: Any, programme_id: int, status: str) -> Programme:
    """Publish a draft, or retire a published programme (retired: no new calls or applications)."""
    allowed_moves: dict[str, set[str]] = {
        ProgrammeStatus.PUBLISHED: {ProgrammeStatus.DRAFT},
        ProgrammeStatus.RETIRED: {ProgrammeStatus.PUBLISHED},
    }
    with transaction.atomic():
        programme = _lock_programme(programme_id)
        require(actor, "programmes.manage", programme)
        if programme.status not in allowed_moves.get(status, set()):
            raise InvalidTransition(
                f"专项当前状态为“{programme.get_status_display()}”，不能改为该状态"
            )
        if status == ProgrammeStatus.PUBLISHED and not programme.criteria.exists():
            raise ValidationFailed("发布前请至少设置一项申报条件", code="no_criteria")
        before = programme.status
        programme.status = status
        programme.save(update_fields=["status", "updated_at"])
        audit_record(
            actor=actor,
            action=f"programmes.{status}",
            obj=programme,
            before={"status": before},
            after={"status": status},
        )
    return programme


def criterion_add(
    *, actor: Any, programme_id: int, fact: str, operator: str, value: Any, label: str = ""
) -> Criterion:
    """Add a condition; only while the programme is a draft, so enterprises never see the rules
    change under an open call."""
    with transaction.atomic():
        programme = _lock_programme(programme_id)
        require(actor, "programmes.manage", programme)
        if programme.status != ProgrammeStatus.DRAFT:
            raise InvalidTransition("已发布的专项不能修改申报条件")
        errors = validate_criterion(fact, operator, value)
        if errors:
            raise ValidationFailed("申报条件有误", fields=errors)
        if fact in {
            "revenue_last_year",
            "tax_last_year",
            "revenue_growth_pct",
            "years_established",
        }:
            value = str(Decimal(str(value)))
        position = programme.criteria.count()
        criterion = Criterion.objects.create(
            programme=programme,
            fact=fact,
            operator=operator,
            value=value,
            label=label,
            position=position,
        )
        audit_record(
            actor=actor,
            action="programmes.criterion_added",
            obj=criterion,
            after=snapshot(criterion),
        )
    return criterion


def call_create(
    *, actor: Any, programme_id: int, title: str, year: int, opens_on: dt.date, closes_on: dt.date
) -> Call:
    with transaction.atomic():
        programme = _lock_programme(programme_id)
        require(actor, "programmes.manage", programme)
        errors: dict[str, str] = {}
        if programme.status == ProgrammeStatus.RETIRED:
            raise InvalidTransition("已停止的专项不能新建申报批次")
        if not title.strip():
            errors["title"] = "请填写批次名称"
        if closes_on < opens_on:
            errors["closes_on"] = "截止日期不能早于开始日期"
        if not (2000 <= year <= 2100):
            errors["year"] = "预算年度有误"
        if errors:
            raise ValidationFailed("申报批次信息有误", fields=errors)
        call = Call.objects.create(
            programme=programme,
            title=title.strip(),
            year=year,
            opens_on=opens_on,
            closes_on=closes_on,
        )
        audit_record(actor=actor, action="programmes.call_created", obj=call, after=snapshot(call))
    return call


def budget_set(*, actor: Any, programme_id: int, year: int, amount: Any) -> ProgrammeBudget:
    """Create a programme's budget for a year. Later changes go through adjustments (#48)."""
    errors: dict[str, str] = {}
    value = _money(amount, "amount", errors)
    if errors:
        raise ValidationFailed("预算金额有误", fields=errors)
    with transaction.atomic():
        programme = _lock_programme(programme_id)
        require(actor, "programmes.manage", programme)
        if ProgrammeBudget.objects.filter(programme=programme, year=year).exists():
            raise Conflict("该年度预算已存在，如需变更请提交预算调整", code="budget_exists")
        budget = ProgrammeBudget.objects.create(programme=programme, year=year, amount=value)
        audit_record(
            actor=actor, action="programmes.budget_set", obj=budget, after=snapshot(budget)
        )
    return budget


def section_budget_set(*, actor: Any, section: OrgUnit, year: int, amount: Any) -> SectionBudget:
    """The section's ceiling for a year; raising or lowering it later is an adjustment too."""
    require(actor, "programmes.decide_budget", section_target(section))
    errors: dict[str, str] = {}
    value = _money(amount, "amount", errors)
    if errors:
        raise ValidationFailed("预算金额有误", fields=errors)
    with transaction.atomic():
        if SectionBudget.objects.filter(section=section, year=year).exists():
            raise Conflict("该科室该年度预算已存在", code="budget_exists")
        budget = SectionBudget.objects.create(section=section, year=year, amount=value)
        audit_record(
            actor=actor, action="programmes.section_budget_set", obj=budget, after=snapshot(budget)
        )
    return budget


def budget_adjustment_request(
    *, actor: Any, budget_id: int, delta: Any, reason: str
) -> BudgetAdjustment:
    """Ask to change a programme budget. Limited per programme and year in number
    (QIJIA_BUDGET_ADJUSTMENTS_PER_YEAR, pending and approved both count) and size
    (QIJIA_BUDGET_ADJUSTMENT_MAX_PCT of the budget's original amount, per request)."""
    errors: dict[str, str] = {}
    value = _money(delta, "delta", errors, positive=False)
    if not errors and value == 0:
        errors["delta"] = "调整金额不能为0"
    if not reason.strip():
        errors["reason"] = "请填写调整理由"
    if errors:
        raise ValidationFailed("预算调整信息有误", fields=errors)
    with transaction.atomic():
        budget = (
            ProgrammeBudget.objects.select_for_update()
            .select_related("programme")
            .filter(pk=budget_id)
            .first()
        )
        if budget is None:
            raise NotFound("预算不存在")
        require(actor, "programmes.manage", budget.programme)
        used = budget.adjustments.exclude(status=AdjustmentStatus.REJECTED).count()
        limit = settings.QIJIA_BUDGET_ADJUSTMENTS_PER_YEAR
        if used >= limit:
            raise Conflict(
                f"该专项{budget.year}年度预算已调整{used}次，已达上限{limit}次",
                code="adjustment_limit",
            )
        approved_total = sum(
            a.delta for a in budget.adjustments.filter(status=AdjustmentStatus.APPROVED)
        )
        original = budget.amount - approved_total
        max_pct = Decimal(str(settings.QIJIA_BUDGET_ADJUSTMENT_MAX_PCT))
        if abs(value) > original * max_pct / 100:
            raise ValidationFailed(
                f"单次调整不得超过年初预算的{max_pct}%（{(original * max_pct / 100):.2f}元）",
                code="adjustment_too_large",
                fields={"delta": "调整幅度超过上限"},
            )
        adjustment = BudgetAdjustment.objects.create(
            budget=budget, delta=value, reason=reason.strip(), requested_by=actor
        )
        audit_record(
            actor=actor,
            action="programmes.adjustment_requested",
            obj=adjustment,
            after=snapshot(adjustment),
        )
    return adjustment


def budget_adjustment_decide(
    *, actor: Any, adjustment_id: int, approve: bool, note: str = ""
) -> BudgetAdjustment:
    """Approve (apply the delta) or reject. A cut below what is reserved and paid is refused."""
    with transaction.atomic():
        adjustment = BudgetAdjustment.objects.select_for_update().filter(pk=adjustment_id).first()
        if adjustment is None:
            raise NotFound("预算调整申请不存在")
        budget = (
            ProgrammeBudget.objects.select_for_update()
            .select_related("programme")
            .get(pk=adjustment.budget_id)
        )
        require(actor, "programmes.decide_budget", budget.programme)
        if adjustment.requested_by_id == actor.pk:
            raise ValidationFailed("申请人不能审批自己的预算调整", code="self_approval")
        if adjustment.status != AdjustmentStatus.PENDING:
            raise InvalidTransition("该预算调整已处理")
        before = snapshot(budget)
        if approve:
            new_amount = budget.amount + adjustment.delta
            if new_amount < budget.reserved + budget.spent:
                raise Conflict(
                    f"调减后预算（{new_amount}元）低于已预留和已拨付金额之和"
                    f"（{budget.reserved + budget.spent}元）",
                    code="adjustment_below_committed",
                )
            budget.amount = new_amount
            budget.save(update_fields=["amount"])
        adjustment.status = AdjustmentStatus.APPROVED if approve else AdjustmentStatus.REJECTED
        adjustment.decided_by = actor
        adjustment.decided_at = timezone.now()
        adjustment.decision_note = note
        adjustment.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        audit_record(
            actor=actor,
            action=f"programmes.adjustment_{adjustment.status}",
            obj=adjustment,
            before=before,
            after=snapshot(budget),
        )
    return adjustment


def programme_attachment_add(
    *, actor: Any, programme_id: int, title: str, upload: Any
) -> ProgrammeAttachment:
    """Attach a policy document (PDF or image, checked by content, stored under its sha256)."""
    from django.core.files.base import ContentFile

    from qijia.applications.evidence import check_file

    if not title.strip():
        raise ValidationFailed("请填写附件标题", fields={"title": "必填"})
    checked = check_file(upload, kind="other", field="file")
    with transaction.atomic():
        programme = _lock_programme(programme_id)
        require(actor, "programmes.manage", programme)
        attachment = ProgrammeAttachment(
            programme=programme, title=title.strip(), sha256=checked.sha256
        )
        attachment.file.save(checked.name, ContentFile(checked.content), save=False)
        attachment.save()
        audit_record(
            actor=actor,
            action="programmes.attachment_added",
            obj=attachment,
            after={"title": attachment.title, "sha256": checked.sha256, "name": checked.name},
        )
    return attachment
