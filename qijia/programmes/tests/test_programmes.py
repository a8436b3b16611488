"""Programme, facts, calculator and budget-adjustment services on the database."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import override_settings

from qijia.applications.testing import make_world
from qijia.core.errors import Conflict, InvalidTransition, PermissionDenied, ValidationFailed
from qijia.enterprises.models import MonthlyIndicator
from qijia.programmes import services as ps
from qijia.programmes.facts import enterprise_facts
from qijia.programmes.models import AdjustmentStatus, ProgrammeBudget
from qijia.programmes.selectors import execution_progress, policy_calculator

pytestmark = pytest.mark.django_db


def _year(enterprise, year: int, revenue: str, months: int = 12) -> None:
    for m in range(1, months + 1):
        MonthlyIndicator.objects.create(
            enterprise=enterprise,
            month=dt.date(year, m, 1),
            revenue=Decimal(revenue),
            tax_paid=Decimal("1"),
        )


def test_facts_use_complete_years_only_and_compute_growth(db):
    world = make_world()
    _year(world.enterprise, 2024, "100")
    _year(world.enterprise, 2025, "110")
    facts = enterprise_facts(world.enterprise, on=dt.date(2026, 6, 1), listings=[])
    assert facts.revenue_last_year == Decimal("1320")
    assert facts.revenue_growth_pct == Decimal("10.00")
    assert facts.not_listed is True
    partial = enterprise_facts(world.enterprise, on=dt.date(2027, 6, 1), listings=None)
    assert partial.revenue_last_year is None and "0/12" in partial.gaps["revenue_last_year"]


def test_calculator_shows_open_calls_with_each_condition(db):
    world = make_world(criteria=[("industry", "in", ["C39"]), ("revenue_last_year", "gte", "1000")])
    rows = policy_calculator(enterprise=world.enterprise, listings=[])
    [row] = [r for r in rows if r.call.pk == world.call.pk]
    assert [o.result for o in row.outcomes] == ["pass", "unknown"]
    assert row.result == "unknown"


def test_criteria_cannot_change_after_publication(world=None):
    world = make_world()
    with pytest.raises(InvalidTransition):
        ps.criterion_add(
            actor=world.officer,
            programme_id=world.programme.pk,
            fact="industry",
            operator="in",
            value=["C13"],
        )


def test_enterprise_cannot_create_programmes(db):
    world = make_world()
    with pytest.raises(PermissionDenied):
        ps.programme_create(
            actor=world.applicant,
            code="x",
            title="x",
            section=world.section,
            max_amount=1,
            major_threshold=1,
        )


def test_programme_create_reports_fields(db):
    world = make_world()
    with pytest.raises(ValidationFailed) as exc:
        ps.programme_create(
            actor=world.officer,
            code="",
            title="",
            section=world.section,
            max_amount="-1",
            major_threshold="abc",
            notice_days=0,
        )
    assert set(exc.value.fields) >= {
        "code",
        "title",
        "max_amount",
        "major_threshold",
        "notice_days",
    }


@override_settings(QIJIA_BUDGET_ADJUSTMENTS_PER_YEAR=2, QIJIA_BUDGET_ADJUSTMENT_MAX_PCT=20)
def test_budget_adjustments_are_limited_in_number_and_size_and_need_approval(db):
    world = make_world(budget=Decimal("1000000"))
    with pytest.raises(ValidationFailed, match="20"):
        ps.budget_adjustment_request(
            actor=world.officer, budget_id=world.budget.pk, delta="200001", reason="追加"
        )
    first = ps.budget_adjustment_request(
        actor=world.officer, budget_id=world.budget.pk, delta="100000", reason="追加"
    )
    assert ProgrammeBudget.objects.get(pk=world.budget.pk).amount == Decimal("1000000")
    with pytest.raises(PermissionDenied):  # a case officer does not decide
        ps.budget_adjustment_decide(actor=world.officer, adjustment_id=first.pk, approve=True)
    with pytest.raises(PermissionDenied):
        other = make_world(section_code="section-x")
        ps.budget_adjustment_decide(actor=other.approver, adjustment_id=first.pk, approve=True)
    ps.budget_adjustment_decide(actor=world.approver, adjustment_id=first.pk, approve=True)
    assert ProgrammeBudget.objects.get(pk=world.budget.pk).amount == Decimal("1100000")
    with pytest.raises(ValidationFailed, match="自己"):  # the requester may not approve
        ps.budget_adjustment_decide(
            actor=world.approver,
            adjustment_id=ps.budget_adjustment_request(
                actor=world.approver, budget_id=world.budget.pk, delta="1", reason="x"
            ).pk,
            approve=True,
        )
    with pytest.raises(Conflict, match="上限2次"):
        ps.budget_adjustment_request(
            actor=world.officer, budget_id=world.budget.pk, delta="1000", reason="再追加"
        )
    assert first.budget.adjustments.filter(status=AdjustmentStatus.PENDING).count() == 1


def test_budget_cut_below_committed_is_refused(db):
    from qijia.applications.tests.helpers import advance

    world = make_world(budget=Decimal("300000"))
    advance(world, to="approved", amount=Decimal("290000"))
    adj = ps.budget_adjustment_request(
        actor=world.officer, budget_id=world.budget.pk, delta="-50000", reason="调减"
    )
    with pytest.raises(Conflict, match="低于"):
        ps.budget_adjustment_decide(actor=world.approver, adjustment_id=adj.pk, approve=True)


def test_execution_progress_per_programme_and_section(db):
    from qijia.applications.tests.helpers import advance

    world = make_world(budget=Decimal("1000000"), section_budget=Decimal("2000000"))
    advance(world, to="paid", amount=Decimal("100000"))
    progress = execution_progress(actor=world.officer, year=world.call.year)
    [row] = [r for r in progress["programmes"] if world.programme.code in r.label]
    assert (row.amount, row.reserved, row.spent) == (Decimal("1000000"), 0, Decimal("100000"))
    [sec] = [r for r in progress["sections"] if r.label == world.section.name]
    assert sec.amount == Decimal("2000000") and sec.spent == Decimal("100000")
    with pytest.raises(PermissionDenied):
        execution_progress(actor=world.applicant, year=world.call.year)
