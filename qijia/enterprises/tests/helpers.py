"""Builders for import files in tests (CSV text and XLSX workbooks)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook

from qijia.enterprises.imports import Upload


def csv_upload(rows: Sequence[Sequence[Any]], name: str = "data.csv", bom: bool = True) -> Upload:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow(row)
    text = buffer.getvalue()
    return Upload(name=name, data=(("\ufeff" if bom else "") + text).encode("utf-8"))


def xlsx_upload(
    rows: Sequence[Sequence[Any]], name: str = "data.xlsx", sheet: str = "Sheet"
) -> Upload:
    workbook = Workbook()
    ws = workbook.active
    ws.title = sheet
    for row in rows:
        ws.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return Upload(name=name, data=buffer.getvalue())


ENTERPRISE_HEADER = ["统一社会信用代码", "企业名称", "镇街", "行业代码", "地址", "规模", "成立日期"]
