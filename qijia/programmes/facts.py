"""Gather an enterprise's eligibility facts from the enterprise registry and the ineligibility list.

Indicator figures count only when the year is complete (12 months reported): a partial year would
make "last year's revenue ≥ X" fail an enterprise for missing data, so it is "unknown" instead.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Count, Sum

from qijia.enterprises.models import Enterprise, EnterpriseStatus, MonthlyIndicator

from .eligibility import Facts


def _year_total(enterprise_id: int, year: int, column: str) -> tuple[Decimal | None, int]:
    row = MonthlyIndicator.objects.filter(
        enterprise_id=enterprise_id, month__year=year, **{f"{column}__isnull": False}
    ).aggregate(total=Sum(column), months=Count("pk"))
    months = row["months"] or 0
    return (row["total"] if months == 12 else None), months


def enterprise_facts(enterprise: Enterprise, *, on: dt.date, listings: list | None) -> Facts:
    """Facts about ``enterprise`` on date ``on``; ``listings`` are its registry entries on that
    date (None when the registry was not asked)."""
    gaps: dict[str, str] = {}
    details: dict[str, str] = {}
    last_year = on.year - 1

    years = None
    if enterprise.established_on:
        days = (on - enterprise.established_on).days
        years = (Decimal(days) / Decimal("365.25")).quantize(Decimal("0.1"))
    else:
        gaps["years_established"] = "企业库中无成立日期"

    revenue, revenue_months = _year_total(enterprise.pk, last_year, "revenue")
    if revenue is None:
        gaps["revenue_last_year"] = f"{last_year}年营业收入数据不完整（{revenue_months}/12个月）"
    tax, tax_months = _year_total(enterprise.pk, last_year, "tax_paid")
    if tax is None:
        gaps["tax_last_year"] = f"{last_year}年纳税数据不完整（{tax_months}/12个月）"
    growth = None
    previous, previous_months = _year_total(enterprise.pk, last_year - 1, "revenue")
    if revenue is not None and previous:
        growth = ((revenue - previous) / previous * 100).quantize(Decimal("0.01"))
    else:
        gaps["revenue_growth_pct"] = (
            f"{last_year - 1}年、{last_year}年营业收入数据不完整，无法计算增长率"
        )

    not_listed = None
    if listings is None:
        gaps["not_listed"] = "未查询不予资助名单"
    else:
        not_listed = not listings
        if listings:
            details["not_listed"] = "；".join(item.describe() for item in listings)
    operating = enterprise.status == EnterpriseStatus.ACTIVE
    if not operating:
        details["operating"] = f"经营状态为{enterprise.get_status_display()}"

    return Facts(
        industry=enterprise.industry_id or None,
        town=enterprise.town.name if enterprise.town_id else None,
        size_class=enterprise.size_class or None,
        years_established=years,
        revenue_last_year=revenue,
        tax_last_year=tax,
        revenue_growth_pct=growth,
        operating=operating,
        not_listed=not_listed,
        gaps=gaps,
        details=details,
    )
