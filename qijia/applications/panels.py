"""Home-page panels: an enterprise's applications and open calls; a section's waiting work."""

from __future__ import annotations

from typing import Any

from django.utils import timezone


def enterprise_panel(user: Any) -> dict | None:
    from qijia.programmes.selectors import open_calls

    from .selectors import application_list

    if not user.enterprise_id:
        return None
    return {
        "applications": list(application_list(actor=user)[:5]),
        "open_calls": open_calls().count(),
    }


def staff_panel(user: Any) -> dict | None:
    from .selectors import work_queue

    if not user.org_unit_id:
        return None
    items = work_queue(actor=user, today=timezone.localdate())
    return {
        "items": items[:8],
        "total": len(items),
        "overdue": sum(1 for i in items if i.overdue_days),
    }
