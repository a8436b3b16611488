"""Objections: the listed enterprise objects with evidence; the source department answers, and an
upheld objection revokes the entry in the same transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from qijia.audit.services import audit_record
from qijia.core.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from qijia.notifications.services import notify

from .. import validation as v
from ..models import Objection, ObjectionStatus
from ..permissions import require
from ._common import (
    _enterprise_users,
    _entry_link,
    _lock_counter,
    _store_evidence,
    inspect_evidence,
)
from .entries import _lock_entry, _revoke_locked


def objection_lodge(
    *, actor: Any, entry_id: int, reason: str, evidence: Iterable[Any]
) -> Objection:
    """The listed enterprise objects; the source department must answer by the deadline."""
    errors: dict[str, str] = {}
    reason = v.clean_text(reason, "reason", errors, required=True)
    if errors:
        raise ValidationFailed("请填写申诉理由", fields={"reason": "申诉理由不能为空"})
    files = inspect_evidence(evidence)
    if not files:
        raise ValidationFailed("申诉需要附证明材料", fields={"evidence": "请至少上传一个证明材料"})
    days = getattr(settings, "QIJIA_REGISTRY_OBJECTION_DAYS", 15)
    with transaction.atomic():
        entry = _lock_entry(entry_id)
        require(actor, "registry.lodge_objection", entry)
        if entry.revoked_at is not None:
            raise InvalidTransition("该条目已撤销，无需申诉", code="entry_revoked")
        if entry.objections.filter(status=ObjectionStatus.PENDING).exists():
            raise Conflict("该条目已有待答复的申诉", code="objection_pending")
        objection = Objection.objects.create(
            entry=entry,
            lodged_by=actor,
            reason=reason,
            due_on=timezone.localdate() + dt.timedelta(days=days),
        )
        _store_evidence(files, actor=actor, objection=objection)
        audit_record(
            actor=actor,
            action="registry.objection_lodged",
            obj=objection,
            after={
                "entry": entry.pk,
                "reason": reason,
                "due_on": objection.due_on,
                "evidence": [f.sha256 for f in files],
            },
        )
        notify(
            recipients_org_units=[entry.source_id],
            kind="registry.objection_lodged",
            title=f"企业对名单条目提出申诉：{entry.enterprise_name or entry.uscc}",
            body=f"申诉理由：{reason}\n请在 {objection.due_on:%Y-%m-%d} 前答复。",
            link=_entry_link(entry),
        )
    return objection


def objection_answer(*, actor: Any, objection_id: int, upheld: bool, answer: str) -> Objection:
    """Answer an objection: upheld revokes the entry in the same transaction."""
    errors: dict[str, str] = {}
    answer = v.clean_text(answer, "reason", errors, required=True)
    if errors:
        raise ValidationFailed("请填写答复意见", fields={"answer": "答复意见不能为空"})
    with transaction.atomic():
        _lock_counter()
        objection = (
            Objection.objects.select_for_update()
            .select_related("entry")
            .filter(pk=objection_id)
            .first()
        )
        if objection is None:
            raise NotFound("申诉不存在", code="objection_not_found")
        entry = _lock_entry(objection.entry_id)
        objection.entry = entry
        require(actor, "registry.answer_objection", objection)
        if objection.status != ObjectionStatus.PENDING:
            raise InvalidTransition("该申诉已答复", code="objection_answered")
        objection.status = ObjectionStatus.UPHELD if upheld else ObjectionStatus.REJECTED
        objection.answer = answer
        objection.answered_at = timezone.now()
        objection.answered_by = actor
        objection.save()
        audit_record(
            actor=actor,
            action="registry.objection_answered",
            obj=objection,
            after={"status": objection.status, "answer": answer, "entry": entry.pk},
        )
        if upheld and entry.revoked_at is None:
            _revoke_locked(
                entry, actor=actor, reason=f"申诉成立：{answer}", action="registry.entry_revoked"
            )
        verdict = "申诉成立，条目已撤销" if upheld else "申诉被驳回"
        notify(
            recipients_users=[objection.lodged_by_id, *_enterprise_users(entry.uscc)],
            kind="registry.objection_answered",
            title=f"您的申诉已答复：{verdict}",
            body=f"答复意见：{answer}",
            link=_entry_link(entry),
        )
    return objection
