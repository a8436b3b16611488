"""Reading notifications: always the actor's own."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from .models import Notification


def notification_list(*, actor: Any, unread_only: bool = False) -> QuerySet[Notification]:
    rows = Notification.objects.filter(recipient_id=actor.pk)
    if unread_only:
        rows = rows.filter(read_at__isnull=True)
    return rows


def notification_unread_count(*, actor: Any) -> int:
    return Notification.objects.filter(recipient_id=actor.pk, read_at__isnull=True).count()
