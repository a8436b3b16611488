"""Many entries from one CSV file: every row checked first, then all rows created or none."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.db import transaction
from django.utils import timezone

from qijia.audit.services import Entry as AuditEntry
from qijia.audit.services import record_many, snapshot
from qijia.core.errors import ValidationFailed

from .. import validation as v
from ..models import Entry, EntryVersion, VersionAction
from ..permissions import require
from ._common import AUDITED_FIELDS, _allocate_seqs, _version_row, actor_label
from .entries import _clean_entry_input, _resolve_source

MAX_IMPORT_ROWS = 20_000


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
