"""Writes to the registry. Each service checks the actor's permission, runs in one transaction,
locks what it changes, appends an EntryVersion with the next change sequence, writes the audit
event in the same transaction, and leaves notifications to commit."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import filetype
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from qijia.audit.services import Entry as AuditEntry
from qijia.audit.services import audit_record, record_many, snapshot
from qijia.core.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from qijia.identity.models import OrgUnit
from qijia.identity.roles import Role
from qijia.notifications.services import notify

from . import validation as v
from .auth import forget_token, new_token_text
from .models import (
    ApiToken,
    ChangeCounter,
    Entry,
    EntryVersion,
    Evidence,
    Objection,
    ObjectionStatus,
    TokenScope,
    VersionAction,
)
from .permissions import require

EVIDENCE_TYPES = {"application/pdf": "PDF", "image/jpeg": "JPEG", "image/png": "PNG"}
MAX_EVIDENCE_FILES = 10
MAX_IMPORT_ROWS = 20_000
AMENDABLE = (
    "enterprise_name",
    "list",
    "category",
    "reason",
    "document_ref",
    "valid_from",
    "valid_to",
)


# --- helpers ----------------------------------------------------------------------------------


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


# --- entries ----------------------------------------------------------------------------------


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
    clean = {
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


# --- CSV import -------------------------------------------------------------------------------

CSV_COLUMNS = {
    "uscc": "uscc",
    "统一社会信用代码": "uscc",
    "enterprise_name": "enterprise_name",
    "企业名称": "enterprise_name",
    "list": "list",
    "名单": "list",
    "category": "category",
    "类别": "category",
    "reason": "reason",
    "列入事由": "reason",
    "document_ref": "document_ref",
    "文书编号": "document_ref",
    "valid_from": "valid_from",
    "生效日期": "valid_from",
    "valid_to": "valid_to",
    "截止日期": "valid_to",
}
REQUIRED_COLUMNS = ("uscc", "list", "category", "reason", "valid_from")


def _decode_csv(content: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationFailed("CSV 文件编码无法识别，请保存为 UTF-8", code="csv_encoding")


def entries_import_csv(
    *, actor: Any, content: bytes, filename: str = "upload.csv", source: str | None = None
) -> list[Entry]:
    """Create many entries from a CSV: all rows or none, with every row's errors reported."""
    require(actor, "registry.import")
    text = _decode_csv(content)
    if "\x00" in text:
        raise ValidationFailed(f"文件“{filename}”不是文本CSV", code="csv_format")
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        raise ValidationFailed(f"文件“{filename}”是空文件", code="csv_empty") from None
    columns = [CSV_COLUMNS.get(h.strip().lower(), CSV_COLUMNS.get(h.strip())) for h in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        labels = "、".join(f"{c}（{v.FIELD_LABELS[c]}）" for c in missing)
        raise ValidationFailed(
            f"文件“{filename}”第1行缺少列：{labels}",
            code="csv_columns",
            fields={"header": f"缺少列：{labels}"},
        )
    categories = v.active_categories()
    source_errors: dict[str, str] = {}
    unit = _resolve_source(actor, source, source_errors)
    if source_errors:
        raise ValidationFailed("来源部门有误", fields=source_errors)
    errors: dict[str, str] = {}
    rows: list[dict] = []
    try:
        for line_no, raw in enumerate(reader, start=2):
            if not any(cell.strip() for cell in raw):
                continue
            if len(rows) >= MAX_IMPORT_ROWS:
                raise ValidationFailed(
                    f"文件“{filename}”超过{MAX_IMPORT_ROWS}行上限，请分批上传", code="csv_too_large"
                )
            data = {col: cell for col, cell in zip(columns, raw, strict=False) if col}
            clean, row_errors = _clean_entry_input(data, categories=categories)
            for field, message in row_errors.items():
                errors[f"row{line_no}.{field}"] = (
                    f"第{line_no}行“{v.FIELD_LABELS[field]}”：{message}"
                )
            rows.append(clean)
    except csv.Error as exc:
        raise ValidationFailed(
            f"文件“{filename}”第{reader.line_num}行格式错误：{exc}", code="csv_format"
        ) from None
    if not rows and not errors:
        raise ValidationFailed(f"文件“{filename}”没有数据行", code="csv_empty")
    if errors:
        first = next(iter(errors.values()))
        raise ValidationFailed(
            f"导入失败，共{len(errors)}处错误，未导入任何条目。{first}",
            code="csv_rows_invalid",
            fields=errors,
        )
    from qijia.enterprises.models import Enterprise

    names = dict(
        Enterprise.objects.filter(uscc__in={r["uscc"] for r in rows}).values_list("uscc", "name")
    )
    now = timezone.now()
    label = actor_label(actor)
    with transaction.atomic():
        first_seq = _allocate_seqs(len(rows))
        entries = []
        for offset, clean in enumerate(rows):
            clean["enterprise_name"] = clean["enterprise_name"] or names.get(clean["uscc"], "")
            entries.append(
                Entry(
                    **clean,
                    source=unit,
                    version=1,
                    change_seq=first_seq + offset,
                    created_by_label=label,
                )
            )
        Entry.objects.bulk_create(entries)
        if entries[0].pk is None:  # backends without RETURNING
            by_seq = dict(
                Entry.objects.filter(change_seq__gte=first_seq).values_list("change_seq", "pk")
            )
            for entry in entries:
                entry.pk = by_seq[entry.change_seq]
        EntryVersion.objects.bulk_create(
            [
                _version_row(
                    e,
                    action=VersionAction.CREATED,
                    actor=actor,
                    note=f"批量导入：{filename}"[:200],
                    now=now,
                )
                for e in entries
            ]
        )
        record_many(
            actor=actor,
            entries=[
                AuditEntry(
                    action="registry.entry_created",
                    obj=e,
                    after=snapshot(e, AUDITED_FIELDS) | {"import": filename[:100]},
                )
                for e in entries
            ],
        )
    return entries


# --- objections -------------------------------------------------------------------------------


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


# --- tokens -----------------------------------------------------------------------------------


def token_create(
    *, actor: Any, name: str, scope: str, org_unit_id: int | None = None
) -> tuple[ApiToken, str]:
    """Create a department token. The returned text is shown once and never stored."""
    require(actor, "registry.manage_tokens")
    errors: dict[str, str] = {}
    name = str(name or "").strip()
    if not name or len(name) > 100 or any(ord(c) < 32 for c in name):
        errors["name"] = "令牌名称不能为空，且不超过100个字符"
    if scope not in TokenScope.values:
        errors["scope"] = "权限范围应为 read（只读）或 read_write（读写）"
    if actor.role == Role.ADMIN and org_unit_id:
        unit = OrgUnit.objects.filter(pk=org_unit_id, is_active=True).first()
        if unit is None:
            errors["org_unit"] = "部门不存在"
    else:
        unit = actor.org_unit
    if errors:
        raise ValidationFailed("令牌信息有误", fields=errors)
    text, prefix, secret_hash = new_token_text()
    with transaction.atomic():
        token = ApiToken.objects.create(
            org_unit=unit,
            name=name,
            prefix=prefix,
            secret_hash=secret_hash,
            scope=scope,
            created_by=actor,
        )
        audit_record(
            actor=actor,
            action="registry.token_created",
            obj=token,
            after={"org_unit": unit.code, "name": name, "scope": scope, "prefix": prefix},
        )
    return token, text


def token_revoke(*, actor: Any, token_id: int) -> ApiToken:
    require(actor, "registry.manage_tokens")
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().filter(pk=token_id).first()
        if token is None or (actor.role != Role.ADMIN and token.org_unit_id != actor.org_unit_id):
            raise NotFound("令牌不存在", code="token_not_found")
        if token.revoked_at is not None:
            raise InvalidTransition("该令牌已吊销", code="token_revoked")
        token.revoked_at = timezone.now()
        token.revoked_by = actor
        token.save(update_fields=["revoked_at", "revoked_by"])
        audit_record(
            actor=actor, action="registry.token_revoked", obj=token, after={"prefix": token.prefix}
        )
        forget_token(token.prefix)  # a rolled-back revocation only costs one more lookup
    return token


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
    from .models import CheckLog

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
