"""The machinery every service shares: ``_transition`` runs one row of the transition table on the
locked application (actor, state, preconditions, status, timeline row, audit event, notification)
and audits a refusal in its own transaction; ``_lock``, ``_event`` and ``_money`` are the pieces
the services that are not transitions use the same way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone

from qijia.audit.services import audit_record
from qijia.core.errors import (
    Conflict,
    DomainError,
    InvalidTransition,
    NotFound,
    ValidationFailed,
)

from .. import notifications
from ..checks import registry_listings
from ..models import Application, ApplicationEvent
from ..permissions import require
from ..preconditions import PRECONDITIONS, Ctx
from ..workflow import TRANSITIONS, target_for


class PreconditionFailed(Conflict):
    code = "precondition_failed"


def actor_label(actor: Any) -> str:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return "系统"
    return f"{actor.display_name or actor.username}（{actor.get_role_display()}）"


def _today() -> dt.date:
    return timezone.localdate()


def _money(value: Any, field: str) -> Decimal:
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise ValidationFailed("金额格式有误", fields={field: "请输入金额（元）"}) from None
    if not amount.is_finite() or amount <= 0:
        raise ValidationFailed("金额必须大于0", fields={field: "金额必须大于0"})
    return amount


def _lock(application_id: int) -> Application:
    app = (
        Application.objects.select_for_update(of=("self",))
        .select_related("programme", "call", "enterprise")
        .filter(pk=application_id)
        .first()
    )
    if app is None:
        raise NotFound("申请不存在")
    return app


def _event(
    app: Application,
    *,
    actor: Any,
    action: str,
    label: str,
    before: str = "",
    note: str = "",
    data: dict | None = None,
    public: bool = True,
) -> ApplicationEvent:
    return ApplicationEvent.objects.create(
        application=app,
        action=action,
        label=label,
        from_status=before,
        to_status=app.status if before else "",
        actor=actor if getattr(actor, "pk", None) else None,
        actor_label=actor_label(actor),
        note=note,
        data=data or {},
        public=public,
    )


def _record_refusal(actor: Any, application_id: int, action: str, exc: DomainError) -> None:
    try:
        with transaction.atomic():
            audit_record(
                actor=actor,
                action=f"applications.{action}_refused",
                object_type="applications.application",
                object_id=str(application_id),
                after={"code": exc.code, "message": exc.message},
            )
    except Exception:  # the refusal itself must reach the caller even if this fails
        pass


def _transition(
    action: str,
    *,
    actor: Any,
    application_id: int,
    note: str = "",
    amount: Decimal | None = None,
    apply: Callable[[Application, Ctx], dict | None] | None = None,
    prepare: Callable[[Application, Ctx], None] | None = None,
    today: dt.date | None = None,
) -> Application:
    """Run one row of the transition table. ``prepare`` computes facts before the preconditions
    (e.g. eligibility); ``apply`` makes the action's own changes after them and returns extra
    audit/timeline data."""
    transition = TRANSITIONS[action]
    ctx = Ctx(actor=actor, today=today or _today(), note=note or "", amount=amount)
    if "registry_clean" in transition.preconditions:
        # Asked before the lock and outside the transaction: the registry's own audit of the
        # question survives a refusal.
        uscc = (
            Application.objects.filter(pk=application_id)
            .values_list("enterprise__uscc", flat=True)
            .first()
        )
        if uscc is None:
            raise NotFound("申请不存在")
        ctx.listings = registry_listings(uscc=uscc, on=ctx.today)
    try:
        with transaction.atomic():
            app = _lock(application_id)
            require(actor, transition.permission, app)
            if app.status not in transition.sources:
                raise InvalidTransition(
                    f"申请当前状态为“{app.get_status_display()}”，不能{transition.label}"
                )
            if prepare:
                prepare(app, ctx)
            for name in transition.preconditions:
                refusal = PRECONDITIONS[name](app, ctx)
                if refusal:
                    raise PreconditionFailed(refusal, code=name)
            before = app.status
            if ctx.listings is not None:
                app.registry_checked_at = timezone.now()
                app.registry_clean = not ctx.listings
                app.registry_listings = [x.as_json() for x in ctx.listings]
            extra = (apply(app, ctx) if apply else None) or {}
            app.status = target_for(
                action, expert_review_required=app.programme.expert_review_required
            )
            app.status_changed_at = timezone.now()
            app.save()
            _event(
                app,
                actor=actor,
                action=action,
                label=transition.label,
                before=before,
                note=ctx.note,
                data=extra,
            )
            audit_record(
                actor=actor,
                action=f"applications.{action}",
                obj=app,
                before={"status": before},
                after={"status": app.status, "note": ctx.note, **extra},
            )
            notifications.after_transition(
                app, action=action, label=transition.label, note=ctx.note
            )
    except DomainError as exc:
        if not isinstance(exc, NotFound):
            _record_refusal(actor, application_id, action, exc)
        raise
    return app
