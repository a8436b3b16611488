"""Approval and public notice: the approved amount reserved from the budget, the leadership
decision a major matter needs, the notice period with its objections and their answers, and the
close of the notice."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from qijia.audit.services import audit_record, snapshot
from qijia.core.errors import InvalidTransition, NotFound, ValidationFailed
from qijia.programmes.funds import funds_reserve

from .. import notifications
from ..models import Application, LeadershipDecision, Objection, Status
from ..permissions import require
from ..preconditions import Ctx
from ._common import _event, _lock, _money, _today, _transition


def application_approve(
    *, actor: Any, application_id: int, amount: Any, note: str = ""
) -> Application:
    """The section head approves an amount; the budget is reserved under row locks."""
    value = _money(amount, "amount")

    def apply(app: Application, ctx: Ctx) -> dict:
        funds_reserve(programme=app.programme, year=app.call.year, amount=value)
        app.amount_approved = value
        app.amount_reserved = value
        return {"amount_approved": str(value), "year": app.call.year}

    return _transition(
        "approve", actor=actor, application_id=application_id, note=note, amount=value, apply=apply
    )


def application_record_leadership_decision(
    *,
    actor: Any,
    application_id: int,
    meeting: str,
    meeting_date: dt.date | None,
    minute_ref: str,
    decision: str,
) -> Application:
    """Record the collective decision (会议、日期、纪要编号) a major payment needs (#15)."""
    errors = {
        k: "必填"
        for k, v in (("meeting", meeting), ("minute_ref", minute_ref), ("decision", decision))
        if not (v or "").strip()
    }
    if meeting_date is None:
        errors["meeting_date"] = "必填"
    elif meeting_date > _today():
        errors["meeting_date"] = "会议日期不能晚于今天"
    if errors or meeting_date is None:
        raise ValidationFailed("集体决策信息不完整", fields=errors)

    def apply(app: Application, ctx: Ctx) -> dict:
        LeadershipDecision.objects.create(
            application=app,
            meeting=meeting.strip(),
            meeting_date=meeting_date,
            minute_ref=minute_ref.strip(),
            decision=decision.strip(),
            recorded_by=actor,
        )
        return {
            "meeting": meeting,
            "meeting_date": meeting_date.isoformat(),
            "minute_ref": minute_ref,
        }

    return _transition(
        "record_leadership_decision",
        actor=actor,
        application_id=application_id,
        note=decision,
        apply=apply,
    )


def application_publish_notice(
    *, actor: Any, application_id: int, starts_on: dt.date | None = None
) -> Application:
    def apply(app: Application, ctx: Ctx) -> dict:
        app.notice_starts_on = starts_on or ctx.today
        app.notice_ends_on = app.notice_starts_on + dt.timedelta(days=app.programme.notice_days - 1)
        return {
            "notice_starts_on": app.notice_starts_on.isoformat(),
            "notice_ends_on": app.notice_ends_on.isoformat(),
        }

    return _transition("publish_notice", actor=actor, application_id=application_id, apply=apply)


def objection_file(*, actor: Any, application_id: int, filer_name: str, content: str) -> Objection:
    """Anyone signed in may object while the application is on public notice."""
    if not content.strip() or not filer_name.strip():
        raise ValidationFailed(
            "请填写异议人和异议内容", fields={"content": "必填", "filer_name": "必填"}
        )
    with transaction.atomic():
        app = _lock(application_id)
        if app.status != Status.IN_NOTICE:
            raise InvalidTransition("该申请不在公示期内")
        objection = Objection.objects.create(
            application=app, filed_by=actor, filer_name=filer_name.strip(), content=content.strip()
        )
        _event(
            app,
            actor=actor,
            action="objection_filed",
            label="收到公示异议",
            public=False,
            data={"objection_id": objection.pk},
        )
        audit_record(
            actor=actor,
            action="applications.objection_filed",
            obj=objection,
            after=snapshot(objection),
        )
        notifications.objection_filed(app)
    return objection


def objection_answer(*, actor: Any, objection_id: int, answer: str, upheld: bool) -> Objection:
    if not answer.strip():
        raise ValidationFailed("请填写答复", fields={"answer": "必填"})
    with transaction.atomic():
        objection = Objection.objects.select_for_update().filter(pk=objection_id).first()
        if objection is None:
            raise NotFound("异议不存在")
        app = _lock(objection.application_id)
        require(actor, "applications.handle", app)
        if objection.answered_at is not None:
            raise InvalidTransition("该异议已答复")
        objection.answer, objection.upheld = answer.strip(), upheld
        objection.answered_by, objection.answered_at = actor, timezone.now()
        objection.save()
        _event(
            app,
            actor=actor,
            action="objection_answered",
            label="公示异议已答复" + ("（异议成立）" if upheld else "（异议不成立）"),
            note=answer,
            public=False,
        )
        audit_record(
            actor=actor,
            action="applications.objection_answered",
            obj=objection,
            after={"answer": objection.answer, "upheld": upheld},
        )
    return objection


def application_close_notice(
    *, actor: Any, application_id: int, today: dt.date | None = None
) -> Application:
    return _transition("close_notice", actor=actor, application_id=application_id, today=today)
