"""The periodic jobs (Celery beat and ``manage.py registry_expire``): recording the expiry of
entries whose window has closed, and sealing the query log into the audit chain."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from qijia.audit.services import Entry as AuditEntry
from qijia.audit.services import record_many
from qijia.notifications.services import notify

from ..models import Entry, EntryVersion, VersionAction
from ._common import (
    _allocate_seqs,
    _enterprise_users,
    _entry_link,
    _lock_counter,
    _version_row,
)

# --- expiry -----------------------------------------------------------------------------------


def registry_expire(*, today: dt.date | None = None, batch: int = 500) -> int:
    """Record the expiry of every entry whose window has closed, once per entry, and notify the
    enterprise and the source department. Status is derived anyway; this makes the expiry a
    visible version (and a feed change) and sends the notices. Safe to run concurrently."""
    today = today or timezone.localdate()
    done = 0
    while True:
        with transaction.atomic():
            _lock_counter()
            due = list(
                Entry.objects.select_for_update(skip_locked=True)
                .select_related("source")
                .filter(
                    revoked_at__isnull=True, valid_to__lt=today, expiry_notified_at__isnull=True
                )
                .order_by("pk")[:batch]
            )
            if not due:
                return done
            now = timezone.now()
            first = _allocate_seqs(len(due))
            versions, audits = [], []
            for offset, entry in enumerate(due):
                entry.version += 1
                entry.change_seq = first + offset
                entry.expiry_notified_at = now
                versions.append(
                    _version_row(
                        entry,
                        action=VersionAction.EXPIRED,
                        actor=None,
                        note=f"有效期至 {entry.valid_to:%Y-%m-%d}，已到期",
                        now=now,
                    )
                )
                audits.append(
                    AuditEntry(
                        action="registry.entry_expired",
                        obj=entry,
                        after={"valid_to": entry.valid_to, "change_seq": entry.change_seq},
                    )
                )
            Entry.objects.bulk_update(due, ["version", "change_seq", "expiry_notified_at"])
            EntryVersion.objects.bulk_create(versions)
            record_many(actor=None, entries=audits)
            for entry in due:
                notify(
                    recipients_users=_enterprise_users(entry.uscc),
                    recipients_org_units=[entry.source_id],
                    kind="registry.entry_expired",
                    title=f"名单条目已到期：{entry.enterprise_name or entry.uscc}",
                    body=(
                        f"{entry.get_list_display()}条目（{entry.category_id}）"
                        f"有效期至 {entry.valid_to:%Y-%m-%d}，已自动失效。"
                    ),
                    link=_entry_link(entry),
                )
            done += len(due)


# --- sealing the query log into the audit chain -----------------------------------------------


def checklog_digest(rows: Iterable[Any]) -> str:
    """sha256 over the rows' recorded fields in id order: recomputing it later proves that no
    sealed row was changed, added or removed."""
    digest = hashlib.sha256()
    for row in rows:
        digest.update(
            "|".join(
                str(x)
                for x in (
                    row.pk, row.asked_at.isoformat(), row.actor_label, row.org_unit_label,
                    row.channel, row.uscc, row.on_date.isoformat(), int(row.listed),
                )
            ).encode()
            + b"\n"
        )  # fmt: skip
    return digest.hexdigest()


def checklog_seal(*, batch: int = 5000) -> int:
    """Append one audit-chain event per batch of unsealed single-check rows (who asked about
    whom), carrying their ids and digest, and mark them sealed. Rows committed late are simply
    picked up by the next run; concurrent runs skip each other's rows."""
    from ..models import CheckLog

    sealed = 0
    while True:
        with transaction.atomic():
            rows = list(
                CheckLog.objects.select_for_update(skip_locked=True)
                .filter(sealed_seq__isnull=True)
                .order_by("id")[:batch]
            )
            if not rows:
                return sealed
            event = record_many(
                actor=None,
                entries=[
                    AuditEntry(
                        action="registry.check_sealed",
                        object_type="registry.checklog",
                        object_id=f"{rows[0].pk}-{rows[-1].pk}",
                        object_repr=f"查询记录 {len(rows)} 条",
                        after={
                            "count": len(rows),
                            "ids": [r.pk for r in rows],
                            "sha256": checklog_digest(rows),
                        },
                        is_read=True,
                    )
                ],
            )[0]
            CheckLog.objects.filter(pk__in=[r.pk for r in rows]).update(sealed_seq=event.seq)
            sealed += len(rows)
