"""Writing to the audit trail. Call ``audit_record`` inside the transaction of the action it
records: if the audit write fails, the action fails with it (no silently dropped rows)."""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import hmac
import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from qijia.core import context

from .models import AuditEvent, ChainHead

GENESIS = "0" * 64
HASHED_FIELDS = (
    "seq",
    "occurred_at",
    "actor_id",
    "actor_label",
    "actor_role",
    "org_unit_label",
    "action",
    "is_read",
    "object_type",
    "object_id",
    "object_repr",
    "before",
    "after",
    "ip",
    "channel",
    "request_id",
    "prev_hash",
)


def _plain(value: Any) -> Any:
    """JSON-safe and round-trip stable (jsonb may rewrite numbers, so non-integers become strings)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, (float, decimal.Decimal)):
        return str(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v) for v in value]
    if isinstance(value, models.Model):
        return str(value.pk)
    return str(value)


def _timestamp(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def compute_hash(fields: Mapping[str, Any]) -> str:
    payload = {name: fields[name] for name in HASHED_FIELDS}
    payload["occurred_at"] = _timestamp(payload["occurred_at"])
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hmac.new(settings.QIJIA_AUDIT_KEY.encode(), text.encode(), hashlib.sha256).hexdigest()


def event_fields(event: AuditEvent) -> dict[str, Any]:
    return {name: getattr(event, name) for name in HASHED_FIELDS}


@dataclass(frozen=True)
class Entry:
    """One audit row to append; ``record_many`` takes several under one lock (bulk checks)."""

    action: str
    obj: models.Model | None = None
    object_type: str = ""
    object_id: str = ""
    object_repr: str = ""
    before: Any = None
    after: Any = None
    is_read: bool = False


def _actor_fields(actor: Any) -> dict[str, Any]:
    if actor is None or not getattr(actor, "is_authenticated", False):
        label = getattr(actor, "audit_label", None) or "系统"
        return {
            "actor_id": None,
            "actor_label": str(label)[:200],
            "actor_role": "",
            "org_unit_label": str(getattr(actor, "org_label", "") or "")[:200],
        }
    unit = (
        actor.org_unit if actor.org_unit_id else (actor.enterprise if actor.enterprise_id else None)
    )
    return {
        "actor_id": actor.pk,
        "actor_label": f"{actor.username} {actor.display_name}".strip()[:200],
        "actor_role": actor.role,
        "org_unit_label": str(unit or "")[:200],
    }


def record_many(*, actor: Any, entries: Iterable[Entry]) -> list[AuditEvent]:
    """Append entries to the chain in order, in the caller's transaction (or a new one)."""
    entries = list(entries)
    if not entries:
        return []
    ctx = context.current()
    base = _actor_fields(actor)
    now = timezone.now()
    with transaction.atomic():
        head, _ = ChainHead.objects.select_for_update().get_or_create(id=1)
        seq, prev = head.last_seq, head.last_hash
        rows = []
        for entry in entries:
            seq += 1
            obj = entry.obj
            fields = {
                **base,
                "seq": seq,
                "occurred_at": now,
                "action": entry.action,
                "is_read": entry.is_read,
                "object_type": entry.object_type
                or (obj._meta.label_lower if obj is not None else ""),
                "object_id": str(entry.object_id or (obj.pk if obj is not None else ""))[:80],
                "object_repr": str(entry.object_repr or (obj if obj is not None else ""))[:300],
                "before": _plain(entry.before),
                "after": _plain(entry.after),
                "ip": ctx.ip[:64],
                "channel": ctx.channel,
                "request_id": ctx.request_id,
                "prev_hash": prev,
            }
            fields["hash"] = prev = compute_hash(fields)
            rows.append(AuditEvent(**fields))
        AuditEvent.objects.bulk_create(rows)
        head.last_seq, head.last_hash = seq, prev
        head.save(update_fields=["last_seq", "last_hash"])
    return rows


def audit_record(
    *,
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    before: Any = None,
    after: Any = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
) -> AuditEvent:
    """Record a state change."""
    return record_many(
        actor=actor,
        entries=[
            Entry(
                action=action,
                obj=obj,
                before=before,
                after=after,
                object_type=object_type,
                object_id=object_id,
                object_repr=object_repr,
            )
        ],
    )[0]


def audit_read(
    *,
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    detail: Any = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
) -> AuditEvent:
    """Record a sensitive read (personal data in full, a registry query, an export)."""
    return record_many(
        actor=actor,
        entries=[
            Entry(
                action=action,
                obj=obj,
                after=detail,
                is_read=True,
                object_type=object_type,
                object_id=object_id,
                object_repr=object_repr,
            )
        ],
    )[0]


def snapshot(obj: models.Model, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """The concrete field values of a model instance, for before/after."""
    names = fields or [f.attname for f in obj._meta.concrete_fields]
    return {name: _plain(getattr(obj, name)) for name in names}
