"""Moving an application along the happy path, step by step, for tests that start later."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from qijia.applications import services as s
from qijia.applications.models import Application
from qijia.applications.screening import screen_application_now
from qijia.applications.testing import World, filled_application

ORDER = ["submitted", "awaiting_approval", "approved", "in_notice", "payable", "paid"]


def advance(
    world: World, app: Application | None = None, *, to: str, amount: Decimal = Decimal("200000")
) -> Application:
    app = app or filled_application(world, amount=amount)
    steps = ORDER[: ORDER.index(to) + 1]
    if "submitted" in steps:
        s.application_submit(actor=world.applicant, application_id=app.pk)
        screen_application_now(application_id=app.pk)
    if "awaiting_approval" in steps:
        s.application_pass_formal_review(actor=world.officer, application_id=app.pk)
    if "approved" in steps:
        s.application_approve(actor=world.approver, application_id=app.pk, amount=amount)
    if "in_notice" in steps:
        app.refresh_from_db()
        if app.amount_approved >= world.programme.major_threshold:
            s.application_record_leadership_decision(
                actor=world.approver,
                application_id=app.pk,
                meeting="局党组会议",
                meeting_date=timezone.localdate(),
                minute_ref="党组纪要〔2026〕12号",
                decision="同意资助",
            )
        s.application_publish_notice(
            actor=world.officer,
            application_id=app.pk,
            starts_on=timezone.localdate() - dt.timedelta(days=10),
        )
    if "payable" in steps:
        s.application_close_notice(actor=world.officer, application_id=app.pk)
    if "paid" in steps:
        s.application_pay(
            actor=world.officer, application_id=app.pk, idempotency_key=f"pay-{app.pk}"
        )
    app.refresh_from_db()
    return app
