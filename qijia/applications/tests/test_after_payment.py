"""Sampling re-checks with a replayable seed, cancellation, clawback and blacklisting."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest
from django.utils import timezone

from qijia.applications import services as s
from qijia.applications.models import Application, Status
from qijia.applications.testing import filled_application
from qijia.audit.models import AuditEvent
from qijia.core.errors import InvalidTransition, PermissionDenied
from qijia.programmes.models import ProgrammeBudget
from qijia.registry.selectors import registry_check

pytestmark = pytest.mark.django_db


def _paid(world, n: int) -> list[Application]:
    """n paid applications, moved along directly (the lifecycle itself is tested elsewhere)."""
    apps = []
    for i in range(n):
        app = Application.objects.create(
            reference=f"SQ2026-9{i:05d}",
            programme=world.programme,
            call=world.call,
            enterprise=world.enterprise,
            created_by=world.applicant,
            title=f"项目{i}",
            amount_requested=Decimal("1000"),
            amount_approved=Decimal("1000"),
            status=Status.PAID,
        )
        apps.append(app)
    return apps


def test_draw_records_seed_before_drawing_and_replays(world):
    _paid(world, 20)
    draw = s.recheck_draw_create(
        actor=world.officer, programme_id=world.programme.pk, share_pct="15"
    )
    assert draw.selected is None and draw.size == 3
    created = AuditEvent.objects.get(action="applications.recheck_draw_created")
    assert created.after["seed"] == draw.seed
    s.recheck_draw_run(actor=world.officer, draw_id=draw.pk)
    draw.refresh_from_db()
    expected = sorted(random.Random(draw.seed).sample(draw.population, draw.size))
    assert draw.selected == expected
    assert set(
        Application.objects.filter(status=Status.UNDER_RECHECK).values_list("reference", flat=True)
    ) == set(expected)
    with pytest.raises(InvalidTransition):
        s.recheck_draw_run(actor=world.officer, draw_id=draw.pk)


def test_draw_refuses_other_sections_and_enterprises(world):
    _paid(world, 2)
    with pytest.raises(PermissionDenied):
        s.recheck_draw_create(actor=world.applicant, programme_id=world.programme.pk)


def test_recheck_passed_closes(world):
    _paid(world, 1)
    draw = s.recheck_draw_create(
        actor=world.officer, programme_id=world.programme.pk, share_pct="100"
    )
    s.recheck_draw_run(actor=world.officer, draw_id=draw.pk)
    app = Application.objects.get()
    s.application_recheck_passed(actor=world.officer, application_id=app.pk, note="现场核查属实")
    app.refresh_from_db()
    assert app.status == Status.CLOSED
    assert app.rechecks.get().draw_id == draw.pk


def test_fraud_cancels_opens_clawback_and_blacklists(world):
    from .helpers import advance

    app = advance(world, to="paid", amount=Decimal("120000"))
    draw = s.recheck_draw_create(
        actor=world.officer, programme_id=world.programme.pk, share_pct="100"
    )
    s.recheck_draw_run(actor=world.officer, draw_id=draw.pk)
    with pytest.raises(PermissionDenied):
        s.application_cancel(actor=world.officer, application_id=app.pk, note="设备未购置")
    s.application_cancel(actor=world.approver, application_id=app.pk, note="设备未购置，发票虚开")
    app.refresh_from_db()
    assert app.status == Status.CANCELLED
    assert app.rechecks.get().result == "fraud"
    clawback = app.clawback
    assert clawback.amount_due == Decimal("120000") and clawback.outstanding == Decimal("120000")
    entries = registry_check(uscc=world.enterprise.uscc, on=timezone.localdate())
    assert [e.list for e in entries] == ["blacklist"]
    assert clawback.registry_entry_id == entries[0].pk

    s.clawback_record_receipt(
        actor=world.officer,
        clawback_id=clawback.pk,
        amount="20000",
        received_on=timezone.localdate(),
    )
    clawback.refresh_from_db()
    assert clawback.outstanding == Decimal("100000") and clawback.settled_at is None
    with pytest.raises(Exception, match="超过"):
        s.clawback_record_receipt(
            actor=world.officer,
            clawback_id=clawback.pk,
            amount="100001",
            received_on=timezone.localdate(),
        )
    s.clawback_record_receipt(
        actor=world.officer,
        clawback_id=clawback.pk,
        amount="100000",
        received_on=timezone.localdate() + dt.timedelta(days=1),
    )
    clawback.refresh_from_db()
    assert clawback.outstanding == 0 and clawback.settled_at is not None
    assert ProgrammeBudget.objects.get(pk=world.budget.pk).recovered == Decimal("120000")
    # the blacklisting now refuses the enterprise's next submission
    nxt = filled_application(world, photo_seed=9)
    with pytest.raises(s.PreconditionFailed, match="骗取财政资金"):
        s.application_submit(actor=world.applicant, application_id=nxt.pk)
