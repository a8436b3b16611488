"""Programme pages: the policy calculator (政策计算器), a programme's page, execution progress."""

from __future__ import annotations

import io

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils import timezone

from qijia.applications.checks import registry_listings
from qijia.core.errors import DomainError, NotFound, PermissionDenied
from qijia.identity.permissions import signed_in_user

from .selectors import (
    execution_progress,
    open_calls,
    policy_calculator,
    programme_get,
    programme_list,
)


@login_required
def calculator(request: HttpRequest) -> HttpResponse:
    """Enterprise users see each open call evaluated for their enterprise; others see the calls."""
    user = signed_in_user(request)
    enterprise = user.enterprise if user.enterprise_id else None
    rows, listings = None, None
    if enterprise is not None:
        listings = registry_listings(uscc=enterprise.uscc, on=timezone.localdate())
        rows = policy_calculator(enterprise=enterprise, listings=listings)
    return render(
        request,
        "programmes/calculator.html",
        {
            "enterprise": enterprise,
            "rows": rows,
            "listings": listings,
            "calls": open_calls() if enterprise is None else None,
        },
    )


@login_required
def attachment_file(request: HttpRequest, attachment_id: int) -> HttpResponseBase:
    """Policy attachments are public to signed-in users once the programme is visible to them."""
    from django.http import FileResponse

    from .models import ProgrammeAttachment

    attachment = ProgrammeAttachment.objects.filter(pk=attachment_id).first()
    if attachment is None:
        raise NotFound("附件不存在")
    programme_get(actor=request.user, programme_id=attachment.programme_id)
    response = FileResponse(attachment.file.open("rb"))
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
def programme_detail(request: HttpRequest, programme_id: int) -> HttpResponse:
    programme = programme_get(actor=request.user, programme_id=programme_id)
    today = timezone.localdate()
    return render(
        request,
        "programmes/detail.html",
        {
            "programme": programme,
            "today": today,
            "calls": programme.calls.all(),
            "criteria": programme.criteria.all(),
        },
    )


@login_required
def programme_index(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "programmes/list.html",
        {
            "programmes": programme_list(actor=request.user, status=request.GET.get("status", "")),
        },
    )


def _year(request: HttpRequest) -> int:
    try:
        return int(request.GET.get("year", ""))
    except ValueError:
        return timezone.localdate().year


@login_required
def funds(request: HttpRequest) -> HttpResponse:
    year = _year(request)
    progress = execution_progress(actor=request.user, year=year)
    return render(
        request,
        "programmes/funds.html",
        {"year": year, **progress, "years": range(year - 3, year + 2)},
    )


@login_required
def funds_xlsx(request: HttpRequest) -> HttpResponse:
    """The same table as an XLSX workbook: one sheet per programme table and section table."""
    from openpyxl import Workbook

    year = _year(request)
    progress = execution_progress(actor=request.user, year=year)
    wb = Workbook()
    header = [
        "名称",
        "年度",
        "预算(元)",
        "已预留(元)",
        "已拨付(元)",
        "可用(元)",
        "已追回(元)",
        "执行率(%)",
    ]
    for index, (key, title) in enumerate((("programmes", "专项"), ("sections", "科室"))):
        ws = wb.active if index == 0 else wb.create_sheet()
        ws.title = f"{year}年{title}执行进度"
        ws.append(header)
        for row in progress[key]:
            ws.append(
                [
                    row.label,
                    row.year,
                    row.amount,
                    row.reserved,
                    row.spent,
                    row.available,
                    row.recovered,
                    row.spent_pct,
                ]
            )
    out = io.BytesIO()
    wb.save(out)
    response = HttpResponse(
        out.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="funds-{year}.xlsx"'
    return response


def _parse_value(fact: str, raw: str):  # noqa: ANN202 - JSON value for a criterion
    from .eligibility import FLAG_FACTS, SET_FACTS

    if fact in SET_FACTS:
        return [part.strip() for part in raw.replace("，", ",").split(",") if part.strip()]
    if fact in FLAG_FACTS:
        return None
    return raw.strip()


@login_required
def programme_new(request: HttpRequest) -> HttpResponse:
    """Staff create a programme (draft) for their own section."""
    from django.contrib import messages
    from django.shortcuts import redirect

    from . import services as ps
    from .permissions import allowed

    section = signed_in_user(request).org_unit
    if not allowed(request.user, "programmes.manage", ps.section_target(section)):
        raise PermissionDenied("只有科室经办人员可以新建专项")
    assert section is not None  # only staff hold programmes.manage, and staff have an org unit
    if request.method == "POST":
        p = request.POST
        materials = [
            {"code": f"m{i}", "label": label.strip(), "kind": kind, "required": True}
            for i, (label, kind) in enumerate(
                zip(p.getlist("material_label"), p.getlist("material_kind"), strict=False)
            )
            if label.strip()
        ]
        try:
            programme = ps.programme_create(
                actor=request.user,
                code=p.get("code", ""),
                title=p.get("title", ""),
                section=section,
                max_amount=p.get("max_amount", ""),
                major_threshold=p.get("major_threshold", ""),
                notice_days=int(p.get("notice_days") or 7),
                expert_review_required=p.get("expert_review_required") == "1",
                policy_text=p.get("policy_text", ""),
                guide=p.get("guide", ""),
                required_materials=materials,
                recheck_share_pct=p.get("recheck_share_pct") or "10",
            )
        except DomainError as exc:
            messages.error(request, exc.with_fields())
        else:
            return redirect("programmes:manage", programme.pk)
    return render(request, "programmes/new.html", {"form": request.POST})


@login_required
def programme_manage(request: HttpRequest, programme_id: int) -> HttpResponse:
    """Criteria, status, calls, budget and budget adjustments of one programme."""
    import datetime as dt

    from django.contrib import messages
    from django.shortcuts import redirect

    from . import services as ps
    from .models import AdjustmentStatus, Fact, Operator
    from .permissions import allowed

    programme = programme_get(actor=request.user, programme_id=programme_id)
    can_manage = allowed(request.user, "programmes.manage", programme)
    can_decide = allowed(request.user, "programmes.decide_budget", programme)
    if not (can_manage or can_decide):
        raise PermissionDenied("只有主管科室可以管理该专项")
    if request.method == "POST":
        p, u, op = request.POST, request.user, request.POST.get("op", "")
        try:
            if op == "criterion":
                ps.criterion_add(
                    actor=u,
                    programme_id=programme.pk,
                    fact=p.get("fact", ""),
                    operator=p.get("operator", ""),
                    value=_parse_value(p.get("fact", ""), p.get("value", "")),
                    label=p.get("label", ""),
                )
            elif op in ("published", "retired"):
                ps.programme_set_status(actor=u, programme_id=programme.pk, status=op)
            elif op == "call":
                ps.call_create(
                    actor=u,
                    programme_id=programme.pk,
                    title=p.get("title", ""),
                    year=int(p.get("year") or 0),
                    opens_on=dt.date.fromisoformat(p.get("opens_on", "")),
                    closes_on=dt.date.fromisoformat(p.get("closes_on", "")),
                )
            elif op == "attachment":
                ps.programme_attachment_add(
                    actor=u,
                    programme_id=programme.pk,
                    title=p.get("title", ""),
                    upload=request.FILES.get("file"),
                )
            elif op == "budget":
                ps.budget_set(
                    actor=u,
                    programme_id=programme.pk,
                    year=int(p.get("year") or 0),
                    amount=p.get("amount", ""),
                )
            elif op == "adjust":
                ps.budget_adjustment_request(
                    actor=u,
                    budget_id=int(p.get("budget_id") or 0),
                    delta=p.get("delta", ""),
                    reason=p.get("reason", ""),
                )
            elif op in ("approve_adjustment", "reject_adjustment"):
                ps.budget_adjustment_decide(
                    actor=u,
                    adjustment_id=int(p.get("adjustment_id") or 0),
                    approve=op == "approve_adjustment",
                    note=p.get("note", ""),
                )
            else:
                raise ValueError(op)
        except DomainError as exc:
            messages.error(request, exc.with_fields())
        except ValueError:
            messages.error(request, "请求参数有误（日期请用 YYYY-MM-DD，年度为数字）")
        else:
            messages.success(request, "已保存")
        return redirect("programmes:manage", programme.pk)
    budgets = programme.budgets.prefetch_related("adjustments").order_by("-year")
    return render(
        request,
        "programmes/manage.html",
        {
            "programme": programme,
            "can_manage": can_manage,
            "can_decide": can_decide,
            "facts": Fact.choices,
            "operators": Operator.choices,
            "budgets": budgets,
            "pending": AdjustmentStatus.PENDING,
            "this_year": timezone.localdate().year,
        },
    )
