"""Home-page panels: the registry work waiting for each role."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from .models import Entry, Objection, ObjectionStatus
from .permissions import allowed
from .selectors import _in_force_on


def department_panel(user: Any) -> dict | None:
    """Objections to answer (and how many are overdue), entries closing within 30 days."""
    if not allowed(user, "registry.list_objections"):
        return None
    today = timezone.localdate()
    objections = Objection.objects.filter(status=ObjectionStatus.PENDING)
    entries = Entry.objects.filter(
        revoked_at__isnull=True, valid_from__lte=today, valid_to__gte=today,
        valid_to__lte=today + dt.timedelta(days=30),
    )  # fmt: skip
    if user.role == "partner":
        objections = objections.filter(entry__source_id=user.org_unit_id)
        entries = entries.filter(source_id=user.org_unit_id)
    return {
        "pending": objections.count(),
        "overdue": objections.filter(due_on__lt=today).count(),
        "expiring": entries.count(),
    }


def enterprise_panel(user: Any) -> dict | None:
    if not user.enterprise_id:
        return None
    today = timezone.localdate()
    own = Entry.objects.filter(uscc=user.enterprise.uscc)
    return {
        "listed": own.filter(_in_force_on(today)).count(),
        "objections": Objection.objects.filter(
            entry__uscc=user.enterprise.uscc, status=ObjectionStatus.PENDING
        ).count(),
    }
