"""Application pages. Views parse the form, call one service, and show its refusal as a message."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from qijia.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from qijia.enterprises.models import PersonRoleKind
from qijia.identity.permissions import signed_in_user
from qijia.identity.roles import Role
from qijia.programmes.models import Call

from . import services as s
from .models import Disposition, EvidenceFile, Status
from .permissions import allowed
from .preconditions import current_files, current_invoices, is_major_matter
from .selectors import application_get, application_list, evidence_get, work_queue
from .workflow import TRANSITIONS, actions_from


def _date(value: str, field: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed("日期格式有误", fields={field: "请使用 YYYY-MM-DD"}) from None


@login_required
def application_index(request: HttpRequest) -> HttpResponse:
    apps = application_list(
        actor=request.user, status=request.GET.get("status", ""), q=request.GET.get("q", "").strip()
    )[:200]
    return render(
        request, "applications/list.html", {"applications": apps, "statuses": Status.choices}
    )


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    items = work_queue(actor=request.user)
    return render(request, "applications/queue.html", {"items": items})


@login_required
def create(request: HttpRequest, call_id: int) -> HttpResponse:
    call = Call.objects.select_related("programme").filter(pk=call_id).first()
    if call is None:
        raise NotFound("申报批次不存在")
    if request.method == "POST":
        try:
            app = s.application_create(
                actor=request.user,
                call_id=call.pk,
                title=request.POST.get("title", ""),
                amount_requested=request.POST.get("amount_requested", ""),
                description=request.POST.get("description", ""),
                project_start=_date(request.POST.get("project_start", ""), "project_start"),
                project_end=_date(request.POST.get("project_end", ""), "project_end"),
            )
        except DomainError as exc:
            messages.error(request, exc.with_fields())
        else:
            messages.success(request, "申报草稿已创建，请上传材料后提交")
            return redirect("applications:detail", app.pk)
    return render(request, "applications/create.html", {"call": call, "form": request.POST})


ROLE_LABELS = dict(PersonRoleKind.choices)
EDGE_LABELS = {"holding": "持股", "phone": "同一电话", "email": "同一邮箱", "role": "任职"}

ACTION_FORMS = {
    # action: (extra fields shown in its form, button style)
    "return_for_correction": ["note"],
    "reject": ["note"],
    "approve": ["amount", "note"],
    "record_leadership_decision": ["meeting", "meeting_date", "minute_ref", "decision"],
    "pay": ["bank_reference"],
    "recheck_passed": ["note"],
    "cancel": ["note"],
}


@login_required
def detail(request: HttpRequest, application_id: int) -> HttpResponse:
    app = application_get(actor=request.user, application_id=application_id)
    user = signed_in_user(request)
    is_applicant = allowed(user, "applications.act_as_applicant", app)
    is_staff = allowed(user, "applications.handle", app) or allowed(
        user, "applications.decide", app
    )
    actions = [
        {"name": name, "label": TRANSITIONS[name].label, "fields": ACTION_FORMS.get(name, [])}
        for name in actions_from(app.status)
        if name != "select_for_recheck" and allowed(user, TRANSITIONS[name].permission, app)
    ]
    files = list(current_files(app).order_by("material_code", "pk"))
    by_id = {f.pk: f for f in app.files.all()}
    findings = list(app.findings.select_related("disposed_by").order_by("disposition", "pk"))
    for finding in findings:
        ev = finding.evidence
        finding.file_a = by_id.get(ev.get("file_id")) or _file_by_id(ev.get("file_id"))
        finding.file_b = _file_by_id(ev.get("other_file_id"))
        for step in ev.get("path") or []:
            if isinstance(step, dict) and step.get("element") == "edge":
                roles = [str(ROLE_LABELS.get(r, r)) for r in step.get("roles") or []]
                step["label"] = "、".join(roles) or str(EDGE_LABELS.get(step.get("type", ""), ""))
    return render(
        request,
        "applications/detail.html",
        {
            "app": app,
            "events": app.events.filter(public=True)
            if user.role == Role.ENTERPRISE
            else app.events.all(),
            "files": files,
            "history": [f for f in app.files.all() if f.pk not in {x.pk for x in files}],
            "invoices": current_invoices(app),
            "materials": app.programme.required_materials,
            "findings": findings if user.role != Role.ENTERPRISE else [],
            "scores": app.scores.all(),
            "objections": app.objections.all(),
            "actions": actions,
            "is_applicant": is_applicant,
            "is_staff": is_staff,
            "editable": is_applicant and app.status in s.EDITABLE,
            "is_major": is_major_matter(app),
            "pay_key": uuid.uuid4().hex,
            "can_object": app.status == Status.IN_NOTICE,
            "decision": getattr(app, "leadership_decision", None),
            "payment": getattr(app, "payment", None),
            "clawback": getattr(app, "clawback", None),
        },
    )


def _file_by_id(file_id: Any) -> EvidenceFile | None:
    if not file_id:
        return None
    return EvidenceFile.objects.filter(pk=file_id).first()


def _run(request: HttpRequest, application_id: int, fn: Callable[[], Any], ok: str) -> HttpResponse:
    try:
        fn()
    except DomainError as exc:
        messages.error(request, exc.with_fields())
    else:
        messages.success(request, ok)
    return redirect(reverse("applications:detail", args=[application_id]))


@login_required
@require_POST
def act(request: HttpRequest, application_id: int, action: str) -> HttpResponse:
    p, u = request.POST, request.user
    note = p.get("note", "")
    calls: dict[str, Callable[[], Any]] = {
        "submit": lambda: s.application_submit(actor=u, application_id=application_id),
        "resubmit": lambda: s.application_resubmit(
            actor=u, application_id=application_id, note=note
        ),
        "withdraw": lambda: s.application_withdraw(
            actor=u, application_id=application_id, note=note
        ),
        "return_for_correction": lambda: s.application_return(
            actor=u, application_id=application_id, note=note
        ),
        "pass_formal_review": lambda: s.application_pass_formal_review(
            actor=u, application_id=application_id, note=note
        ),
        "record_expert_review": lambda: s.application_record_expert_review(
            actor=u, application_id=application_id, note=note
        ),
        "approve": lambda: s.application_approve(
            actor=u, application_id=application_id, amount=p.get("amount", ""), note=note
        ),
        "record_leadership_decision": lambda: s.application_record_leadership_decision(
            actor=u,
            application_id=application_id,
            meeting=p.get("meeting", ""),
            meeting_date=_date(p.get("meeting_date", ""), "meeting_date"),
            minute_ref=p.get("minute_ref", ""),
            decision=p.get("decision", ""),
        ),
        "publish_notice": lambda: s.application_publish_notice(
            actor=u, application_id=application_id
        ),
        "close_notice": lambda: s.application_close_notice(actor=u, application_id=application_id),
        "pay": lambda: s.application_pay(
            actor=u,
            application_id=application_id,
            idempotency_key=p.get("idempotency_key", ""),
            bank_reference=p.get("bank_reference", ""),
        ),
        "close": lambda: s.application_close(actor=u, application_id=application_id, note=note),
        "recheck_passed": lambda: s.application_recheck_passed(
            actor=u, application_id=application_id, note=note
        ),
        "reject": lambda: s.application_reject(actor=u, application_id=application_id, note=note),
        "cancel": lambda: s.application_cancel(actor=u, application_id=application_id, note=note),
    }
    if action not in calls:
        raise NotFound("未知的办理事项")
    return _run(request, application_id, calls[action], f"已办理：{TRANSITIONS[action].label}")


@login_required
@require_POST
def upload(request: HttpRequest, application_id: int) -> HttpResponse:
    uploads = request.FILES.getlist("file")
    supersedes = request.POST.get("supersedes") or None

    def run() -> None:
        if not uploads:
            raise ValidationFailed("请选择文件", fields={"file": "请选择文件"})
        for upload_file in uploads:
            s.evidence_add(
                actor=request.user,
                application_id=application_id,
                material_code=request.POST.get("material_code", ""),
                upload=upload_file,
                caption=request.POST.get("caption", ""),
                supersedes_id=int(supersedes) if supersedes else None,
            )

    return _run(request, application_id, run, "材料已上传")


@login_required
@require_POST
def invoice(request: HttpRequest, application_id: int) -> HttpResponse:
    p = request.POST

    def run() -> None:
        issued = _date(p.get("issued_on", ""), "issued_on")
        if issued is None:
            raise ValidationFailed("请填写开票日期", fields={"issued_on": "必填"})
        s.invoice_add(
            actor=request.user,
            application_id=application_id,
            invoice_code=p.get("invoice_code", ""),
            invoice_number=p.get("invoice_number", ""),
            issued_on=issued,
            seller_tax_id=p.get("seller_tax_id", ""),
            seller_name=p.get("seller_name", ""),
            buyer_tax_id=p.get("buyer_tax_id", ""),
            buyer_name=p.get("buyer_name", ""),
            amount=p.get("amount", ""),
            tax=p.get("tax", ""),
            scan_id=int(p["scan_id"]) if p.get("scan_id") else None,
            supersedes_id=int(p["supersedes"]) if p.get("supersedes") else None,
        )

    return _run(request, application_id, run, "发票信息已录入")


@login_required
@require_POST
def dispose(request: HttpRequest, application_id: int, finding_id: int) -> HttpResponse:
    disposition = request.POST.get("disposition", "")
    label = dict(Disposition.choices).get(disposition, "")
    return _run(
        request,
        application_id,
        lambda: s.finding_dispose(
            actor=request.user,
            finding_id=finding_id,
            disposition=disposition,
            reason=request.POST.get("reason", ""),
        ),
        f"筛查发现{label}",
    )


@login_required
@require_POST
def score(request: HttpRequest, application_id: int) -> HttpResponse:
    return _run(
        request,
        application_id,
        lambda: s.expert_score_add(
            actor=request.user,
            application_id=application_id,
            expert_name=request.POST.get("expert_name", ""),
            score=request.POST.get("score", ""),
            comment=request.POST.get("comment", ""),
        ),
        "专家评分已录入",
    )


@login_required
@require_POST
def objection(request: HttpRequest, application_id: int) -> HttpResponse:
    return _run(
        request,
        application_id,
        lambda: s.objection_file(
            actor=request.user,
            application_id=application_id,
            filer_name=request.POST.get("filer_name", ""),
            content=request.POST.get("content", ""),
        ),
        "异议已提交",
    )


@login_required
@require_POST
def objection_answer(request: HttpRequest, application_id: int, objection_id: int) -> HttpResponse:
    return _run(
        request,
        application_id,
        lambda: s.objection_answer(
            actor=request.user,
            objection_id=objection_id,
            answer=request.POST.get("answer", ""),
            upheld=request.POST.get("upheld") == "1",
        ),
        "异议已答复",
    )


@login_required
@require_POST
def rescreen(request: HttpRequest, application_id: int) -> HttpResponse:
    """Staff run screening again (after a failure, or when new applications came in)."""
    from .screening import screen_application_now

    def run() -> None:
        app = application_get(actor=request.user, application_id=application_id)
        if not allowed(request.user, "applications.handle", app):
            raise ValidationFailed("只有主管科室经办人员可以重新筛查", code="permission_denied")
        screen_application_now(application_id=application_id)

    return _run(request, application_id, run, "已重新筛查")


@login_required
def evidence_file(request: HttpRequest, evidence_id: int) -> HttpResponseBase:
    evidence = evidence_get(actor=request.user, evidence_id=evidence_id)
    response = FileResponse(evidence.file.open("rb"), content_type=evidence.content_type)
    response["Content-Disposition"] = "inline"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
def rechecks(request: HttpRequest) -> HttpResponse:
    """Sampling re-checks (回头看/抽查): fix a seed, then draw; every draw can be replayed."""
    from qijia.programmes.models import Programme

    from .models import RecheckDraw

    if not allowed(request.user, "applications.run_recheck"):
        raise PermissionDenied("只有科室工作人员可以组织抽查")
    if request.method == "POST":
        try:
            if request.POST.get("draw_id"):
                draw = s.recheck_draw_run(actor=request.user, draw_id=int(request.POST["draw_id"]))
                messages.success(request, f"已抽取：{', '.join(draw.selected or [])}")
            else:
                draw = s.recheck_draw_create(
                    actor=request.user,
                    programme_id=int(request.POST.get("programme_id", 0)),
                    share_pct=request.POST.get("share_pct") or None,
                )
                messages.success(request, f"已登记随机种子 {draw.seed}，请确认后执行抽取")
        except (DomainError, ValueError) as exc:
            if isinstance(exc, DomainError):
                messages.error(request, exc.with_fields())
            else:
                messages.error(request, "请求参数有误")
        return redirect("applications:rechecks")
    section_id = signed_in_user(request).org_unit_id
    programmes = Programme.objects.filter(section_id=section_id).order_by("code")
    draws = (
        RecheckDraw.objects.filter(programme__section_id=section_id)
        .select_related("programme", "created_by")
        .order_by("-created_at")[:50]
    )
    return render(request, "applications/rechecks.html", {"programmes": programmes, "draws": draws})


@login_required
@require_POST
def clawback_receipt(request: HttpRequest, application_id: int) -> HttpResponse:
    def run() -> None:
        app = application_get(actor=request.user, application_id=application_id)
        received = _date(request.POST.get("received_on", ""), "received_on")
        if received is None:
            raise ValidationFailed("请填写到账日期", fields={"received_on": "必填"})
        s.clawback_record_receipt(
            actor=request.user,
            clawback_id=app.clawback.pk,
            amount=request.POST.get("amount", ""),
            received_on=received,
            reference=request.POST.get("reference", ""),
        )

    return _run(request, application_id, run, "追缴到账已登记")


@login_required
def notice(request: HttpRequest) -> HttpResponse:
    """The public notice board: what is about to be paid, to whom, and how to object."""
    from .selectors import notice_list

    if request.method == "POST":
        application_id = int(request.POST.get("application_id", "0") or 0)
        try:
            s.objection_file(
                actor=request.user,
                application_id=application_id,
                filer_name=request.POST.get("filer_name", ""),
                content=request.POST.get("content", ""),
            )
        except DomainError as exc:
            messages.error(request, exc.with_fields())
        else:
            messages.success(request, "异议已提交，主管科室将在拨付前答复")
        return redirect("applications:notice")
    return render(request, "applications/notice.html", {"applications": notice_list()})
