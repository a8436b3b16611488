"""Reading programmes: what an actor may see, the policy calculator, execution progress (#48)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch, Q, QuerySet, Sum
from django.utils import timezone

from qijia.core.errors import NotFound
from qijia.enterprises.models import Enterprise

from .eligibility import Outcome, evaluate, overall
from .facts import enterprise_facts
from .models import Call, Programme, ProgrammeBudget, ProgrammeStatus, SectionBudget
from .permissions import allowed, require


def programme_list(*, actor: Any, status: str = "") -> QuerySet[Programme]:
    """Staff see every programme; everyone else only published ones."""
    qs = Programme.objects.select_related("section").prefetch_related("calls", "criteria")
    if not allowed(actor, "programmes.view_drafts"):
        qs = qs.filter(status=ProgrammeStatus.PUBLISHED)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("code")


def programme_get(*, actor: Any, programme_id: int) -> Programme:
    programme = programme_list(actor=actor).filter(pk=programme_id).first()
    if programme is None:
        raise NotFound("专项不存在或尚未发布")
    return programme


def open_calls(*, on: dt.date | None = None) -> QuerySet[Call]:
    on = on or timezone.localdate()
    return (
        Call.objects.filter(
            programme__status=ProgrammeStatus.PUBLISHED, opens_on__lte=on, closes_on__gte=on
        )
        .select_related("programme", "programme__section")
        .order_by("closes_on", "pk")
    )


@dataclass(frozen=True)
class CalculatorRow:
    call: Call
    outcomes: list[Outcome]
    result: str


def policy_calculator(
    *, enterprise: Enterprise, on: dt.date | None = None, listings: list | None = None
) -> list[CalculatorRow]:
    """Every open call with each criterion of its programme evaluated for ``enterprise``.

    ``listings`` are the enterprise's registry entries (the caller asks the registry once)."""
    on = on or timezone.localdate()
    facts = enterprise_facts(enterprise, on=on, listings=listings)
    calls = open_calls(on=on).prefetch_related(Prefetch("programme__criteria"))
    rows = []
    for call in calls:
        outcomes = [
            evaluate(c.fact, c.operator, c.value, facts) for c in call.programme.criteria.all()
        ]
        rows.append(CalculatorRow(call=call, outcomes=outcomes, result=overall(outcomes)))
    order = {"pass": 0, "unknown": 1, "fail": 2}
    rows.sort(key=lambda r: (order[r.result], r.call.closes_on))
    return rows


@dataclass(frozen=True)
class ProgressRow:
    label: str
    year: int
    amount: Decimal
    reserved: Decimal
    spent: Decimal
    recovered: Decimal

    @property
    def available(self) -> Decimal:
        return self.amount - self.reserved - self.spent

    @property
    def spent_pct(self) -> Decimal:
        if not self.amount:
            return Decimal(0)
        return (self.spent / self.amount * 100).quantize(Decimal("0.1"))


def execution_progress(*, actor: Any, year: int) -> dict[str, list[ProgressRow]]:
    """Budget, reserved, paid and recovered per programme and per section for one year (#48)."""
    require(actor, "programmes.view_funds")
    programmes = [
        ProgressRow(
            f"{b.programme.code} {b.programme.title}",
            b.year,
            b.amount,
            b.reserved,
            b.spent,
            b.recovered,
        )
        for b in ProgrammeBudget.objects.filter(year=year)
        .select_related("programme")
        .order_by("programme__code")
    ]
    sections = []
    section_rows = {s.section_id: s for s in SectionBudget.objects.filter(year=year)}
    totals = (
        ProgrammeBudget.objects.filter(year=year)
        .values("programme__section_id", "programme__section__name")
        .annotate(
            amount=Sum("amount"),
            reserved=Sum("reserved"),
            spent=Sum("spent"),
            recovered=Sum("recovered"),
        )
        .order_by("programme__section__name")
    )
    for row in totals:
        ceiling = section_rows.get(row["programme__section_id"])
        sections.append(
            ProgressRow(
                row["programme__section__name"],
                year,
                ceiling.amount if ceiling else row["amount"],
                row["reserved"],
                row["spent"],
                row["recovered"],
            )
        )
    return {"programmes": programmes, "sections": sections}


def programmes_for_section(*, section_id: int) -> QuerySet[Programme]:
    return Programme.objects.filter(Q(section_id=section_id)).order_by("code")
