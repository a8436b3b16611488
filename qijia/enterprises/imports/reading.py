"""Reading an uploaded table: decide what the bytes are (by content, never by file name), find the
header row, map headers to columns and yield raw rows with their line and cell addresses.

Formats: CSV in UTF-8 (a BOM is fine; Excel's "CSV UTF-8" writes one) and XLSX. One file holds one
kind of record; in an XLSX workbook the worksheet named after the kind (e.g. "企业") is read, or
else the first worksheet.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..validation import Column, is_blank

XLSX = "xlsx"
CSV = "csv"
#: A workbook whose parts unpack to more than this many times the upload is refused (zip bomb).
MAX_EXPANSION = 40


@dataclass(frozen=True)
class RowError:
    """One problem: the row (line in the file), the cell, the column's header, the value, why."""

    line: int | None
    column: str
    cell: str
    value: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "column": self.column,
            "cell": self.cell,
            "value": self.value,
            "message": self.message,
        }


class FileRejected(Exception):
    """The file as a whole cannot be read (wrong content, bad headers)."""

    def __init__(self, errors: list[RowError]):
        super().__init__("; ".join(e.message for e in errors))
        self.errors = errors


def file_error(message: str, *, column: str = "", cell: str = "", value: str = "") -> FileRejected:
    return FileRejected([RowError(None, column, cell, value, message)])


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA (so CSV errors also name a spreadsheet cell)."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def sniff(data: bytes) -> str:
    """XLSX or CSV, decided from the bytes; anything else is rejected with the reason."""
    if not data:
        raise file_error("文件为空")
    if data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
                expanded = sum(info.file_size for info in archive.infolist())
        except zipfile.BadZipFile:
            raise file_error("文件已损坏：不是有效的 XLSX 工作簿") from None
        if "xl/workbook.xml" not in names or "[Content_Types].xml" not in names:
            raise file_error(
                "这是一个压缩包而不是 XLSX 工作簿，请上传 .xlsx 或 UTF-8 编码的 .csv 文件"
            )
        if expanded > MAX_EXPANSION * len(data) + 10_000_000:
            raise file_error("XLSX 工作簿解压后过大，已拒绝")
        return XLSX
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise file_error("不支持旧版 Excel（.xls）文件，请在 Excel 中另存为 .xlsx 后上传")
    if b"\x00" in data[:65536]:
        raise file_error("文件不是文本表格：请上传 .xlsx 或 UTF-8 编码的 .csv 文件")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise file_error(
            f"CSV 文件不是 UTF-8 编码（第{line}行附近），"
            "请在 Excel 中选择“CSV UTF-8（逗号分隔）”另存后上传"
        ) from None
    return CSV


@dataclass
class Table:
    """The header mapping and the raw rows of one uploaded table."""

    file_format: str
    columns: list[Column]  # the columns present, in file order
    positions: list[int]  # their position in the row
    header_line: int
    rows: list[tuple[int, dict[str, Any], dict[str, str]]] = field(default_factory=list)
    # each row: (line number, raw values by column key, cell address by column key)
    errors: list[RowError] = field(default_factory=list)  # data outside any column


def _raw_rows(
    data: bytes, file_format: str, sheet_names: Sequence[str]
) -> Iterator[tuple[int, list[Any]]]:
    if file_format == CSV:
        text = data.decode("utf-8-sig")
        # The delimiter is read off the header line (Excel writes "," or, in some locales, ";";
        # "\t" for "Unicode text"). csv.Sniffer is not used: it guesses from the data and can
        # take a quote inside a value for the quote character.
        header = text.split("\n", 1)[0]
        delimiter = max((",", ";", "\t"), key=header.count) if header else ","
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"')
        try:
            for line, row in enumerate(reader, start=1):
                yield line, list(row)
        except csv.Error as exc:
            raise file_error(f"CSV 格式错误（第{reader.line_num}行）：{exc}") from None
        return
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged workbook
        raise file_error(f"无法读取 XLSX 工作簿：{type(exc).__name__}") from None
    try:
        sheet = next((workbook[n] for n in sheet_names if n in workbook.sheetnames), None)
        sheet = sheet or workbook.worksheets[0]
        for line, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield line, list(row)
    finally:
        workbook.close()


def _header_text(value: Any) -> str:
    return "" if value is None else str(value).strip().replace("（", "(").replace("）", ")")


def read_table(data: bytes, columns: Sequence[Column], *, sheet_names: Sequence[str] = ()) -> Table:
    """Parse ``data`` into a Table. Unknown, repeated or missing required headers reject the file:
    a column silently ignored would be data silently lost."""
    file_format = sniff(data)
    by_alias: dict[str, Column] = {}
    for column in columns:
        for alias in column.aliases:
            by_alias[_header_text(alias)] = column
    table: Table | None = None
    for line, row in _raw_rows(data, file_format, sheet_names):
        if all(is_blank(value) for value in row):
            continue
        if table is None:
            present: list[Column] = []
            positions: list[int] = []
            problems: list[RowError] = []
            for index, raw in enumerate(row):
                header = _header_text(raw)
                if not header:
                    continue
                found = by_alias.get(header)
                cell = f"{column_letter(index)}{line}"
                if found is None:
                    problems.append(RowError(line, header, cell, header, f"未知的列名“{header}”"))
                elif found in present:
                    problems.append(RowError(line, header, cell, header, f"列“{header}”重复"))
                else:
                    present.append(found)
                    positions.append(index)
            for column in columns:
                if column.required and column not in present:
                    problems.append(
                        RowError(line, column.label, "", "", f"缺少必填列“{column.label}”")
                    )
            if problems:
                raise FileRejected(problems)
            table = Table(file_format, present, positions, line)
            continue
        raw_values: dict[str, Any] = {}
        cells: dict[str, str] = {}
        for column, index in zip(table.columns, table.positions, strict=True):
            raw_values[column.key] = row[index] if index < len(row) else None
            cells[column.key] = f"{column_letter(index)}{line}"
        extra = [
            (i, value)
            for i, value in enumerate(row)
            if i not in table.positions and not is_blank(value)
        ]
        for index, value in extra:
            table.errors.append(
                RowError(
                    line,
                    "",
                    f"{column_letter(index)}{line}",
                    str(value),
                    "该单元格所在的列没有列名，数据无法归属",
                )
            )
        table.rows.append((line, raw_values, cells))
    if table is None:
        raise file_error("文件中没有表头行")
    if not table.rows:
        raise file_error("文件只有表头，没有数据行")
    return table
