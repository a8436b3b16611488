"""The partner-department API under /api/v1/registry/ (bearer token or a logged-in session).

Every endpoint parses input, calls one selector or service, and renders. Errors are DomainErrors
rendered by the API root as {"code", "message", "fields"}.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import File, Path, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.security import HttpBearer, django_auth
from pydantic import Field, field_validator

from qijia.core.errors import PermissionDenied, ValidationFailed

from . import selectors, services
from .auth import token_authenticate
from .models import Category, Entry, EntryVersion
from .schemas import (
    BulkCheckIn,
    BulkCheckOut,
    CategoryOut,
    ChangesOut,
    CheckOut,
    EntryAmendIn,
    EntryDetailOut,
    EntryIn,
    EntryOut,
    EntryPage,
    ErrorOut,
    EvidenceOut,
    ImportOut,
    RevokeIn,
)

BIGINT = 2**63 - 1


class DepartmentToken(HttpBearer):
    """``Authorization: Bearer qjr_<prefix>_<secret>``: a department's API token."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        return token_authenticate(token)


router = Router(tags=["registry 不予资助名单"], auth=[DepartmentToken(), django_auth])

ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


def _actor(request: HttpRequest) -> Any:
    # A TokenActor, or the session's user. django-ninja sets ``auth`` on the request at runtime
    # and declares it nowhere, so HttpRequest's stub cannot know it.
    return request.auth  # type: ignore[attr-defined]


def _require_write(actor: Any) -> None:
    if getattr(actor, "is_token", False) and not actor.can_write:
        raise PermissionDenied("只读令牌不能修改名单", code="token_read_only")


def entry_out(entry: Entry, today: dt.date | None = None) -> dict[str, Any]:
    return {
        "id": entry.pk,
        "uscc": entry.uscc,
        "enterprise_name": entry.enterprise_name,
        "list": entry.list,
        "category": entry.category_id,
        "category_name": entry.category.name,
        "reason": entry.reason,
        "source": entry.source.code,
        "source_name": entry.source.name,
        "document_ref": entry.document_ref,
        "valid_from": entry.valid_from,
        "valid_to": entry.valid_to,
        "status": entry.status_on(today or timezone.localdate()),
        "revoked_at": entry.revoked_at,
        "revocation_reason": entry.revocation_reason,
        "version": entry.version,
        "change_seq": entry.change_seq,
    }


def version_out(row: EntryVersion) -> dict[str, Any]:
    return {
        "entry_id": row.entry_id,
        "version": row.version,
        "change_seq": row.change_seq,
        "action": row.action,
        "changed_at": row.changed_at,
        "changed_by": row.changed_by_label,
        "note": row.note,
        "uscc": row.uscc,
        "enterprise_name": row.enterprise_name,
        "list": row.list,
        "category": row.category_code,
        "reason": row.reason,
        "source": row.source_code,
        "document_ref": row.document_ref,
        "valid_from": row.valid_from,
        "valid_to": row.valid_to,
        "revoked_at": row.revoked_at,
        "revocation_reason": row.revocation_reason,
    }


class CheckQuery(Schema):
    uscc: str = Field(
        ..., max_length=40, description="统一社会信用代码", examples=["91441900MA4UJ5C36T"]
    )
    on: dt.date | None = Field(None, description="查询日期，默认今天", examples=["2026-11-28"])


@router.get(
    "/check",
    response={200: CheckOut, **ERRORS},
    summary="查询一家企业在某日是否在名单中",
    operation_id="registry_check",
)
def check(request: HttpRequest, params: Query[CheckQuery]) -> HttpResponse:
    on = params.on or timezone.localdate()
    entries = selectors.registry_check(uscc=params.uscc, on=on, actor=_actor(request))
    code = entries[0].uscc if entries else params.uscc.strip().upper()
    return _json(
        {
            "uscc": code,
            "on": on,
            "listed": bool(entries),
            "entries": [entry_out(e, on) for e in entries],
        }
    )


def _json(body: dict[str, Any]) -> HttpResponse:
    """The checks' bodies rendered directly (their shapes are CheckOut and BulkCheckOut, as
    documented): re-validating what the server just built costs the single check a tenth of its
    time and doubles the response time of a 10,000-code check."""
    return HttpResponse(
        json.dumps(body, cls=DjangoJSONEncoder, ensure_ascii=False),
        content_type="application/json; charset=utf-8",
    )


@router.post(
    "/check/bulk",
    response={200: BulkCheckOut, **ERRORS},
    summary="批量查询（最多 10,000 个代码）",
    operation_id="registry_check_bulk",
)
def check_bulk(request: HttpRequest, payload: BulkCheckIn) -> HttpResponse:
    on = payload.on or timezone.localdate()
    result = selectors.registry_check_bulk(codes=payload.uscc, on=on, actor=_actor(request))
    body = {
        "on": on,
        "checked": result.checked,
        "listed_count": len(result.listed),
        "listed": [
            {"uscc": code, "entries": [entry_out(e, on) for e in rows]}
            for code, rows in result.listed.items()
        ],
    }
    return _json(body)


@router.get(
    "/categories",
    response={200: list[CategoryOut], **ERRORS},
    summary="列入类别代码表",
    operation_id="registry_categories",
)
def categories(request: HttpRequest) -> list[dict[str, str]]:
    return [{"code": c.code, "name": c.name} for c in Category.objects.filter(is_active=True)]


class EntryQuery(Schema):
    q: str = Field("", max_length=100, description="代码前缀、企业名称或文书编号")
    list: str = Field("", max_length=20, examples=["ineligible"])
    category: str = Field("", max_length=40)
    source: str = Field("", max_length=64)
    status: str = Field("", max_length=10, description="pending / active / expired / revoked")
    uscc: str = Field("", max_length=18)
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=10_000_000)

    @field_validator("q", "list", "category", "source", "status", "uscc")
    @classmethod
    def _printable(cls, value: str) -> str:
        if any(ord(c) < 32 for c in value):
            raise ValueError("不能包含控制字符")
        return value


@router.get(
    "/entries",
    response={200: EntryPage, **ERRORS},
    summary="检索名单条目",
    operation_id="registry_entries",
)
def entries(request: HttpRequest, params: Query[EntryQuery]) -> dict[str, Any]:
    rows = selectors.entry_list(
        actor=_actor(request),
        filters=selectors.EntryFilters(
            q=params.q,
            list=params.list,
            category=params.category,
            source=params.source,
            status=params.status,
            uscc=params.uscc,
        ),
    )
    today = timezone.localdate()
    page = list(rows[params.offset : params.offset + params.limit])
    return {"count": rows.count(), "items": [entry_out(e, today) for e in page]}


@router.post(
    "/entries",
    response={201: EntryOut, **ERRORS},
    summary="新增名单条目（读写令牌）",
    operation_id="registry_entry_create",
)
def entry_create(request: HttpRequest, payload: EntryIn) -> Status:
    actor = _actor(request)
    _require_write(actor)
    entry = services.entry_create(actor=actor, **payload.dict())
    return Status(201, entry_out(entry))


@router.post(
    "/entries/import",
    response={201: ImportOut, **ERRORS},
    summary="CSV 批量导入（全部成功或全部不导入，返回逐行错误）",
    description=(
        "列：uscc, enterprise_name, list, category, reason, document_ref, valid_from, valid_to"
        "（也可用中文列名：统一社会信用代码、企业名称、名单、类别、列入事由、文书编号、生效日期、"
        '截止日期）。UTF-8 或 GB18030 编码。出错时 fields 形如 {"row3.uscc": "第3行…"}。'
    ),
    operation_id="registry_entries_import",
)
def entries_import(request: HttpRequest, file: File[UploadedFile]) -> Status:
    actor = _actor(request)
    _require_write(actor)
    limit = 20 * 1024 * 1024
    content = file.read(limit + 1)
    if len(content) > limit:
        raise ValidationFailed("CSV 文件超过20MB上限", fields={"file": "文件过大"})
    created = services.entries_import_csv(
        actor=actor, content=content, filename=str(file.name or "upload.csv")[:100]
    )
    return Status(201, {"created": len(created), "ids": [e.pk for e in created]})


EntryId = Path(..., ge=1, le=BIGINT, description="条目编号")


def _detail(actor: Any, entry_id: int) -> dict[str, Any]:
    entry = selectors.entry_get(actor=actor, entry_id=entry_id)
    return entry_out(entry) | {
        "versions": [version_out(v) for v in entry.versions.all()],
        "evidence": [
            {"id": e.pk, "name": e.original_name, "sha256": e.sha256, "size": e.size}
            for e in entry.evidence.all()
        ],
    }


@router.get(
    "/entries/{entry_id}",
    response={200: EntryDetailOut, **ERRORS},
    summary="条目详情与全部历史版本",
    operation_id="registry_entry_get",
)
def entry_get(request: HttpRequest, entry_id: int = EntryId) -> dict[str, Any]:
    return _detail(_actor(request), entry_id)


@router.patch(
    "/entries/{entry_id}",
    response={200: EntryOut, **ERRORS},
    summary="修改条目（仅来源部门或局经办人员）",
    operation_id="registry_entry_amend",
)
def entry_amend(request: HttpRequest, payload: EntryAmendIn, entry_id: int = EntryId) -> dict:
    actor = _actor(request)
    _require_write(actor)
    data = payload.dict(exclude_unset=True)
    note = data.pop("note", "") or ""
    expected = data.pop("expected_version", None)
    if data.pop("clear_valid_to", False):
        data["valid_to"] = None
    changes = {k: val for k, val in data.items() if val is not None or k == "valid_to"}
    if not changes:
        raise ValidationFailed("没有需要修改的内容", code="no_change")
    entry = services.entry_amend(
        actor=actor, entry_id=entry_id, changes=changes, note=note, expected_version=expected
    )
    return entry_out(entry)


@router.post(
    "/entries/{entry_id}/revoke",
    response={200: EntryOut, **ERRORS},
    summary="撤销条目（须填写理由）",
    operation_id="registry_entry_revoke",
)
def entry_revoke(request: HttpRequest, payload: RevokeIn, entry_id: int = EntryId) -> dict:
    actor = _actor(request)
    _require_write(actor)
    return entry_out(services.entry_revoke(actor=actor, entry_id=entry_id, reason=payload.reason))


@router.post(
    "/entries/{entry_id}/evidence",
    response={201: list[EvidenceOut], **ERRORS},
    summary="上传证明材料（PDF/JPEG/PNG）",
    operation_id="registry_entry_evidence",
)
def entry_evidence(
    request: HttpRequest, files: File[list[UploadedFile]], entry_id: int = EntryId
) -> Status:
    actor = _actor(request)
    _require_write(actor)
    stored = services.entry_add_evidence(actor=actor, entry_id=entry_id, files=files)
    return Status(
        201,
        [
            {
                "id": e.pk,
                "name": e.original_name,
                "sha256": e.sha256,
                "size": e.size,
                "content_type": e.content_type,
            }
            for e in stored
        ],
    )


class ChangesQuery(Schema):
    since: int = Field(0, ge=0, le=BIGINT, description="上次返回的 next_cursor；首次为 0")
    limit: int = Field(500, ge=1, le=5000)


@router.get(
    "/changes",
    response={200: ChangesOut, **ERRORS},
    summary="变更流：自游标以来的所有版本，用于部门镜像名单",
    operation_id="registry_changes",
)
def changes(request: HttpRequest, params: Query[ChangesQuery]) -> dict[str, Any]:
    rows, cursor, more = selectors.changes_since(
        actor=_actor(request), since=params.since, limit=params.limit
    )
    return {"items": [version_out(r) for r in rows], "next_cursor": cursor, "has_more": more}
