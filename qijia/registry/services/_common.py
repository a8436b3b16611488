"""What every registry write shares: the change counter that is locked first and hands out
sequence numbers, the version row appended on every change, the fields the audit event records,
and evidence files checked by content before anything is written."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import filetype
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.urls import reverse

from qijia.core.errors import ValidationFailed

from ..models import ChangeCounter, Entry, EntryVersion, Evidence, Objection

EVIDENCE_TYPES = {"application/pdf": "PDF", "image/jpeg": "JPEG", "image/png": "PNG"}
MAX_EVIDENCE_FILES = 10


def actor_label(actor: Any) -> str:
    if actor is None:
        return "系统"
    if getattr(actor, "is_token", False):
        return str(actor)[:200]
    return f"{actor.display_name or actor.username}（{actor.username}）"[:200]


def _user_or_none(actor: Any) -> Any:
    User = get_user_model()
    return actor if isinstance(actor, User) else None


def _lock_counter() -> ChangeCounter:
    """Every registry write takes this lock first (then the entry): one lock order, no deadlock,
    and change sequence numbers become visible in the order they were handed out."""
    counter = ChangeCounter.objects.select_for_update().filter(id=1).first()
    if counter is None:
        ChangeCounter.objects.get_or_create(id=1)
        counter = ChangeCounter.objects.select_for_update().get(id=1)
    return counter


def _allocate_seqs(count: int) -> int:
    """Reserve ``count`` sequence numbers under the counter lock; returns the first one."""
    counter = _lock_counter()
    first = counter.last_seq + 1
    counter.last_seq += count
    counter.save(update_fields=["last_seq"])
    return first


def _version_row(
    entry: Entry, *, action: str, actor: Any, note: str, now: dt.datetime
) -> EntryVersion:
    return EntryVersion(
        entry=entry,
        version=entry.version,
        change_seq=entry.change_seq,
        action=action,
        changed_at=now,
        changed_by=_user_or_none(actor),
        changed_by_label=actor_label(actor),
        note=note,
        uscc=entry.uscc,
        enterprise_name=entry.enterprise_name,
        list=entry.list,
        category_code=entry.category_id,
        reason=entry.reason,
        source_code=entry.source.code,
        document_ref=entry.document_ref,
        valid_from=entry.valid_from,
        valid_to=entry.valid_to,
        revoked_at=entry.revoked_at,
        revocation_reason=entry.revocation_reason,
    )


AUDITED_FIELDS = (
    "uscc",
    "enterprise_name",
    "list",
    "category_id",
    "reason",
    "source_id",
    "document_ref",
    "valid_from",
    "valid_to",
    "revoked_at",
    "revocation_reason",
    "version",
    "change_seq",
)


def _entry_link(entry: Entry) -> str:
    return reverse("registry:entry", args=[entry.pk])


def _enterprise_users(uscc: str) -> list[Any]:
    User = get_user_model()
    return list(User.objects.filter(enterprise__uscc=uscc, is_active=True))


# --- evidence -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckedFile:
    name: str
    content: bytes
    content_type: str
    sha256: str


def inspect_evidence(files: Iterable[Any], *, field: str = "evidence") -> list[CheckedFile]:
    """Read and check evidence uploads before anything is written (all-or-nothing).

    The type is decided by the file's magic bytes, never by its name or the client's header.
    """
    limit = getattr(settings, "QIJIA_REGISTRY_EVIDENCE_MAX_BYTES", 10 * 1024 * 1024)
    checked = []
    files = list(files)
    if len(files) > MAX_EVIDENCE_FILES:
        raise ValidationFailed(
            f"证明材料最多{MAX_EVIDENCE_FILES}个文件", fields={field: "文件过多"}
        )
    for upload in files:
        name = str(getattr(upload, "name", "") or "未命名文件").replace("\x00", "")[-200:]
        if hasattr(upload, "seek"):
            upload.seek(0)
        content = upload.read(limit + 1)
        if len(content) > limit:
            message = f"文件“{name}”超过{limit // (1024 * 1024)}MB上限"
            raise ValidationFailed(message, fields={field: message})
        if not content:
            message = f"文件“{name}”是空文件"
            raise ValidationFailed(message, fields={field: message})
        kind = filetype.guess(content[:8192])
        mime = kind.mime if kind else ""
        if mime not in EVIDENCE_TYPES:
            message = f"文件“{name}”不是PDF或图片（JPEG/PNG），请上传扫描件或照片"
            raise ValidationFailed(message, fields={field: message})
        checked.append(CheckedFile(name, content, mime, hashlib.sha256(content).hexdigest()))
    return checked


def _store_evidence(
    files: Sequence[CheckedFile],
    *,
    actor: Any,
    entry: Entry | None = None,
    objection: Objection | None = None,
) -> list[Evidence]:
    stored = []
    for item in files:
        evidence = Evidence(
            entry=entry,
            objection=objection,
            original_name=item.name,
            content_type=item.content_type,
            size=len(item.content),
            sha256=item.sha256,
            uploaded_by_label=actor_label(actor),
        )
        evidence.file.save(item.name, ContentFile(item.content), save=False)
        evidence.save()
        stored.append(evidence)
    return stored
