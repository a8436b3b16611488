"""After payment: the reproducible recheck draw and its results, cancellation after fraud (a
clawback and a blacklist entry), receipts against a clawback, and the daily overdue reminder."""

from __future__ import annotations

import datetime as dt
import math
import random
import secrets
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from qijia.audit.services import audit_record
from qijia.core.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from qijia.programmes.funds import funds_recover
from qijia.programmes.models import Programme

from ..models import (
    Application,
    Clawback,
    ClawbackReceipt,
    Payment,
    Recheck,
    RecheckDraw,
    RecheckResult,
    Status,
)
from ..permissions import require
from ..preconditions import Ctx
from ._common import _event, _lock, _money, _today, _transition


def recheck_draw_create(*, actor: Any, programme_id: int, share_pct: Any = None) -> RecheckDraw:
    """Fix the seed and the population first (committed, audited); ``recheck_draw_run`` then
    draws. Nobody can re-roll: the seed is on record before anyone sees a result."""
    require(actor, "applications.run_recheck")
    programme = Programme.objects.filter(pk=programme_id).first()
    if programme is None:
        raise NotFound("专项不存在")
    if programme.section_id != actor.org_unit_id:
        raise ValidationFailed("只能对本科室的专项组织抽查", code="permission_denied")
    share = Decimal(str(share_pct if share_pct is not None else programme.recheck_share_pct))
    if not (0 < share <= 100):
        raise ValidationFailed("抽查比例应在0到100之间", fields={"share_pct": "0到100之间"})
    population = list(
        Application.objects.filter(programme=programme, status=Status.PAID)
        .order_by("reference")
        .values_list("reference", flat=True)
    )
    if not population:
        raise Conflict("该专项没有已拨付、待复核的申请", code="empty_population")
    size = max(1, math.ceil(len(population) * share / 100))
    with transaction.atomic():
        draw = RecheckDraw.objects.create(
            programme=programme,
            share_pct=share,
            seed=secrets.randbits(62),
            population=population,
            size=size,
            created_by=actor,
        )
        audit_record(
            actor=actor,
            action="applications.recheck_draw_created",
            obj=draw,
            after={
                "seed": draw.seed,
                "population": population,
                "size": size,
                "share_pct": str(share),
            },
        )
    return draw


def replay_draw(*, seed: int, population: list[str], size: int) -> list[str]:
    """The draw, reproducible by anyone from the recorded seed and population."""
    return sorted(random.Random(seed).sample(list(population), size))


def recheck_draw_run(*, actor: Any, draw_id: int) -> RecheckDraw:
    with transaction.atomic():
        draw = (
            RecheckDraw.objects.select_for_update()
            .select_related("programme")
            .filter(pk=draw_id)
            .first()
        )
        if draw is None:
            raise NotFound("抽查批次不存在")
        require(actor, "applications.run_recheck")
        if draw.programme.section_id != actor.org_unit_id:
            raise ValidationFailed("只能对本科室的专项组织抽查", code="permission_denied")
        if draw.drawn_at is not None:
            raise InvalidTransition("该批次已抽取")
        draw.selected = replay_draw(seed=draw.seed, population=draw.population, size=draw.size)
        draw.drawn_at = timezone.now()
        draw.save()
        audit_record(
            actor=actor,
            action="applications.recheck_drawn",
            obj=draw,
            after={"seed": draw.seed, "selected": draw.selected},
        )
        for app_id in (
            Application.objects.filter(reference__in=draw.selected, status=Status.PAID)
            .order_by("reference")
            .values_list("pk", flat=True)
        ):
            _transition(
                "select_for_recheck",
                actor=actor,
                application_id=app_id,
                note=f"抽查批次{draw.pk}抽中",
            )
    return draw


def application_recheck_passed(*, actor: Any, application_id: int, note: str) -> Application:
    def apply(app: Application, ctx: Ctx) -> dict:
        Recheck.objects.create(
            application=app,
            draw=_latest_draw(app),
            result=RecheckResult.PASSED,
            note=note,
            recorded_by=actor,
        )
        return {"result": RecheckResult.PASSED}

    return _transition(
        "recheck_passed", actor=actor, application_id=application_id, note=note, apply=apply
    )


def _latest_draw(app: Application) -> RecheckDraw | None:
    """The draw that selected ``app`` (JSON containment differs per database: filter here)."""
    if app.status != Status.UNDER_RECHECK:
        return None
    draws = RecheckDraw.objects.filter(programme_id=app.programme_id, drawn_at__isnull=False)
    for draw in draws.order_by("-drawn_at"):
        if app.reference in (draw.selected or []):
            return draw
    return None


def application_cancel(
    *,
    actor: Any,
    application_id: int,
    note: str,
    due_on: dt.date | None = None,
    blacklist: bool = True,
) -> Application:
    """Fraud found after payment: cancel, open a clawback for the amount paid, and list the
    enterprise on the registry's blacklist (category 骗取财政资金)."""

    def apply(app: Application, ctx: Ctx) -> dict:
        if app.status == Status.UNDER_RECHECK:
            Recheck.objects.create(
                application=app,
                draw=_latest_draw(app),
                result=RecheckResult.FRAUD,
                note=note,
                recorded_by=actor,
            )
        paid = Payment.objects.get(application=app).amount
        entry_id = None
        if blacklist:
            from qijia.registry.services import entry_create

            entry = entry_create(
                actor=actor,
                uscc=app.enterprise.uscc,
                list="blacklist",
                category="public_funds_fraud",
                reason=f"骗取财政资金：{app.programme.title}（申报编号{app.reference}）。{note}",
                valid_from=ctx.today,
                enterprise_name=app.enterprise.name,
                document_ref=app.reference,
            )
            entry_id = entry.pk
        clawback = Clawback.objects.create(
            application=app,
            amount_due=paid,
            due_on=due_on or ctx.today + dt.timedelta(days=30),
            registry_entry_id=entry_id,
        )
        return {"clawback_id": clawback.pk, "amount_due": str(paid), "registry_entry": entry_id}

    return _transition("cancel", actor=actor, application_id=application_id, note=note, apply=apply)


def clawback_record_receipt(
    *, actor: Any, clawback_id: int, amount: Any, received_on: dt.date, reference: str = ""
) -> Clawback:
    value = _money(amount, "amount")
    with transaction.atomic():
        clawback = Clawback.objects.select_for_update().filter(pk=clawback_id).first()
        if clawback is None:
            raise NotFound("追缴记录不存在")
        app = _lock(clawback.application_id)
        require(actor, "applications.handle", app)
        if value > clawback.outstanding:
            raise ValidationFailed(
                f"到账金额超过未追回金额{clawback.outstanding}元",
                fields={"amount": "超过未追回金额"},
            )
        ClawbackReceipt.objects.create(
            clawback=clawback,
            amount=value,
            received_on=received_on,
            reference=reference,
            recorded_by=actor,
        )
        clawback.recovered += value
        if clawback.outstanding == 0:
            clawback.settled_at = timezone.now()
        clawback.save()
        funds_recover(programme=app.programme, year=app.call.year, amount=value)
        _event(
            app,
            actor=actor,
            action="clawback_receipt",
            label=f"追缴到账{value}元",
            data={"outstanding": str(clawback.outstanding)},
        )
        audit_record(
            actor=actor,
            action="applications.clawback_receipt",
            obj=clawback,
            after={
                "amount": str(value),
                "received_on": received_on.isoformat(),
                "recovered": str(clawback.recovered),
            },
        )
    return clawback


def overdue_notify(*, today: dt.date | None = None) -> int:
    """One notification per section that has overdue applications, listing them. Returns how
    many sections were told. Runs as the platform (a daily task), so no actor."""
    from qijia.notifications.services import notify

    from ..selectors import WAITING_FOR, due_date

    today = today or _today()
    by_section: dict[int, list[str]] = {}
    apps = Application.objects.filter(status__in=list(WAITING_FOR)).select_related("programme")
    for app in apps.order_by("reference"):
        who, _days = WAITING_FOR[app.status]
        due = due_date(app, today=today)
        if due is not None and due < today:
            by_section.setdefault(app.programme.section_id, []).append(
                f"{app.reference}（{app.get_status_display()}，等待{who}，超期{(today - due).days}天）"
            )
    with transaction.atomic():
        for section_id, lines in by_section.items():
            notify(
                recipients_org_units=[section_id],
                kind="applications.overdue",
                title=f"资助申请超期提醒：{len(lines)}件",
                body="\n".join(lines),
                link="/applications/queue/",
            )
    return len(by_section)
