"""Programme pages: the policy calculator (政策计算器), a programme's page, execution progress."""

from __future__ import annotations

import io

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from qijia.applications.checks import registry_listings
from qijia.core.errors import DomainError

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
    enterprise = request.user.enterprise if request.user.enterprise_id else None
    rows, listings = None, None
    if enterprise is not None:
        listings = registry_listings(uscc=enterprise.uscc, on=timezone.localdate())
        rows = policy_calculator(enterprise=enterprise, listings=listings)
    return render(request, "programmes/calculator.html", {
        "enterprise": enterprise, "rows": rows, "listings": listings,
        "calls": open_calls() if enterprise is None else None,
    })


@login_required
def programme_detail(request: HttpRequest, programme_id: int) -> HttpResponse:
    programme = programme_get(actor=request.user, programme_id=programme_id)
    today = timezone.localdate()
    return render(request, "programmes/detail.html", {
        "programme": programme, "today": today,
        "calls": programme.calls.all(), "criteria": programme.criteria.all(),
    })


@login_required
def programme_index(request: HttpRequest) -> HttpResponse:
    return render(request, "programmes/list.html", {
        "programmes": programme_list(actor=request.user, status=request.GET.get("status", "")),
    })


def _year(request: HttpRequest) -> int:
    try:
        return int(request.GET.get("year", ""))
    except ValueError:
        return timezone.localdate().year


@login_required
def funds(request: HttpRequest) -> HttpResponse:
    year = _year(request)
    try:
        progress = execution_progress(actor=request.user, year=year)
    except DomainError as exc:
        return render(request, "core/error.html", {"message": exc.message, "status": exc.status},
                      status=exc.status)
    return render(request, "programmes/funds.html", {"year": year, **progress,
                                                      "years": range(year - 3, year + 2)})


@login_required
def funds_xlsx(request: HttpRequest) -> HttpResponse:
    """The same table as an XLSX workbook: one sheet per programme table and section table."""
    from openpyxl import Workbook

    year = _year(request)
    try:
        progress = execution_progress(actor=request.user, year=year)
    except DomainError as exc:
        return render(request, "core/error.html", {"message": exc.message, "status": exc.status},
                      status=exc.status)
    wb = Workbook()
    header = ["名称", "年度", "预算(元)", "已预留(元)", "已拨付(元)", "可用(元)", "已追回(元)", "执行率(%)"]
    for index, (key, title) in enumerate((("programmes", "专项"), ("sections", "科室"))):
        ws = wb.active if index == 0 else wb.create_sheet()
        ws.title = f"{year}年{title}执行进度"
        ws.append(header)
        for row in progress[key]:
            ws.append([row.label, row.year, row.amount, row.reserved, row.spent, row.available,
                       row.recovered, row.spent_pct])
    out = io.BytesIO()
    wb.save(out)
    response = HttpResponse(
        out.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="funds-{year}.xlsx"'
    return response

