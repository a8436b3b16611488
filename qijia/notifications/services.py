"""Sending notifications: in-app rows now, e-mail after the transaction commits.

Every context that needs to tell people something calls ``notify``; the caller's transaction
decides whether the notification exists at all (a rolled-back action sends nothing).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mass_mail
from django.db import transaction
from django.utils import timezone

from qijia.core.errors import NotFound

from .models import Notification

logger = logging.getLogger(__name__)


def _resolve_recipients(users: Iterable[Any], org_units: Iterable[Any]) -> list[Any]:
    """Distinct active users: the ones named plus every active member of the org units."""
    User = get_user_model()
    user_ids = {getattr(u, "pk", u) for u in users if u is not None}
    unit_ids = {getattr(o, "pk", o) for o in org_units if o is not None}
    if not user_ids and not unit_ids:
        return []
    query = User.objects.filter(is_active=True)
    from django.db.models import Q

    condition = Q(pk__in=user_ids) | Q(org_unit_id__in=unit_ids)
    return list(query.filter(condition).order_by("pk"))


def _send_mail(messages: list[tuple[str, str, str, list[str]]]) -> None:
    try:
        send_mass_mail(messages, fail_silently=False)
    except Exception:  # mail is best effort: the in-app notification already exists
        logger.exception("notification e-mail failed for %d messages", len(messages))


def notify(
    *,
    recipients_users: Iterable[Any] = (),
    recipients_org_units: Iterable[Any] = (),
    kind: str,
    title: str,
    body: str = "",
    link: str = "",
) -> list[Notification]:
    """Create one in-app notification per recipient and e-mail those with an address.

    Runs in the caller's transaction; the e-mail is sent only once that commits.
    """
    recipients = _resolve_recipients(recipients_users, recipients_org_units)
    if not recipients:
        return []
    rows = Notification.objects.bulk_create(
        [
            Notification(recipient=u, kind=kind, title=title[:200], body=body, link=link[:300])
            for u in recipients
        ]
    )
    mails = [
        (f"[企家] {title}", f"{body}\n\n{link}".strip(), settings.DEFAULT_FROM_EMAIL, [u.email])
        for u in recipients
        if u.email
    ]
    if mails:
        transaction.on_commit(lambda: _send_mail(mails))
    return rows


def notification_mark_read(*, actor: Any, notification_id: int) -> Notification:
    """Only the recipient can mark a notification read (others get not-found, no leak)."""
    with transaction.atomic():
        note = (
            Notification.objects.select_for_update()
            .filter(pk=notification_id, recipient_id=actor.pk)
            .first()
        )
        if note is None:
            raise NotFound("消息不存在")
        if note.read_at is None:
            note.read_at = timezone.now()
            note.save(update_fields=["read_at"])
    return note


def notification_mark_all_read(*, actor: Any) -> int:
    return Notification.objects.filter(recipient_id=actor.pk, read_at__isnull=True).update(
        read_at=timezone.now()
    )
