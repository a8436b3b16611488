"""Background work of the lifecycle (Celery; in-process when REDIS_URL is unset)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="applications.screen_application")
def screen_application(application_id: int) -> int:
    """Screen one submitted application; returns the number of new findings."""
    from .screening import screen_application_now

    return screen_application_now(application_id=application_id)
