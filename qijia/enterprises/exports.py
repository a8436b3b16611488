"""Export of the (filtered) enterprise list to XLSX: a sensitive read, audited with its filters and
row count. Written with openpyxl's write-only mode into a spooled temporary file, so a large export
streams rows from the database in chunks instead of holding them all in memory."""

from __future__ import annotations

import tempfile
from typing import IO, Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from qijia.audit.services import audit_read
from qijia.core.errors import ValidationFailed
from qijia.identity.permissions import require

from .selectors import EnterpriseFilters, enterprise_list

HEADERS = (
    "统一社会信用代码",
    "企业名称",
    "镇街",
    "行业代码",
    "行业名称",
    "地址",
    "电话",
    "电子邮箱",
    "成立日期",
    "规模",
    "经营状态",
    "法定代表人",
)


def export_limit() -> int:
    return int(getattr(settings, "QIJIA_EXPORT_MAX_ROWS", 100_000))


def enterprise_export_xlsx(*, actor: Any, filters: EnterpriseFilters) -> tuple[IO[bytes], int]:
    """The actor's filtered list as an XLSX file (rewound) and its row count."""
    require(actor, "enterprises.export")
    qs = enterprise_list(actor=actor, filters=filters)
    count = qs.count()
    limit = export_limit()
    if count > limit:
        raise ValidationFailed(
            f"符合条件的企业有{count}家，超过单次导出上限{limit}家，请增加筛选条件",
            code="export_too_large",
        )
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("企业名录")
    bold = Font(bold=True)
    header = []
    for title in HEADERS:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    written = 0
    for e in qs.iterator(chunk_size=2000):
        reps = "、".join(r.person.name for r in getattr(e, "legal_representatives", []))
        sheet.append(
            [
                e.uscc,
                e.name,
                e.town.name,
                e.industry_id or "",
                e.industry.name if e.industry else "",
                e.address,
                e.phone,
                e.email,
                e.established_on,
                e.get_size_class_display() if e.size_class else "",
                e.get_status_display(),
                reps,
            ]
        )
        written += 1
    info = workbook.create_sheet("导出信息")
    info.append(["导出时间", timezone.localtime().strftime("%Y-%m-%d %H:%M:%S")])
    info.append(["导出人", str(actor)])
    info.append(["筛选条件", str(filters.as_dict() or "全部")])
    info.append(["企业数", written])
    output = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 (caller closes)
    workbook.save(output)
    with transaction.atomic():
        audit_read(
            actor=actor,
            action="enterprises.export",
            object_type="enterprises.enterprise",
            object_repr=f"企业名录导出（{written}家）",
            detail={"filters": filters.as_dict(), "rows": written},
        )
    output.seek(0)
    return output, written
