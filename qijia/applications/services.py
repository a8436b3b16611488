"""Writing applications. One service per lifecycle action: it looks the action up in workflow.py,
checks actor and preconditions on the locked row, then writes status, a timeline row the
enterprise can read, and the audit event, in one transaction. A refusal is itself audited (in its
own transaction, after the rollback) so that "who tried what and why it was refused" is kept.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import secrets
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from qijia.audit.services import audit_record, snapshot
from qijia.core.errors import (
    Conflict,
    DomainError,
    InvalidTransition,
    NotFound,
    ValidationFailed,
)
from qijia.core.identifiers import IdentifierError, validate_invoice, validate_uscc
from qijia.programmes.eligibility import FAIL, evaluate, overall
from qijia.programmes.facts import enterprise_facts
from qijia.programmes.funds import funds_recover, funds_release, funds_reserve, funds_spend
from qijia.programmes.models import Call, Programme, ProgrammeStatus

from . import notifications
from .checks import registry_listings
from .evidence import check_file
from .models import (
    Application,
    ApplicationEvent,
    Clawback,
    ClawbackReceipt,
    Disposition,
    EvidenceFile,
    EvidenceKind,
    ExpertScore,
    Invoice,
    LeadershipDecision,
    Objection,
    Payment,
    Recheck,
    RecheckDraw,
    RecheckResult,
    ReferenceCounter,
    ScreeningFinding,
    Status,
)
from .permissions import require
from .preconditions import PRECONDITIONS, Ctx
from .workflow import TRANSITIONS, target_for

EDITABLE = {Status.DRAFT, Status.RETURNED}


class PreconditionFailed(Conflict):
    code = "precondition_failed"


def actor_label(actor: Any) -> str:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return "系统"
    return f"{actor.display_name or actor.username}（{actor.get_role_display()}）"


def _today() -> dt.date:
    return timezone.localdate()


def _money(value: Any, field: str) -> Decimal:
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise ValidationFailed("金额格式有误", fields={field: "请输入金额（元）"}) from None
    if not amount.is_finite() or amount <= 0:
        raise ValidationFailed("金额必须大于0", fields={field: "金额必须大于0"})
    return amount


def _lock(application_id: int) -> Application:
    app = (
        Application.objects.select_for_update(of=("self",))
        .select_related("programme", "call", "enterprise")
        .filter(pk=application_id)
        .first()
    )
    if app is None:
        raise NotFound("申请不存在")
    return app


def _event(
    app: Application,
    *,
    actor: Any,
    action: str,
    label: str,
    before: str = "",
    note: str = "",
    data: dict | None = None,
    public: bool = True,
) -> ApplicationEvent:
    return ApplicationEvent.objects.create(
        application=app,
        action=action,
        label=label,
        from_status=before,
        to_status=app.status if before else "",
        actor=actor if getattr(actor, "pk", None) else None,
        actor_label=actor_label(actor),
        note=note,
        data=data or {},
        public=public,
    )


def _record_refusal(actor: Any, application_id: int, action: str, exc: DomainError) -> None:
    try:
        with transaction.atomic():
            audit_record(
                actor=actor,
                action=f"applications.{action}_refused",
                object_type="applications.application",
                object_id=str(application_id),
                after={"code": exc.code, "message": exc.message},
            )
    except Exception:  # the refusal itself must reach the caller even if this fails
        pass


def _transition(
    action: str,
    *,
    actor: Any,
    application_id: int,
    note: str = "",
    amount: Decimal | None = None,
    apply: Callable[[Application, Ctx], dict | None] | None = None,
    prepare: Callable[[Application, Ctx], None] | None = None,
    today: dt.date | None = None,
) -> Application:
    """Run one row of the transition table. ``prepare`` computes facts before the preconditions
    (e.g. eligibility); ``apply`` makes the action's own changes after them and returns extra
    audit/timeline data."""
    transition = TRANSITIONS[action]
    ctx = Ctx(actor=actor, today=today or _today(), note=note or "", amount=amount)
    if "registry_clean" in transition.preconditions:
        # Asked before the lock and outside the transaction: the registry's own audit of the
        # question survives a refusal.
        uscc = (
            Application.objects.filter(pk=application_id)
            .values_list("enterprise__uscc", flat=True)
            .first()
        )
        if uscc is None:
            raise NotFound("申请不存在")
        ctx.listings = registry_listings(uscc=uscc, on=ctx.today)
    try:
        with transaction.atomic():
            app = _lock(application_id)
            require(actor, transition.permission, app)
            if app.status not in transition.sources:
                raise InvalidTransition(
                    f"申请当前状态为“{app.get_status_display()}”，不能{transition.label}"
                )
            if prepare:
                prepare(app, ctx)
            for name in transition.preconditions:
                refusal = PRECONDITIONS[name](app, ctx)
                if refusal:
                    raise PreconditionFailed(refusal, code=name)
            before = app.status
            if ctx.listings is not None:
                app.registry_checked_at = timezone.now()
                app.registry_clean = not ctx.listings
                app.registry_listings = [x.as_json() for x in ctx.listings]
            extra = (apply(app, ctx) if apply else None) or {}
            app.status = target_for(
                action, expert_review_required=app.programme.expert_review_required
            )
            app.status_changed_at = timezone.now()
            app.save()
            _event(
                app,
                actor=actor,
                action=action,
                label=transition.label,
                before=before,
                note=ctx.note,
                data=extra,
            )
            audit_record(
                actor=actor,
                action=f"applications.{action}",
                obj=app,
                before={"status": before},
                after={"status": app.status, "note": ctx.note, **extra},
            )
            notifications.after_transition(
                app, action=action, label=transition.label, note=ctx.note
            )
    except DomainError as exc:
        if not isinstance(exc, NotFound):
            _record_refusal(actor, application_id, action, exc)
        raise
    return app


# --- Drafting ------------------------------------------------------------------------------


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
            previous = (
                EvidenceFile.objects.select_for_update()
                .filter(pk=supersedes_id, application=app)
                .first()
            )
            if previous is None:
                raise NotFound("要更正的材料不存在")
            if EvidenceFile.objects.filter(supersedes=previous).exists():
                raise Conflict("该材料已有更新的版本，请更正最新版本")
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
            previous = (
                Invoice.objects.select_for_update()
                .filter(pk=supersedes_id, application=app)
                .first()
            )
            if previous is None:
                raise NotFound("要更正的发票不存在")
            if Invoice.objects.filter(supersedes=previous).exists():
                raise Conflict("该发票已有更正记录，请更正最新记录")
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


# --- Lifecycle actions ---------------------------------------------------------------------


def _evaluate_eligibility(app: Application, ctx: Ctx) -> None:
    facts = enterprise_facts(app.enterprise, on=ctx.today, listings=ctx.listings)
    outcomes = [evaluate(c.fact, c.operator, c.value, facts) for c in app.programme.criteria.all()]
    ctx.eligibility_result = overall(outcomes)
    ctx.eligibility_failures = [f"{o.label}（{o.reason}）" for o in outcomes if o.result == FAIL]
    app.eligibility = {
        "result": ctx.eligibility_result,
        "on": ctx.today.isoformat(),
        "criteria": [
            {"label": o.label, "result": o.result, "used": o.used, "reason": o.reason}
            for o in outcomes
        ],
    }


def _after_submission(app: Application, ctx: Ctx) -> dict:
    app.submitted_at = timezone.now()
    app.screened_at = None
    application_id = app.pk
    transaction.on_commit(lambda: _queue_screening(application_id))
    return {"eligibility": app.eligibility.get("result", "")}


def _queue_screening(application_id: int) -> None:
    from .tasks import screen_application

    screen_application.delay(application_id)


def application_submit(*, actor: Any, application_id: int) -> Application:
    """Submit a draft: the call must be open, the materials complete, the enterprise eligible and
    not listed. Screening is queued once the submission commits."""
    return _transition(
        "submit",
        actor=actor,
        application_id=application_id,
        prepare=_evaluate_eligibility,
        apply=_after_submission,
    )


def application_return(*, actor: Any, application_id: int, note: str) -> Application:
    return _transition(
        "return_for_correction", actor=actor, application_id=application_id, note=note
    )


def application_resubmit(*, actor: Any, application_id: int, note: str = "") -> Application:
    def apply(app: Application, ctx: Ctx) -> dict:
        app.round += 1
        return {"round": app.round, **_after_submission(app, ctx)}

    return _transition(
        "resubmit", actor=actor, application_id=application_id, note=note, apply=apply
    )


def application_pass_formal_review(
    *, actor: Any, application_id: int, note: str = ""
) -> Application:
    return _transition("pass_formal_review", actor=actor, application_id=application_id, note=note)


def expert_score_add(
    *, actor: Any, application_id: int, expert_name: str, score: Any, comment: str = ""
) -> ExpertScore:
    """Record one panel member's score (by hand, until the expert library exists)."""
    try:
        value = Decimal(str(score))
    except (InvalidOperation, ValueError):
        value = Decimal(-1)
    if not expert_name.strip() or not (0 <= value <= 100):
        raise ValidationFailed(
            "专家评分有误", fields={"score": "评分应在0到100之间", "expert_name": "请填写专家姓名"}
        )
    with transaction.atomic():
        app = _lock(application_id)
        require(actor, "applications.handle", app)
        if app.status != Status.EXPERT_REVIEW:
            raise InvalidTransition("只有专家评审阶段可以录入评分")
        row = ExpertScore.objects.create(
            application=app,
            expert_name=expert_name.strip(),
            score=value,
            comment=comment,
            recorded_by=actor,
        )
        _event(
            app,
            actor=actor,
            action="expert_score",
            label="录入专家评分",
            public=False,
            data={"expert": row.expert_name, "score": str(value)},
        )
        audit_record(
            actor=actor, action="applications.expert_score_added", obj=row, after=snapshot(row)
        )
    return row


def application_record_expert_review(
    *, actor: Any, application_id: int, note: str = ""
) -> Application:
    def apply(app: Application, ctx: Ctx) -> dict:
        scores = [s.score for s in app.scores.all()]
        return {"average_score": str(sum(scores) / len(scores)), "panel_size": len(scores)}

    return _transition(
        "record_expert_review", actor=actor, application_id=application_id, note=note, apply=apply
    )


def finding_dispose(
    *, actor: Any, finding_id: int, disposition: str, reason: str
) -> ScreeningFinding:
    """Confirm a finding, or dismiss it with a reason (#38: approval waits for every disposal)."""
    if disposition not in (Disposition.CONFIRMED, Disposition.DISMISSED):
        raise ValidationFailed("处置结果有误", fields={"disposition": "应为确认或排除"})
    if not reason.strip():
        raise ValidationFailed("请填写处置理由", fields={"reason": "请填写处置理由"})
    with transaction.atomic():
        finding = ScreeningFinding.objects.select_for_update().filter(pk=finding_id).first()
        if finding is None:
            raise NotFound("筛查发现不存在")
        app = _lock(finding.application_id)
        require(actor, "applications.handle", app)
        if finding.disposition != Disposition.PENDING:
            raise InvalidTransition("该筛查发现已处置")
        finding.disposition = disposition
        finding.reason = reason.strip()
        finding.disposed_by = actor
        finding.disposed_at = timezone.now()
        finding.save()
        _event(
            app,
            actor=actor,
            action="finding_disposed",
            label=f"筛查发现{finding.get_disposition_display()}",
            note=reason,
            public=False,
            data={"finding_id": finding.pk, "kind": finding.kind},
        )
        audit_record(
            actor=actor,
            action=f"applications.finding_{disposition}",
            obj=finding,
            before={"disposition": Disposition.PENDING},
            after={"disposition": disposition, "reason": finding.reason},
        )
    return finding


def application_approve(
    *, actor: Any, application_id: int, amount: Any, note: str = ""
) -> Application:
    """The section head approves an amount; the budget is reserved under row locks."""
    value = _money(amount, "amount")

    def apply(app: Application, ctx: Ctx) -> dict:
        funds_reserve(programme=app.programme, year=app.call.year, amount=value)
        app.amount_approved = value
        app.amount_reserved = value
        return {"amount_approved": str(value), "year": app.call.year}

    return _transition(
        "approve", actor=actor, application_id=application_id, note=note, amount=value, apply=apply
    )


def application_record_leadership_decision(
    *,
    actor: Any,
    application_id: int,
    meeting: str,
    meeting_date: dt.date | None,
    minute_ref: str,
    decision: str,
) -> Application:
    """Record the collective decision (会议、日期、纪要编号) a major payment needs (#15)."""
    errors = {
        k: "必填"
        for k, v in (("meeting", meeting), ("minute_ref", minute_ref), ("decision", decision))
        if not (v or "").strip()
    }
    if meeting_date is None:
        errors["meeting_date"] = "必填"
    elif meeting_date > _today():
        errors["meeting_date"] = "会议日期不能晚于今天"
    if errors:
        raise ValidationFailed("集体决策信息不完整", fields=errors)

    def apply(app: Application, ctx: Ctx) -> dict:
        LeadershipDecision.objects.create(
            application=app,
            meeting=meeting.strip(),
            meeting_date=meeting_date,
            minute_ref=minute_ref.strip(),
            decision=decision.strip(),
            recorded_by=actor,
        )
        return {
            "meeting": meeting,
            "meeting_date": meeting_date.isoformat(),
            "minute_ref": minute_ref,
        }

    return _transition(
        "record_leadership_decision",
        actor=actor,
        application_id=application_id,
        note=decision,
        apply=apply,
    )


def application_publish_notice(
    *, actor: Any, application_id: int, starts_on: dt.date | None = None
) -> Application:
    def apply(app: Application, ctx: Ctx) -> dict:
        app.notice_starts_on = starts_on or ctx.today
        app.notice_ends_on = app.notice_starts_on + dt.timedelta(days=app.programme.notice_days - 1)
        return {
            "notice_starts_on": app.notice_starts_on.isoformat(),
            "notice_ends_on": app.notice_ends_on.isoformat(),
        }

    return _transition("publish_notice", actor=actor, application_id=application_id, apply=apply)


def objection_file(*, actor: Any, application_id: int, filer_name: str, content: str) -> Objection:
    """Anyone signed in may object while the application is on public notice."""
    if not content.strip() or not filer_name.strip():
        raise ValidationFailed(
            "请填写异议人和异议内容", fields={"content": "必填", "filer_name": "必填"}
        )
    with transaction.atomic():
        app = _lock(application_id)
        if app.status != Status.IN_NOTICE:
            raise InvalidTransition("该申请不在公示期内")
        objection = Objection.objects.create(
            application=app, filed_by=actor, filer_name=filer_name.strip(), content=content.strip()
        )
        _event(
            app,
            actor=actor,
            action="objection_filed",
            label="收到公示异议",
            public=False,
            data={"objection_id": objection.pk},
        )
        audit_record(
            actor=actor,
            action="applications.objection_filed",
            obj=objection,
            after=snapshot(objection),
        )
        notifications.objection_filed(app)
    return objection


def objection_answer(*, actor: Any, objection_id: int, answer: str, upheld: bool) -> Objection:
    if not answer.strip():
        raise ValidationFailed("请填写答复", fields={"answer": "必填"})
    with transaction.atomic():
        objection = Objection.objects.select_for_update().filter(pk=objection_id).first()
        if objection is None:
            raise NotFound("异议不存在")
        app = _lock(objection.application_id)
        require(actor, "applications.handle", app)
        if objection.answered_at is not None:
            raise InvalidTransition("该异议已答复")
        objection.answer, objection.upheld = answer.strip(), upheld
        objection.answered_by, objection.answered_at = actor, timezone.now()
        objection.save()
        _event(
            app,
            actor=actor,
            action="objection_answered",
            label="公示异议已答复" + ("（异议成立）" if upheld else "（异议不成立）"),
            note=answer,
            public=False,
        )
        audit_record(
            actor=actor,
            action="applications.objection_answered",
            obj=objection,
            after={"answer": objection.answer, "upheld": upheld},
        )
    return objection


def application_close_notice(
    *, actor: Any, application_id: int, today: dt.date | None = None
) -> Application:
    return _transition("close_notice", actor=actor, application_id=application_id, today=today)


def application_pay(
    *, actor: Any, application_id: int, idempotency_key: str, bank_reference: str = ""
) -> Payment:
    """Pay the approved amount once. The same ``idempotency_key`` returns the first payment
    (a retried request, a double click); the registry is asked again and a listing blocks."""
    key = (idempotency_key or "").strip()
    if not key or len(key) > 80:
        raise ValidationFailed("缺少幂等键", fields={"idempotency_key": "必填，最长80个字符"})
    existing = (
        Payment.objects.select_related("application__programme").filter(idempotency_key=key).first()
    )
    if existing is not None:
        require(actor, "applications.handle", existing.application)  # no replay for outsiders
        if existing.application_id != application_id:
            raise Conflict("该幂等键已用于另一笔拨付", code="idempotency_key_reused")
        return existing
    holder: dict[str, Payment] = {}

    def apply(app: Application, ctx: Ctx) -> dict:
        amount = app.amount_approved
        funds_spend(programme=app.programme, year=app.call.year, amount=amount)
        app.amount_reserved = Decimal(0)
        holder["payment"] = Payment.objects.create(
            application=app,
            idempotency_key=key,
            amount=amount,
            bank_reference=bank_reference,
            paid_by=actor,
        )
        return {"amount": str(amount), "idempotency_key": key}

    try:
        _transition("pay", actor=actor, application_id=application_id, apply=apply)
    except (InvalidTransition, IntegrityError):
        # A concurrent request with the same key won the lock and paid: answer with its payment.
        existing = Payment.objects.filter(
            idempotency_key=key, application_id=application_id
        ).first()
        if existing is not None:
            return existing
        raise
    return holder["payment"]


def application_close(*, actor: Any, application_id: int, note: str = "") -> Application:
    return _transition("close", actor=actor, application_id=application_id, note=note)


def application_reject(*, actor: Any, application_id: int, note: str) -> Application:
    """Reject before payment; any reservation goes back to the budget."""

    def apply(app: Application, ctx: Ctx) -> dict:
        released = app.amount_reserved
        if released:
            funds_release(programme=app.programme, year=app.call.year, amount=released)
            app.amount_reserved = Decimal(0)
        return {"released": str(released)}

    return _transition("reject", actor=actor, application_id=application_id, note=note, apply=apply)


def application_withdraw(*, actor: Any, application_id: int, note: str = "") -> Application:
    return _transition("withdraw", actor=actor, application_id=application_id, note=note)


# --- After payment -------------------------------------------------------------------------


def recheck_draw_create(*, actor: Any, programme_id: int, share_pct: Any = None) -> RecheckDraw:
    """Fix the seed and the population first (committed, audited); ``recheck_draw_run`` then
    draws. Nobody can re-roll: the seed is on record before anyone sees a result."""
    require(actor, "applications.run_recheck")
    programme = Programme.objects.filter(pk=programme_id).first()
    if programme is None:
        raise NotFound("专项不存在")
    if programme.section_id != actor.org_unit_id:
        raise ValidationFailed("只能对本科室的专项组织抽查", code="permission_denied")
    share = Decimal(str(share_pct if share_pct is not None else programme.recheck_share_pct))
    if not (0 < share <= 100):
        raise ValidationFailed("抽查比例应在0到100之间", fields={"share_pct": "0到100之间"})
    population = list(
        Application.objects.filter(programme=programme, status=Status.PAID)
        .order_by("reference")
        .values_list("reference", flat=True)
    )
    if not population:
        raise Conflict("该专项没有已拨付、待复核的申请", code="empty_population")
    size = max(1, math.ceil(len(population) * share / 100))
    with transaction.atomic():
        draw = RecheckDraw.objects.create(
            programme=programme,
            share_pct=share,
            seed=secrets.randbits(62),
            population=population,
            size=size,
            created_by=actor,
        )
        audit_record(
            actor=actor,
            action="applications.recheck_draw_created",
            obj=draw,
            after={
                "seed": draw.seed,
                "population": population,
                "size": size,
                "share_pct": str(share),
            },
        )
    return draw


def replay_draw(*, seed: int, population: list[str], size: int) -> list[str]:
    """The draw, reproducible by anyone from the recorded seed and population."""
    return sorted(random.Random(seed).sample(list(population), size))


def recheck_draw_run(*, actor: Any, draw_id: int) -> RecheckDraw:
    with transaction.atomic():
        draw = (
            RecheckDraw.objects.select_for_update()
            .select_related("programme")
            .filter(pk=draw_id)
            .first()
        )
        if draw is None:
            raise NotFound("抽查批次不存在")
        require(actor, "applications.run_recheck")
        if draw.programme.section_id != actor.org_unit_id:
            raise ValidationFailed("只能对本科室的专项组织抽查", code="permission_denied")
        if draw.drawn_at is not None:
            raise InvalidTransition("该批次已抽取")
        draw.selected = replay_draw(seed=draw.seed, population=draw.population, size=draw.size)
        draw.drawn_at = timezone.now()
        draw.save()
        audit_record(
            actor=actor,
            action="applications.recheck_drawn",
            obj=draw,
            after={"seed": draw.seed, "selected": draw.selected},
        )
        for app_id in (
            Application.objects.filter(reference__in=draw.selected, status=Status.PAID)
            .order_by("reference")
            .values_list("pk", flat=True)
        ):
            _transition(
                "select_for_recheck",
                actor=actor,
                application_id=app_id,
                note=f"抽查批次{draw.pk}抽中",
            )
    return draw


def application_recheck_passed(*, actor: Any, application_id: int, note: str) -> Application:
    def apply(app: Application, ctx: Ctx) -> dict:
        Recheck.objects.create(
            application=app,
            draw=_latest_draw(app),
            result=RecheckResult.PASSED,
            note=note,
            recorded_by=actor,
        )
        return {"result": RecheckResult.PASSED}

    return _transition(
        "recheck_passed", actor=actor, application_id=application_id, note=note, apply=apply
    )


def _latest_draw(app: Application) -> RecheckDraw | None:
    """The draw that selected ``app`` (JSON containment differs per database: filter here)."""
    if app.status != Status.UNDER_RECHECK:
        return None
    draws = RecheckDraw.objects.filter(programme_id=app.programme_id, drawn_at__isnull=False)
    for draw in draws.order_by("-drawn_at"):
        if app.reference in (draw.selected or []):
            return draw
    return None


def application_cancel(
    *,
    actor: Any,
    application_id: int,
    note: str,
    due_on: dt.date | None = None,
    blacklist: bool = True,
) -> Application:
    """Fraud found after payment: cancel, open a clawback for the amount paid, and list the
    enterprise on the registry's blacklist (category 骗取财政资金)."""

    def apply(app: Application, ctx: Ctx) -> dict:
        if app.status == Status.UNDER_RECHECK:
            Recheck.objects.create(
                application=app,
                draw=_latest_draw(app),
                result=RecheckResult.FRAUD,
                note=note,
                recorded_by=actor,
            )
        paid = Payment.objects.get(application=app).amount
        entry_id = None
        if blacklist:
            from qijia.registry.services import entry_create

            entry = entry_create(
                actor=actor,
                uscc=app.enterprise.uscc,
                list="blacklist",
                category="public_funds_fraud",
                reason=f"骗取财政资金：{app.programme.title}（申报编号{app.reference}）。{note}",
                valid_from=ctx.today,
                enterprise_name=app.enterprise.name,
                document_ref=app.reference,
            )
            entry_id = entry.pk
        clawback = Clawback.objects.create(
            application=app,
            amount_due=paid,
            due_on=due_on or ctx.today + dt.timedelta(days=30),
            registry_entry_id=entry_id,
        )
        return {"clawback_id": clawback.pk, "amount_due": str(paid), "registry_entry": entry_id}

    return _transition("cancel", actor=actor, application_id=application_id, note=note, apply=apply)


def clawback_record_receipt(
    *, actor: Any, clawback_id: int, amount: Any, received_on: dt.date, reference: str = ""
) -> Clawback:
    value = _money(amount, "amount")
    with transaction.atomic():
        clawback = Clawback.objects.select_for_update().filter(pk=clawback_id).first()
        if clawback is None:
            raise NotFound("追缴记录不存在")
        app = _lock(clawback.application_id)
        require(actor, "applications.handle", app)
        if value > clawback.outstanding:
            raise ValidationFailed(
                f"到账金额超过未追回金额{clawback.outstanding}元",
                fields={"amount": "超过未追回金额"},
            )
        ClawbackReceipt.objects.create(
            clawback=clawback,
            amount=value,
            received_on=received_on,
            reference=reference,
            recorded_by=actor,
        )
        clawback.recovered += value
        if clawback.outstanding == 0:
            clawback.settled_at = timezone.now()
        clawback.save()
        funds_recover(programme=app.programme, year=app.call.year, amount=value)
        _event(
            app,
            actor=actor,
            action="clawback_receipt",
            label=f"追缴到账{value}元",
            data={"outstanding": str(clawback.outstanding)},
        )
        audit_record(
            actor=actor,
            action="applications.clawback_receipt",
            obj=clawback,
            after={
                "amount": str(value),
                "received_on": received_on.isoformat(),
                "recovered": str(clawback.recovered),
            },
        )
    return clawback


def overdue_notify(*, today: dt.date | None = None) -> int:
    """One notification per section that has overdue applications, listing them. Returns how
    many sections were told. Runs as the platform (a daily task), so no actor."""
    from qijia.notifications.services import notify

    from .selectors import WAITING_FOR, due_date

    today = today or _today()
    by_section: dict[int, list[str]] = {}
    apps = Application.objects.filter(status__in=list(WAITING_FOR)).select_related("programme")
    for app in apps.order_by("reference"):
        who, _days = WAITING_FOR[app.status]
        due = due_date(app, today=today)
        if due is not None and due < today:
            by_section.setdefault(app.programme.section_id, []).append(
                f"{app.reference}（{app.get_status_display()}，等待{who}，超期{(today - due).days}天）"
            )
    with transaction.atomic():
        for section_id, lines in by_section.items():
            notify(
                recipients_org_units=[section_id],
                kind="applications.overdue",
                title=f"资助申请超期提醒：{len(lines)}件",
                body="\n".join(lines),
                link="/applications/queue/",
            )
    return len(by_section)
