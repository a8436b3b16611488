"""The downloadable error report (XLSX) and the blank templates people fill in."""

from __future__ import annotations

import io
from collections.abc import Sequence

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

from ..models import ImportBatch
from ..validation import Column
from .reading import RowError

HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="F2DCDB")


def error_report_xlsx(batch: ImportBatch, errors: Sequence[RowError]) -> bytes:
    """Every bad row and cell with the reason, sorted by row; a first sheet says which file."""
    workbook = Workbook(write_only=False)
    sheet = workbook.active
    sheet.title = "错误明细"
    headers = ["行号", "单元格", "列名", "原值", "错误原因"]
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
    ordered = sorted(errors, key=lambda e: (e.line or 0, e.cell))
    for error in ordered:
        sheet.append(
            [
                error.line if error.line is not None else "整个文件",
                error.cell,
                error.column,
                error.value,
                error.message,
            ]
        )
    for column, width in zip("ABCDE", (10, 10, 26, 28, 70), strict=True):
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = "A2"
    about = workbook.create_sheet("文件信息")
    rows = [
        ("文件名", batch.original_name),
        ("数据类型", str(batch.get_kind_display())),
        ("SHA-256", batch.sha256),
        ("上传时间", batch.created_at.strftime("%Y-%m-%d %H:%M:%S") if batch.created_at else ""),
        ("数据行数", batch.row_count),
        ("有错误的行数", len({e.line for e in errors if e.line is not None})),
        ("错误数", len(errors)),
        ("结果", "整个文件未导入：请改正所有错误后重新上传"),
    ]
    for row in rows:
        about.append(list(row))
    about.column_dimensions["A"].width = 16
    about.column_dimensions["B"].width = 70
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def template_xlsx(sheet_name: str, columns: Sequence[Column]) -> bytes:
    """A blank workbook with the header row and, on a second sheet, what each column takes."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = sheet_name
    sheet.append([c.label for c in columns])
    for index, cell in enumerate(sheet[1]):
        cell.font = HEADER_FONT
        cell.number_format = "@"
        letter = cell.column_letter
        sheet.column_dimensions[letter].width = max(14, len(columns[index].label) * 2 + 4)
        # Identifier columns as text, so Excel keeps all 18 characters.
        for row in range(2, 1002):
            sheet.cell(row=row, column=index + 1).number_format = "@"
    notes = workbook.create_sheet("填写说明")
    notes.append(["列名", "是否必填", "字段"])
    for column in columns:
        notes.append([column.label, "必填" if column.required else "选填", column.key])
    notes.append([])
    notes.append(
        ["说明：任何一行有错误，整个文件都不会导入，并给出错误报告；重复导入同一文件不会改变数据。"]
    )
    notes.column_dimensions["A"].width = 30
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
