"""/api/v1/applications: read applications (scoped like the UI) and the payment call, whose
``Idempotency-Key`` header makes a retried request return the first payment instead of paying
twice. Errors are {"code", "message", "fields"} (config/api.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.http import HttpRequest
from ninja import Header, Router, Schema

from qijia.identity.permissions import signed_in_user

from . import services
from .selectors import application_get, application_list

router = Router(tags=["applications"])


class ApplicationOut(Schema):
    id: int
    reference: str
    title: str
    enterprise_uscc: str
    programme: str
    status: str
    status_label: str
    amount_requested: Decimal
    amount_approved: Decimal | None


class EventOut(Schema):
    action: str
    label: str
    from_status: str
    to_status: str
    actor: str
    note: str
    at: dt.datetime


class ApplicationDetailOut(ApplicationOut):
    timeline: list[EventOut]


class PaymentIn(Schema):
    bank_reference: str = ""


class PaymentOut(Schema):
    id: int
    application_id: int
    amount: Decimal
    idempotency_key: str
    paid_at: dt.datetime


def _out(app) -> dict:  # noqa: ANN001
    return {
        "id": app.pk,
        "reference": app.reference,
        "title": app.title,
        "enterprise_uscc": app.enterprise.uscc,
        "programme": app.programme.code,
        "status": app.status,
        "status_label": str(app.get_status_display()),
        "amount_requested": app.amount_requested,
        "amount_approved": app.amount_approved,
    }


@router.get("/", response=list[ApplicationOut])
def list_applications(request: HttpRequest, status: str = "", q: str = "") -> list[dict]:
    return [_out(a) for a in application_list(actor=request.user, status=status, q=q)[:500]]


@router.get("/{application_id}", response=ApplicationDetailOut)
def get_application(request: HttpRequest, application_id: int) -> dict:
    app = application_get(actor=request.user, application_id=application_id)
    events = app.events.all()
    if signed_in_user(request).enterprise_id:
        events = events.filter(public=True)
    return {
        **_out(app),
        "timeline": [
            {
                "action": e.action,
                "label": e.label,
                "from_status": e.from_status,
                "to_status": e.to_status,
                "actor": e.actor_label,
                "note": e.note,
                "at": e.created_at,
            }
            for e in events
        ],
    }


@router.post("/{application_id}/pay", response=PaymentOut)
def pay(
    request: HttpRequest,
    application_id: int,
    payload: PaymentIn,
    idempotency_key: str = Header(
        ..., min_length=1, max_length=80, description="同一键的重试返回第一次拨付，不会重复拨付"
    ),
) -> dict:
    payment = services.application_pay(
        actor=request.user,
        application_id=application_id,
        idempotency_key=idempotency_key,
        bank_reference=payload.bank_reference,
    )
    return {
        "id": payment.pk,
        "application_id": payment.application_id,
        "amount": payment.amount,
        "idempotency_key": payment.idempotency_key,
        "paid_at": payment.paid_at,
    }
