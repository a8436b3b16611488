"""Concurrent approvals and payments on PostgreSQL: row locks keep the budget whole."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.utils import timezone

from qijia.applications import services as s
from qijia.applications.models import Application, Payment, Status
from qijia.applications.testing import make_world
from qijia.programmes.models import ProgrammeBudget

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _reference_data():
    """Transactional tests flush the tables after each test; reload the towns and industries."""
    from qijia.core.reference import load_reference

    load_reference()


def _awaiting(world, n: int, amount: Decimal) -> list[int]:
    """n applications ready for approval (created directly: this test is about the budget)."""
    ids = []
    for i in range(n):
        app = Application.objects.create(
            reference=f"SQ-CC-{i:04d}",
            programme=world.programme,
            call=world.call,
            enterprise=world.enterprise,
            created_by=world.applicant,
            title=f"项目{i}",
            amount_requested=amount,
            status=Status.AWAITING_APPROVAL,
            screened_at=timezone.now(),
        )
        ids.append(app.pk)
    return ids


def _run_all(fn, items) -> list:
    results: list = [None] * len(items)
    barrier = threading.Barrier(len(items))

    def worker(i, item):
        try:
            barrier.wait()
            results[i] = fn(item)
        except Exception as exc:  # collected and asserted below
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, x)) for i, x in enumerate(items)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_concurrent_approvals_never_overspend():
    world = make_world(budget=Decimal("1000000"), section_budget=Decimal("900000"))
    ids = _awaiting(world, 12, Decimal("100000"))
    results = _run_all(
        lambda pk: s.application_approve(actor=world.approver, application_id=pk, amount="100000"),
        ids,
    )
    approved = [r for r in results if isinstance(r, Application)]
    refused = [r for r in results if isinstance(r, s.PreconditionFailed)]
    assert len(approved) == 9  # the section ceiling (900,000) is the tighter one
    assert len(refused) == 3 and all(r.code == "budget_available" for r in refused)
    budget = ProgrammeBudget.objects.get(pk=world.budget.pk)
    assert budget.reserved == Decimal("900000")
    assert Application.objects.filter(status=Status.APPROVED).count() == 9


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_concurrent_identical_payment_requests_pay_once():
    world = make_world()
    [pk] = _awaiting(world, 1, Decimal("50000"))
    s.application_approve(actor=world.approver, application_id=pk, amount="50000")
    s.application_publish_notice(
        actor=world.officer,
        application_id=pk,
        starts_on=timezone.localdate() - dt.timedelta(days=30),
    )
    s.application_close_notice(actor=world.officer, application_id=pk)
    results = _run_all(
        lambda key: s.application_pay(actor=world.officer, application_id=pk, idempotency_key=key),
        ["retry-key"] * 6,
    )
    assert all(isinstance(r, Payment) for r in results), results
    assert len({r.pk for r in results}) == 1
    assert Payment.objects.count() == 1
    assert ProgrammeBudget.objects.get(pk=world.budget.pk).spent == Decimal("50000")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_concurrent_drafts_get_distinct_references():
    world = make_world()
    results = _run_all(
        lambda n: s.application_create(
            actor=world.applicant,
            call_id=world.call.pk,
            title=f"并发草稿{n}",
            amount_requested="1000",
        ),
        list(range(6)),
    )
    assert all(isinstance(r, Application) for r in results), results
    assert len({r.reference for r in results}) == 6
