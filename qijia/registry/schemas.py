"""API schemas for the registry, with the examples the OpenAPI document shows."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Schema
from pydantic import field_validator

EXAMPLE_USCC = "91441900MA4UJ5C36T"


class ErrorOut(Schema):
    code: str = Field(..., examples=["validation_failed"])
    message: str = Field(..., examples=["名单条目信息有误"])
    fields: dict[str, str] = Field(
        default_factory=dict, examples=[{"uscc": "统一社会信用代码校验位错误：应为“T”，实际为“X”"}]
    )


class CategoryOut(Schema):
    code: str = Field(..., examples=["tax_arrears"])
    name: str = Field(..., examples=["欠缴税款"])


class EntryOut(Schema):
    id: int = Field(..., examples=[1024])
    uscc: str = Field(..., examples=[EXAMPLE_USCC])
    enterprise_name: str = Field(..., examples=["东莞市某某制造有限公司"])
    list: str = Field(
        ..., description="ineligible 不予资助 / blacklist 失信黑名单", examples=["ineligible"]
    )
    category: str = Field(..., examples=["tax_arrears"])
    category_name: str = Field(..., examples=["欠缴税款"])
    reason: str = Field(..., examples=["欠缴增值税逾期未缴"])
    source: str = Field(..., description="来源部门编码", examples=["tax"])
    source_name: str = Field(..., examples=["市税务局"])
    document_ref: str = Field(..., examples=["东税处〔2026〕12号"])
    valid_from: dt.date = Field(..., examples=["2026-01-01"])
    valid_to: dt.date | None = Field(
        None, description="最后有效日（含），空为长期", examples=["2027-12-31"]
    )
    status: str = Field(
        ..., description="pending / active / expired / revoked", examples=["active"]
    )
    revoked_at: dt.datetime | None = None
    revocation_reason: str = ""
    version: int = Field(..., examples=[1])
    change_seq: int = Field(..., examples=[52311])


class VersionOut(Schema):
    entry_id: int
    version: int
    change_seq: int = Field(..., examples=[52311])
    action: str = Field(
        ..., description="created / amended / revoked / expired", examples=["created"]
    )
    changed_at: dt.datetime
    changed_by: str
    note: str
    uscc: str
    enterprise_name: str
    list: str
    category: str
    reason: str
    source: str
    document_ref: str
    valid_from: dt.date
    valid_to: dt.date | None
    revoked_at: dt.datetime | None
    revocation_reason: str


class EntryDetailOut(EntryOut):
    versions: list[VersionOut]
    evidence: list[dict[str, str | int]] = Field(
        ..., examples=[[{"id": 7, "name": "处罚决定书.pdf", "sha256": "ab12…", "size": 20480}]]
    )


class CheckOut(Schema):
    uscc: str = Field(..., examples=[EXAMPLE_USCC])
    on: dt.date = Field(..., examples=["2026-11-28"])
    listed: bool = Field(..., description="该日是否在名单中（不予资助）", examples=[True])
    entries: list[EntryOut]


class BulkCheckIn(Schema):
    uscc: list[str] = Field(
        ...,
        max_length=10_000,
        description="最多 10,000 个统一社会信用代码；任一无效则整批拒绝",
        examples=[[EXAMPLE_USCC, "914403001922038216"]],
    )
    on: dt.date | None = Field(None, description="查询日期，默认今天", examples=["2026-11-28"])


class BulkListed(Schema):
    uscc: str
    entries: list[EntryOut]


class BulkCheckOut(Schema):
    on: dt.date
    checked: int = Field(..., description="去重后查询的代码数", examples=[2])
    listed_count: int = Field(..., examples=[1])
    listed: list[BulkListed] = Field(..., description="仅列出在名单中的企业")


class CleanText(Schema):
    """Refuses control characters in every text field (PostgreSQL cannot store NUL)."""

    @field_validator("*", mode="before")
    @classmethod
    def _no_control(cls, value: object) -> object:
        if isinstance(value, str) and any(ord(c) < 32 and c not in "\r\n\t" for c in value):
            raise ValueError("不能包含控制字符")
        return value


class EntryIn(CleanText):
    uscc: str = Field(..., max_length=40, examples=[EXAMPLE_USCC])
    enterprise_name: str = Field("", max_length=200, examples=["东莞市某某制造有限公司"])
    list: str = Field(..., max_length=20, examples=["ineligible"])
    category: str = Field(..., max_length=100, examples=["tax_arrears"])
    reason: str = Field(..., max_length=2000, examples=["欠缴增值税逾期未缴"])
    document_ref: str = Field("", max_length=200, examples=["东税处〔2026〕12号"])
    valid_from: dt.date = Field(..., examples=["2026-01-01"])
    valid_to: dt.date | None = Field(None, examples=["2027-12-31"])
    source: str | None = Field(
        None, max_length=64, description="局经办人员可指定来源部门编码；协作部门固定为本部门"
    )


class EntryAmendIn(CleanText):
    enterprise_name: str | None = Field(None, max_length=200)
    list: str | None = Field(None, max_length=20, examples=["blacklist"])
    category: str | None = Field(None, max_length=100)
    reason: str | None = Field(None, max_length=2000)
    document_ref: str | None = Field(None, max_length=200)
    valid_from: dt.date | None = None
    valid_to: dt.date | None = Field(None, examples=["2028-06-30"])
    clear_valid_to: bool = Field(False, description="设为 true 表示改为长期有效")
    note: str = Field("", max_length=2000, examples=["根据复核结果延长期限"])
    expected_version: int | None = Field(
        None, ge=1, le=2_000_000_000, description="乐观锁：与当前版本不一致时返回 409", examples=[1]
    )


class RevokeIn(CleanText):
    reason: str = Field(..., min_length=1, max_length=2000, examples=["已补缴税款，依法撤销"])


class EntryPage(Schema):
    count: int
    items: list[EntryOut]


class ImportOut(Schema):
    created: int = Field(..., examples=[120])
    ids: list[int]


class EvidenceOut(Schema):
    id: int
    name: str
    sha256: str
    size: int
    content_type: str


class ChangesOut(Schema):
    items: list[VersionOut]
    next_cursor: int = Field(..., description="下次请求的 since 值", examples=[52311])
    has_more: bool
