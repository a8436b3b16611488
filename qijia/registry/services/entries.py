"""Entries: list an enterprise, amend an entry (guarded by its version), revoke it with a reason,
and add evidence to it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from qijia.audit.services import audit_record, snapshot
from qijia.core.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from qijia.identity.models import OrgUnit
from qijia.identity.roles import Role

from .. import validation as v
from ..models import Entry, Evidence, VersionAction
from ..permissions import require
from ._common import (
    AUDITED_FIELDS,
    _allocate_seqs,
    _lock_counter,
    _store_evidence,
    _user_or_none,
    _version_row,
    actor_label,
    inspect_evidence,
)

AMENDABLE = (
    "enterprise_name",
    "list",
    "category",
    "reason",
    "document_ref",
    "valid_from",
    "valid_to",
)


def _resolve_source(actor: Any, source_code: str | None, errors: dict[str, str]) -> OrgUnit | None:
    """Partner departments always list under their own name; bureau staff may name a source."""
    if actor.role == Role.PARTNER or not source_code:
        if source_code and source_code != actor.org_unit.code:
            errors["source"] = "协作部门只能以本部门名义列入"
        return actor.org_unit
    unit = OrgUnit.objects.filter(code=str(source_code).strip(), is_active=True).first()
    if unit is None:
        errors["source"] = f"来源部门“{str(source_code)[:64]}”不存在"
    return unit


def _clean_entry_input(
    data: dict[str, Any], *, categories: dict | None = None
) -> tuple[dict, dict]:
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {
        "uscc": v.clean_uscc(data.get("uscc"), errors),
        "enterprise_name": v.clean_text(data.get("enterprise_name"), "enterprise_name", errors),
        "list": v.clean_list(data.get("list"), errors),
        "category": v.clean_category(data.get("category"), errors, categories),
        "reason": v.clean_text(data.get("reason"), "reason", errors, required=True),
        "document_ref": v.clean_text(data.get("document_ref"), "document_ref", errors),
        "valid_from": v.clean_date(data.get("valid_from"), "valid_from", errors, required=True),
        "valid_to": v.clean_date(data.get("valid_to"), "valid_to", errors, required=False),
    }
    v.check_window(clean["valid_from"], clean["valid_to"], errors)
    return clean, errors


def _fill_enterprise_name(clean: dict) -> None:
    if not clean["enterprise_name"]:
        from qijia.enterprises.models import Enterprise

        name = Enterprise.objects.filter(uscc=clean["uscc"]).values_list("name", flat=True).first()
        clean["enterprise_name"] = name or ""


def entry_create(
    *,
    actor: Any,
    uscc: str,
    list: str,
    category: str,
    reason: str,
    valid_from: dt.date | str,
    valid_to: dt.date | str | None = None,
    document_ref: str = "",
    enterprise_name: str = "",
    source: str | None = None,
    evidence: Iterable[Any] = (),
) -> Entry:
    """List an enterprise. The enterprise need not be in the enterprise registry yet."""
    require(actor, "registry.create_entry")
    clean, errors = _clean_entry_input(
        {
            "uscc": uscc,
            "list": list,
            "category": category,
            "reason": reason,
            "valid_from": valid_from,
            "valid_to": valid_to,
            "document_ref": document_ref,
            "enterprise_name": enterprise_name,
        }
    )
    unit = _resolve_source(actor, source, errors)
    if errors:
        raise ValidationFailed("名单条目信息有误", fields=errors)
    assert unit is not None  # _resolve_source reports a missing unit in errors
    files = inspect_evidence(evidence)
    _fill_enterprise_name(clean)
    now = timezone.now()
    with transaction.atomic():
        seq = _allocate_seqs(1)
        entry = Entry.objects.create(
            **clean,
            source=unit,
            version=1,
            change_seq=seq,
            created_by_label=actor_label(actor),
        )
        _version_row(entry, action=VersionAction.CREATED, actor=actor, note="", now=now).save()
        _store_evidence(files, actor=actor, entry=entry)
        audit_record(
            actor=actor,
            action="registry.entry_created",
            obj=entry,
            after=snapshot(entry, AUDITED_FIELDS) | {"evidence": [f.sha256 for f in files]},
        )
    return entry


def _lock_entry(entry_id: int) -> Entry:
    entry = Entry.objects.select_for_update().filter(pk=entry_id).first()
    if entry is None:
        raise NotFound("名单条目不存在", code="entry_not_found")
    return entry


def entry_amend(
    *,
    actor: Any,
    entry_id: int,
    changes: dict[str, Any],
    note: str = "",
    expected_version: int | None = None,
) -> Entry:
    """Change an entry's content. The enterprise and the source stay: a different enterprise is a
    new entry. ``expected_version`` guards against overwriting a change made meanwhile."""
    unknown = set(changes) - set(AMENDABLE)
    if unknown:
        raise ValidationFailed(
            "包含不可修改的字段", fields={k: "该字段不可修改" for k in sorted(unknown)}
        )
    errors: dict[str, str] = {}
    note = v.clean_text(note, "reason", errors)
    with transaction.atomic():
        _lock_counter()
        entry = _lock_entry(entry_id)
        require(actor, "registry.change_entry", entry)
        if entry.revoked_at is not None:
            raise InvalidTransition("已撤销的条目不能修改", code="entry_revoked")
        if expected_version is not None and expected_version != entry.version:
            raise Conflict(
                f"条目已被他人修改（当前版本 {entry.version}），请刷新后重试",
                code="version_conflict",
                fields={"expected_version": f"当前版本为 {entry.version}"},
            )
        merged = {
            "uscc": entry.uscc,
            "enterprise_name": entry.enterprise_name,
            "list": entry.list,
            "category": entry.category_id,
            "reason": entry.reason,
            "document_ref": entry.document_ref,
            "valid_from": entry.valid_from,
            "valid_to": entry.valid_to,
        } | changes
        clean, field_errors = _clean_entry_input(merged)
        errors.update(field_errors)
        if errors:
            raise ValidationFailed("名单条目信息有误", fields=errors)
        before = snapshot(entry, AUDITED_FIELDS)
        changed = [
            name
            for name in AMENDABLE
            if (entry.category_id if name == "category" else getattr(entry, name))
            != (clean[name].code if name == "category" else clean[name])
        ]
        if not changed:
            raise ValidationFailed("没有需要修改的内容", code="no_change")
        for name in changed:
            setattr(entry, name, clean[name])
        entry.version += 1
        entry.change_seq = _allocate_seqs(1)
        entry.save()
        _version_row(
            entry, action=VersionAction.AMENDED, actor=actor, note=note, now=timezone.now()
        ).save()
        audit_record(
            actor=actor,
            action="registry.entry_amended",
            obj=entry,
            before=before,
            after=snapshot(entry, AUDITED_FIELDS) | {"note": note},
        )
    return entry


def _revoke_locked(entry: Entry, *, actor: Any, reason: str, action: str) -> None:
    entry.revoked_at = timezone.now()
    entry.revoked_by = _user_or_none(actor)
    entry.revoked_by_label = actor_label(actor)
    entry.revocation_reason = reason
    entry.version += 1
    entry.change_seq = _allocate_seqs(1)
    entry.save()
    _version_row(
        entry, action=VersionAction.REVOKED, actor=actor, note=reason, now=entry.revoked_at
    ).save()
    audit_record(
        actor=actor,
        action=action,
        obj=entry,
        after={"reason": reason, "version": entry.version, "change_seq": entry.change_seq},
    )


def entry_revoke(*, actor: Any, entry_id: int, reason: str) -> Entry:
    """Revoke with a reason and by whom; the entry stays, with its history."""
    errors: dict[str, str] = {}
    reason = v.clean_text(reason, "reason", errors, required=True)
    if errors:
        raise ValidationFailed("请填写撤销理由", fields={"reason": "撤销理由不能为空或含控制字符"})
    with transaction.atomic():
        _lock_counter()
        entry = _lock_entry(entry_id)
        require(actor, "registry.change_entry", entry)
        if entry.revoked_at is not None:
            raise InvalidTransition("该条目已撤销", code="entry_revoked")
        _revoke_locked(entry, actor=actor, reason=reason, action="registry.entry_revoked")
    return entry


def entry_add_evidence(*, actor: Any, entry_id: int, files: Iterable[Any]) -> list[Evidence]:
    checked = inspect_evidence(files)
    if not checked:
        raise ValidationFailed("请选择要上传的证明材料", fields={"evidence": "未选择文件"})
    with transaction.atomic():
        entry = _lock_entry(entry_id)
        require(actor, "registry.change_entry", entry)
        stored = _store_evidence(checked, actor=actor, entry=entry)
        audit_record(
            actor=actor,
            action="registry.evidence_added",
            obj=entry,
            after={"files": [{"name": f.name, "sha256": f.sha256} for f in checked]},
        )
    return stored
