from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from qijia.identity.permissions import require

from .models import AuditEvent


@dataclass(frozen=True)
class AuditFilters:
    actor: str = ""
    action: str = ""
    object_type: str = ""
    object_id: str = ""
    reads_only: bool = False
    date_from: dt.date | None = None
    date_to: dt.date | None = None


def audit_event_list(*, actor: Any, filters: AuditFilters) -> QuerySet[AuditEvent]:
    """Inspectors and administrators read the whole trail; nobody else reads any of it."""
    require(actor, "audit.view")
    qs = AuditEvent.objects.all()
    if filters.actor:
        qs = qs.filter(actor_label__icontains=filters.actor)
    if filters.action:
        qs = qs.filter(action__startswith=filters.action)
    if filters.object_type:
        qs = qs.filter(object_type=filters.object_type)
    if filters.object_id:
        qs = qs.filter(object_id=filters.object_id)
    if filters.reads_only:
        qs = qs.filter(is_read=True)
    if filters.date_from:
        qs = qs.filter(occurred_at__date__gte=filters.date_from)
    if filters.date_to:
        qs = qs.filter(occurred_at__date__lte=filters.date_to)
    return qs.order_by("-seq")


def audit_event_get(*, actor: Any, seq: int) -> AuditEvent:
    require(actor, "audit.view")
    return AuditEvent.objects.get(seq=seq)
