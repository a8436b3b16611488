"""Background work of the lifecycle (Celery; in-process when REDIS_URL is unset)."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import transaction

logger = logging.getLogger(__name__)


@shared_task(name="applications.screen_application")
def screen_application(application_id: int) -> int:
    """Screen one submitted application; returns the number of new findings.

    A failure leaves the application unscreened, which blocks its approval (#38: approval waits
    for screening), and is written to the audit trail so staff see it and can screen again. It
    does not propagate: the enterprise's submission has already been accepted.
    """
    from qijia.audit.services import audit_record

    from .screening import screen_application_now

    try:
        return screen_application_now(application_id=application_id)
    except Exception as exc:
        logger.exception("screening application %s failed", application_id)
        with transaction.atomic():
            audit_record(
                actor=None,
                action="applications.screening_failed",
                object_type="applications.application",
                object_id=str(application_id),
                after={"error": f"{type(exc).__name__}: {exc}"[:500]},
            )
        return -1


@shared_task(name="applications.notify_overdue")
def notify_overdue() -> int:
    """Daily: tell each section what of its work is overdue (the work queue's overdue items)."""
    from .services import overdue_notify

    return overdue_notify()
