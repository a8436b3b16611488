"""Payment (once per idempotency key, the registry asked again) and the actions that end an
application without a later recheck: close, reject (the reservation goes back to the budget) and
withdraw."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import IntegrityError

from qijia.core.errors import Conflict, InvalidTransition, ValidationFailed
from qijia.programmes.funds import funds_release, funds_spend

from ..models import Application, Payment
from ..permissions import require
from ..preconditions import Ctx
from ._common import _transition


def application_pay(
    *, actor: Any, application_id: int, idempotency_key: str, bank_reference: str = ""
) -> Payment:
    """Pay the approved amount once. The same ``idempotency_key`` returns the first payment
    (a retried request, a double click); the registry is asked again and a listing blocks."""
    key = (idempotency_key or "").strip()
    if not key or len(key) > 80:
        raise ValidationFailed("缺少幂等键", fields={"idempotency_key": "必填，最长80个字符"})
    existing = (
        Payment.objects.select_related("application__programme").filter(idempotency_key=key).first()
    )
    if existing is not None:
        require(actor, "applications.handle", existing.application)  # no replay for outsiders
        if existing.application_id != application_id:
            raise Conflict("该幂等键已用于另一笔拨付", code="idempotency_key_reused")
        return existing
    holder: dict[str, Payment] = {}

    def apply(app: Application, ctx: Ctx) -> dict:
        amount = app.amount_approved
        assert amount is not None  # a payable application was approved with an amount
        funds_spend(programme=app.programme, year=app.call.year, amount=amount)
        app.amount_reserved = Decimal(0)
        holder["payment"] = Payment.objects.create(
            application=app,
            idempotency_key=key,
            amount=amount,
            bank_reference=bank_reference,
            paid_by=actor,
        )
        return {"amount": str(amount), "idempotency_key": key}

    try:
        _transition("pay", actor=actor, application_id=application_id, apply=apply)
    except (InvalidTransition, IntegrityError):
        # A concurrent request with the same key won the lock and paid: answer with its payment.
        existing = Payment.objects.filter(
            idempotency_key=key, application_id=application_id
        ).first()
        if existing is not None:
            return existing
        raise
    return holder["payment"]


def application_close(*, actor: Any, application_id: int, note: str = "") -> Application:
    return _transition("close", actor=actor, application_id=application_id, note=note)


def application_reject(*, actor: Any, application_id: int, note: str) -> Application:
    """Reject before payment; any reservation goes back to the budget."""

    def apply(app: Application, ctx: Ctx) -> dict:
        released = app.amount_reserved
        if released:
            funds_release(programme=app.programme, year=app.call.year, amount=released)
            app.amount_reserved = Decimal(0)
        return {"released": str(released)}

    return _transition("reject", actor=actor, application_id=application_id, note=note, apply=apply)


def application_withdraw(*, actor: Any, application_id: int, note: str = "") -> Application:
    return _transition("withdraw", actor=actor, application_id=application_id, note=note)
