"""Moving money between a budget's buckets: reserve at approval, spend at payment, release on
rejection or cancellation, recover on clawback.

These run inside the caller's transaction (the lifecycle service that decided). Both budgets are
locked in one fixed order (section, then programme) so that concurrent approvals queue instead of
deadlocking, and the availability test runs on the locked rows: two approvals can never both see
the same last yuan. The database check constraint backs this up.
"""

from __future__ import annotations

from decimal import Decimal

from qijia.core.errors import Conflict

from .models import Programme, ProgrammeBudget, SectionBudget


def _locked(programme: Programme, year: int) -> tuple[SectionBudget | None, ProgrammeBudget]:
    section_budget = (
        SectionBudget.objects.select_for_update()
        .filter(section_id=programme.section_id, year=year)
        .first()
    )
    budget = (
        ProgrammeBudget.objects.select_for_update().filter(programme=programme, year=year).first()
    )
    if budget is None:
        raise Conflict(f"该专项尚未设置{year}年度预算", code="no_budget")
    return section_budget, budget


def funds_reserve(*, programme: Programme, year: int, amount: Decimal) -> ProgrammeBudget:
    section_budget, budget = _locked(programme, year)
    if amount > budget.available:
        raise Conflict(
            f"专项{year}年度预算余额不足：可用{budget.available}元，需{amount}元",
            code="budget_exhausted",
        )
    if section_budget is not None and amount > section_budget.available:
        raise Conflict(
            f"科室{year}年度预算余额不足：可用{section_budget.available}元，需{amount}元",
            code="budget_exhausted",
        )
    for row in (section_budget, budget):
        if row is not None:
            row.reserved += amount
            row.save(update_fields=["reserved"])
    return budget


def funds_release(*, programme: Programme, year: int, amount: Decimal) -> None:
    section_budget, budget = _locked(programme, year)
    for row in (section_budget, budget):
        if row is not None:
            row.reserved -= amount
            row.save(update_fields=["reserved"])


def funds_spend(*, programme: Programme, year: int, amount: Decimal) -> None:
    """Turn a reservation into a payment."""
    section_budget, budget = _locked(programme, year)
    for row in (section_budget, budget):
        if row is not None:
            row.reserved -= amount
            row.spent += amount
            row.save(update_fields=["reserved", "spent"])


def funds_recover(*, programme: Programme, year: int, amount: Decimal) -> None:
    """Money clawed back. It is counted, not made available again: re-spending recovered money
    needs a budget adjustment, which is limited and approved (#48)."""
    section_budget, budget = _locked(programme, year)
    for row in (section_budget, budget):
        if row is not None:
            row.recovered += amount
            row.save(update_fields=["recovered"])
