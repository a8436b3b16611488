"""The named preconditions of workflow.py. Each returns None when it holds, or the refusal in
Chinese. They run inside the service's transaction, on the locked application."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from qijia.programmes.models import ProgrammeBudget, SectionBudget

from .checks import Listing
from .models import Application, Disposition, EvidenceFile, Invoice


@dataclass
class Ctx:
    actor: Any
    today: dt.date
    note: str = ""
    amount: Decimal | None = None
    listings: list[Listing] | None = None
    eligibility_result: str = ""
    eligibility_failures: list[str] = field(default_factory=list)


def current_files(application: Application):  # noqa: ANN201 - queryset
    return EvidenceFile.objects.filter(application=application, superseded_by__isnull=True)


def current_invoices(application: Application):  # noqa: ANN201 - queryset
    return Invoice.objects.filter(application=application, superseded_by__isnull=True)


def call_open(app: Application, ctx: Ctx) -> str | None:
    if not app.call.is_open_on(ctx.today):
        return (
            f"申报批次“{app.call.title}”不在申报期内（{app.call.opens_on}至{app.call.closes_on}）"
        )
    return None


def materials_complete(app: Application, ctx: Ctx) -> str | None:
    missing = []
    if not app.title.strip():
        missing.append("项目名称")
    codes = set(current_files(app).values_list("material_code", flat=True))
    for item in app.programme.required_materials:
        if item.get("required", True) and item["code"] not in codes:
            missing.append(item["label"])
        if (
            item.get("kind") == "invoice"
            and item.get("required", True)
            and not current_invoices(app).exists()
        ):
            missing.append(f"{item['label']}（发票信息）")
    if app.amount_requested > app.programme.max_amount:
        return f"申请金额超过本专项单个企业最高资助额{app.programme.max_amount}元"
    if missing:
        return "申报材料不完整，缺少：" + "、".join(dict.fromkeys(missing))
    return None


def eligible(app: Application, ctx: Ctx) -> str | None:
    if ctx.eligibility_result == "fail":
        return "不符合申报条件：" + "；".join(ctx.eligibility_failures)
    return None


def registry_clean(app: Application, ctx: Ctx) -> str | None:
    if ctx.listings is None:
        return "未能查询不予资助名单，请稍后重试"
    if ctx.listings:
        return "该企业已被列入不予资助名单：" + "；".join(x.describe() for x in ctx.listings)
    return None


def note_given(app: Application, ctx: Ctx) -> str | None:
    return None if ctx.note.strip() else "请填写意见或理由"


def scores_given(app: Application, ctx: Ctx) -> str | None:
    return None if app.scores.exists() else "请先录入专家评分"


def findings_disposed(app: Application, ctx: Ctx) -> str | None:
    if app.screened_at is None:
        return "诚信筛查尚未完成，不能进入下一步"
    pending = app.findings.filter(disposition=Disposition.PENDING).count()
    if pending:
        return f"还有{pending}项筛查发现未处置"
    return None


def no_confirmed_fraud(app: Application, ctx: Ctx) -> str | None:
    if app.findings.filter(disposition=Disposition.CONFIRMED).exists():
        return "存在已确认的筛查问题，应不予通过或撤销资助"
    return None


def amount_valid(app: Application, ctx: Ctx) -> str | None:
    amount = ctx.amount
    if amount is None or amount <= 0:
        return "请填写核定金额"
    if amount > app.amount_requested:
        return f"核定金额不能超过申请金额{app.amount_requested}元"
    if amount > app.programme.max_amount:
        return f"核定金额不能超过本专项单个企业最高资助额{app.programme.max_amount}元"
    return None


def budget_available(app: Application, ctx: Ctx) -> str | None:
    """Read on locked rows; ``funds_reserve`` then takes the money under the same locks."""
    amount = ctx.amount or Decimal(0)
    year = app.call.year
    section = (
        SectionBudget.objects.select_for_update()
        .filter(section_id=app.programme.section_id, year=year)
        .first()
    )
    budget = (
        ProgrammeBudget.objects.select_for_update()
        .filter(programme_id=app.programme_id, year=year)
        .first()
    )
    if budget is None:
        return f"该专项尚未设置{year}年度预算"
    if amount > budget.available:
        return f"专项{year}年度预算余额不足：可用{budget.available}元，需{amount}元"
    if section is not None and amount > section.available:
        return f"科室{year}年度预算余额不足：可用{section.available}元，需{amount}元"
    return None


def is_major_matter(app: Application) -> bool:
    amount = app.amount_approved or app.amount_requested
    return amount >= app.programme.major_threshold


def is_major(app: Application, ctx: Ctx) -> str | None:
    return None if is_major_matter(app) else "该金额未达到三重一大标准，无需集体决策"


def leadership_decision_if_major(app: Application, ctx: Ctx) -> str | None:
    if is_major_matter(app) and not hasattr_decision(app):
        return (
            f"拨付金额达到三重一大标准（{app.programme.major_threshold}元），"
            "须先录入领导班子集体决策（会议、日期、纪要编号）"
        )
    return None


def hasattr_decision(app: Application) -> bool:
    from .models import LeadershipDecision

    return LeadershipDecision.objects.filter(application=app).exists()


def notice_period_over(app: Application, ctx: Ctx) -> str | None:
    if app.notice_ends_on is None or ctx.today <= app.notice_ends_on:
        return f"公示期至{app.notice_ends_on}，期满后方可结束公示"
    return None


def objections_answered(app: Application, ctx: Ctx) -> str | None:
    open_count = app.objections.filter(answered_at__isnull=True).count()
    if open_count:
        return f"还有{open_count}条公示异议未答复"
    if app.objections.filter(upheld=True).exists():
        return "有异议经核实成立，应不予通过"
    return None


PRECONDITIONS: dict[str, Callable[[Application, Ctx], str | None]] = {
    "call_open": call_open,
    "materials_complete": materials_complete,
    "eligible": eligible,
    "registry_clean": registry_clean,
    "note_given": note_given,
    "scores_given": scores_given,
    "findings_disposed": findings_disposed,
    "no_confirmed_fraud": no_confirmed_fraud,
    "amount_valid": amount_valid,
    "budget_available": budget_available,
    "is_major": is_major,
    "leadership_decision_if_major": leadership_decision_if_major,
    "notice_period_over": notice_period_over,
    "objections_answered": objections_answered,
}
