"""Scheduled registry work (beat: CELERY_BEAT_SCHEDULE["registry-expire"])."""

from __future__ import annotations

from celery import shared_task

from qijia.core import context


@shared_task(name="registry.expire_entries")
def expire_entries() -> int:
    """Record expiries and notify; idempotent, so an hourly schedule only acts once per entry."""
    from .services import registry_expire

    token = context.bind(context.RequestContext(channel="task"))
    try:
        return registry_expire()
    finally:
        context.reset(token)


@shared_task(name="registry.seal_checks")
def seal_checks() -> int:
    """Seal single-check query-log rows into the audit chain (beat: every minute)."""
    from .services import checklog_seal

    token = context.bind(context.RequestContext(channel="task"))
    try:
        return checklog_seal()
    finally:
        context.reset(token)
