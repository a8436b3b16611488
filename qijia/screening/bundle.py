"""Load and validate an integrity bundle (folder or .zip), collecting every problem at once.

Why collect instead of failing fast: the person who exported the bundle needs the full list to fix
it in one pass. Each problem names the file, the line, the column and what is wrong, in Chinese.
Invalid USCCs are not problems here: they are findings (``invalid_uscc``) because a bad code on an
application is exactly what screening is meant to report.

Photo content (unreadable / non-image files) is checked by the engine when it fingerprints the
photos (see :func:`qijia.screening.engine.fingerprint_bundle_photos`), so every photo is decoded once.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path, PurePosixPath
from typing import Any

from qijia.screening.model import (
    REGISTRY_LISTS,
    ROLES,
    ApplicationRow,
    Bundle,
    EnterpriseRow,
    HoldingRow,
    InvoiceRow,
    PersonRow,
    PhotoRow,
    RegistryRow,
    RoleRow,
    open_zip,
)
from qijia.screening.normalize import tax_id

MANIFEST = "manifest.json"
MANIFEST_FORMAT = "qijia-integrity-bundle"

COLUMNS: dict[str, tuple[str, ...]] = {
    "enterprises.csv": (
        "uscc",
        "name",
        "town",
        "industry_code",
        "address",
        "phone",
        "email",
        "established_on",
    ),
    "persons.csv": ("person_key", "name", "id_number", "phone", "email"),
    "roles.csv": ("person_key", "uscc", "role", "share_pct"),
    "holdings.csv": ("holder_uscc", "held_uscc", "share_pct"),
    "registry.csv": ("uscc", "list", "category", "reason", "source", "valid_from", "valid_to"),
    "applications.csv": (
        "application_id",
        "uscc",
        "programme",
        "title",
        "period_start",
        "period_end",
        "submitted_on",
        "amount_requested",
    ),
    "invoices.csv": (
        "application_id",
        "invoice_code",
        "invoice_number",
        "issued_on",
        "seller_tax_id",
        "seller_name",
        "buyer_tax_id",
        "buyer_name",
        "amount",
        "tax",
    ),
    "photos.csv": ("application_id", "file", "caption"),
}
REQUIRED_FILES = (MANIFEST, "enterprises.csv")
# A file larger than this is refused before it is read (a zip can unpack to gigabytes from a few
# kilobytes); the city-scale bundle's largest, enterprises.csv, is 34 MB.
MAX_TABLE_BYTES = 1024 * 1024 * 1024

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MONEY_RE = re.compile(r"^-?\d+(\.\d{1,2})?$")
_PCT_RE = re.compile(r"^\d+(\.\d+)?$")


@dataclass(frozen=True, slots=True)
class BundleProblem:
    file: str
    line: int  # 0 when the problem is about the whole file
    column: str  # "" when the problem is about the whole row or file
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line:
            where += f" 第{self.line}行"
        if self.column:
            where += f" {self.column}{'字段' if self.file.endswith('.json') else '列'}"
        return f"{where}：{self.message}"


class BundleError(Exception):
    """The bundle is not valid; ``problems`` lists every problem found, file by file (in the
    order the files were read) and by line within a file."""

    def __init__(self, problems: list[BundleProblem]):
        super().__init__(f"数据包无效，共{len(problems)}处问题")
        order: dict[str, int] = {}
        for problem in problems:
            order.setdefault(problem.file, len(order))
        self.problems = sorted(problems, key=lambda p: (order[p.file], p.line))


# --- sources: a folder or a zip -----------------------------------------------------------------


class _Source:
    """Uniform read access to the files of a folder or a zip (with an optional top folder)."""

    def __init__(self, root: Path):
        self.root = root
        self.prefix = ""
        self._zip: zipfile.ZipFile | None = None
        self._names: set[str] = set()
        if root.is_file():
            self._zip = open_zip(root)
            names = [n for n in self._zip.namelist() if not n.endswith("/")]
            self._names = set(names)
            if MANIFEST not in self._names:
                candidates = sorted(n for n in names if PurePosixPath(n).name == MANIFEST)
                if candidates:
                    top = min(candidates, key=lambda n: n.count("/"))
                    self.prefix = top[: -len(MANIFEST)]

    def exists(self, rel: str) -> bool:
        if self._zip is not None:
            return (self.prefix + rel) in self._names
        return self.root.joinpath(*PurePosixPath(rel).parts).is_file()

    def size(self, rel: str) -> int:
        if self._zip is not None:
            return self._zip.getinfo(self.prefix + rel).file_size
        return self.root.joinpath(*PurePosixPath(rel).parts).stat().st_size

    def read_bytes(self, rel: str) -> bytes:
        if self._zip is not None:
            return self._zip.read(self.prefix + rel)
        return self.root.joinpath(*PurePosixPath(rel).parts).read_bytes()

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()


# --- cell parsers -------------------------------------------------------------------------------


class _CellError(ValueError):
    pass


def parse_date(value: str) -> dt.date:
    """YYYY-MM-DD, a real calendar date."""
    if not _DATE_RE.match(value):
        raise _CellError(f"日期“{value}”格式错误，应为 YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise _CellError(f"日期“{value}”不是有效日期") from None


def parse_money(value: str, *, allow_negative: bool = False) -> Decimal:
    """Yuan with at most two decimals (no thousands separators, no currency sign)."""
    if not _MONEY_RE.match(value):
        raise _CellError(f"金额“{value}”格式错误，应为以元为单位、最多两位小数的数字")
    amount = Decimal(value)
    if amount < 0 and not allow_negative:
        raise _CellError(f"金额“{value}”不能为负数")
    return amount


def parse_pct(value: str) -> Decimal:
    """A share in percent, 0..100; a trailing "%" is tolerated."""
    if value.endswith("%"):
        value = value[:-1].strip()
    if not _PCT_RE.match(value):
        raise _CellError(f"持股比例“{value}”格式错误，应为0到100之间的数字")
    try:
        pct = Decimal(value)
    except InvalidOperation:  # pragma: no cover - the regex rules this out
        raise _CellError(f"持股比例“{value}”格式错误") from None
    if pct > 100:
        raise _CellError(f"持股比例“{value}”超过100")
    return pct


# --- the reader ---------------------------------------------------------------------------------


class _Reader:
    def __init__(self, source: _Source):
        self.source = source
        self.problems: list[BundleProblem] = []
        # Cells of rows with the wrong number of fields, by file: such a row is a problem and is
        # not loaded, but its key still exists, so rows elsewhere that refer to it are not also
        # reported as referring to nothing.
        self.malformed: dict[str, list[tuple[int, dict[str, str]]]] = {}

    def problem(self, file: str, line: int, column: str, message: str) -> None:
        self.problems.append(BundleProblem(file, line, column, message))

    def rows(self, name: str) -> Iterator[tuple[int, dict[str, str]]]:
        """(line number, {column: trimmed value}) for each data row; nothing if the file is absent."""
        if not self.source.exists(name):
            if name in REQUIRED_FILES:
                self.problem(name, 0, "", "缺少必需的文件")
            return
        if self.source.size(name) > MAX_TABLE_BYTES:
            self.problem(name, 0, "", f"文件过大（超过 {MAX_TABLE_BYTES // 2**20} MB），未读取")
            return
        data = self.source.read_bytes(name)
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            self.problem(name, line, "", "文件不是 UTF-8 编码")
            return
        reader = csv.reader(io.StringIO(text, newline=""))
        try:
            header = next(reader)
        except StopIteration:
            self.problem(name, 1, "", "文件为空，缺少表头行")
            return
        except csv.Error as exc:
            self.problem(name, 1, "", f"表头无法解析：{exc}")
            return
        header = [h.strip().lower() for h in header]  # ` USCC` is the column uscc
        missing = [c for c in COLUMNS[name] if c not in header]
        for column in missing:
            self.problem(name, 1, column, "表头缺少该列")
        seen: set[str] = set()
        for column in header:
            if column in COLUMNS[name] and column in seen:
                self.problem(name, 1, column, "表头中该列重复")
            seen.add(column)
        if missing:
            return
        positions = [(c, header.index(c)) for c in COLUMNS[name]]
        width = len(header)
        while True:
            try:
                raw = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                self.problem(name, reader.line_num, "", f"该行无法解析：{exc}")
                return
            line = reader.line_num
            if not raw or (len(raw) == 1 and not raw[0].strip()):
                continue
            if len(raw) != width:
                self.problem(name, line, "", f"该行有{len(raw)}个字段，与表头的{width}列不一致")
                cells = {c: raw[i].strip() for c, i in positions if i < len(raw)}
                self.malformed.setdefault(name, []).append((line, cells))
                continue
            yield line, {c: raw[i].strip() for c, i in positions}

    def keep_malformed_keys(self, name: str, column: str, seen: dict[str, int]) -> None:
        """Add the keys of ``name``'s malformed rows to ``seen`` (see ``malformed``)."""
        for line, cells in self.malformed.get(name, ()):
            if cells.get(column):
                seen.setdefault(cells[column], line)

    def cell(
        self,
        name: str,
        line: int,
        row: dict[str, str],
        column: str,
        parse: Callable[[str], Any],
        *,
        required: bool,
    ) -> Any:
        value = row[column]
        if not value:
            if required:
                self.problem(name, line, column, "不能为空")
            return None
        try:
            return parse(value)
        except _CellError as exc:
            self.problem(name, line, column, str(exc))
            return None

    def required_text(self, name: str, line: int, row: dict[str, str], column: str) -> str:
        value = row[column]
        if not value:
            self.problem(name, line, column, "不能为空")
        return value

    def unique(
        self, name: str, line: int, column: str, key: str, seen: dict[str, int], label: str
    ) -> None:
        """Note ``key`` as first seen on ``line``, or report the line that already has it."""
        if not key:
            return
        if key in seen:
            self.problem(name, line, column, f"{label}“{key}”与第{seen[key]}行重复")
        else:
            seen[key] = line


def _manifest(reader: _Reader) -> dict[str, Any]:
    if not reader.source.exists(MANIFEST):
        reader.problem(MANIFEST, 0, "", "缺少必需的文件")
        return {}
    if reader.source.size(MANIFEST) > MAX_TABLE_BYTES:
        reader.problem(MANIFEST, 0, "", f"文件过大（超过 {MAX_TABLE_BYTES // 2**20} MB），未读取")
        return {}
    try:
        manifest = json.loads(reader.source.read_bytes(MANIFEST).decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        line = getattr(exc, "lineno", 0)
        reader.problem(MANIFEST, line, "", f"不是有效的 UTF-8 JSON：{exc}")
        return {}
    if not isinstance(manifest, dict):
        reader.problem(MANIFEST, 1, "", "内容应为 JSON 对象")
        return {}
    if manifest.get("format") != MANIFEST_FORMAT:
        reader.problem(
            MANIFEST, 0, "format", f"应为“{MANIFEST_FORMAT}”，实际为“{manifest.get('format')}”"
        )
    if manifest.get("version") != 1 or isinstance(manifest.get("version"), bool):
        reader.problem(MANIFEST, 0, "version", f"不支持的版本“{manifest.get('version')}”，应为 1")
    if "title" in manifest and not isinstance(manifest["title"], str):
        reader.problem(MANIFEST, 0, "title", "应为字符串")
    return manifest


def _safe_relative(file: str) -> str | None:
    """The photo path as a clean POSIX relative path, or None if it escapes the bundle."""
    path = PurePosixPath(file.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or not path.parts or ":" in path.parts[0]:
        return None
    return str(path)


def load_bundle(path: str | Path) -> Bundle:
    """Read and validate a bundle; raises :class:`BundleError` listing every problem."""
    bundle, problems = read_bundle(path)
    if problems:
        raise BundleError(problems)
    return bundle


def read_bundle(path: str | Path) -> tuple[Bundle, list[BundleProblem]]:
    """Read a bundle and check its rows, returning the rows that could be read and every problem
    found, so that a caller can add the photos' problems before reporting (the bundle is valid
    only when the list is empty). Raises :class:`BundleError` when there is no bundle to read."""
    root = Path(path)
    if not root.exists():
        raise BundleError([BundleProblem(str(root), 0, "", "数据包不存在")])
    if root.is_file() and not zipfile.is_zipfile(root):
        raise BundleError([BundleProblem(root.name, 0, "", "数据包应为文件夹或 .zip 文件")])
    source = _Source(root)
    try:
        return _load(source)
    finally:
        source.close()


def _load(source: _Source) -> tuple[Bundle, list[BundleProblem]]:
    r = _Reader(source)
    manifest = _manifest(r)

    enterprises: list[EnterpriseRow] = []
    seen_uscc: dict[str, int] = {}
    f = "enterprises.csv"
    for line, row in r.rows(f):
        uscc = r.required_text(f, line, row, "uscc")
        # The key the engine knows a party by (registry, graph, buyer and seller checks), so a
        # code written twice, once in groups or full-width, is one enterprise listed twice.
        r.unique(f, line, "uscc", tax_id(uscc), seen_uscc, "统一社会信用代码")
        enterprises.append(
            EnterpriseRow(
                uscc=uscc,
                name=row["name"],
                town=row["town"],
                industry_code=row["industry_code"],
                address=row["address"],
                phone=row["phone"],
                email=row["email"],
                established_on=r.cell(f, line, row, "established_on", parse_date, required=False),
                line=line,
            )
        )

    persons: list[PersonRow] = []
    person_keys: dict[str, int] = {}
    f = "persons.csv"
    for line, row in r.rows(f):
        key = r.required_text(f, line, row, "person_key")
        r.unique(f, line, "person_key", key, person_keys, "人员编号")
        persons.append(
            PersonRow(
                person_key=key,
                name=row["name"],
                id_number=row["id_number"],
                phone=row["phone"],
                email=row["email"],
                line=line,
            )
        )

    r.keep_malformed_keys(f, "person_key", person_keys)

    roles: list[RoleRow] = []
    f = "roles.csv"
    for line, row in r.rows(f):
        key = r.required_text(f, line, row, "person_key")
        if key and key not in person_keys:
            r.problem(f, line, "person_key", f"人员编号“{key}”在 persons.csv 中不存在")
        uscc = r.required_text(f, line, row, "uscc")
        role = r.required_text(f, line, row, "role").lower()  # as header names: any case
        if role and role not in ROLES:
            r.problem(f, line, "role", f"职务“{role}”无效，应为 {', '.join(ROLES)} 之一")
        roles.append(
            RoleRow(
                person_key=key,
                uscc=uscc,
                role=role,
                share_pct=r.cell(f, line, row, "share_pct", parse_pct, required=False),
                line=line,
            )
        )

    holdings: list[HoldingRow] = []
    f = "holdings.csv"
    for line, row in r.rows(f):
        holdings.append(
            HoldingRow(
                holder_uscc=r.required_text(f, line, row, "holder_uscc"),
                held_uscc=r.required_text(f, line, row, "held_uscc"),
                share_pct=r.cell(f, line, row, "share_pct", parse_pct, required=False),
                line=line,
            )
        )

    registry: list[RegistryRow] = []
    f = "registry.csv"
    for line, row in r.rows(f):
        kind = r.required_text(f, line, row, "list").lower()
        if kind and kind not in REGISTRY_LISTS:
            r.problem(f, line, "list", f"名单类型“{kind}”无效，应为 ineligible 或 blacklist")
        valid_from = r.cell(f, line, row, "valid_from", parse_date, required=True)
        valid_to = r.cell(f, line, row, "valid_to", parse_date, required=False)
        if valid_from and valid_to and valid_to < valid_from:
            r.problem(f, line, "valid_to", f"有效期止“{valid_to}”早于有效期起“{valid_from}”")
        registry.append(
            RegistryRow(
                uscc=r.required_text(f, line, row, "uscc"),
                list=kind,
                category=row["category"],
                reason=row["reason"],
                source=row["source"],
                valid_from=valid_from,
                valid_to=valid_to,
                line=line,
            )
        )

    applications: list[ApplicationRow] = []
    app_ids: dict[str, int] = {}
    f = "applications.csv"
    for line, row in r.rows(f):
        app_id = r.required_text(f, line, row, "application_id")
        r.unique(f, line, "application_id", app_id, app_ids, "申报编号")
        start = r.cell(f, line, row, "period_start", parse_date, required=True)
        end = r.cell(f, line, row, "period_end", parse_date, required=True)
        if start and end and end < start:
            r.problem(f, line, "period_end", f"项目期止“{end}”早于项目期起“{start}”")
        applications.append(
            ApplicationRow(
                application_id=app_id,
                uscc=row["uscc"],
                programme=row["programme"],
                title=row["title"],
                period_start=start,
                period_end=end,
                submitted_on=r.cell(f, line, row, "submitted_on", parse_date, required=True),
                amount_requested=r.cell(
                    f, line, row, "amount_requested", parse_money, required=False
                ),
                line=line,
            )
        )

    r.keep_malformed_keys(f, "application_id", app_ids)

    invoices: list[InvoiceRow] = []
    f = "invoices.csv"
    money_signed = _signed_money
    for line, row in r.rows(f):
        app_id = r.required_text(f, line, row, "application_id")
        if app_id and app_id not in app_ids:
            r.problem(f, line, "application_id", f"申报编号“{app_id}”在 applications.csv 中不存在")
        invoices.append(
            InvoiceRow(
                application_id=app_id,
                invoice_code=row["invoice_code"],
                invoice_number=r.required_text(f, line, row, "invoice_number"),
                issued_on=r.cell(f, line, row, "issued_on", parse_date, required=True),
                seller_tax_id=row["seller_tax_id"],
                seller_name=row["seller_name"],
                buyer_tax_id=row["buyer_tax_id"],
                buyer_name=row["buyer_name"],
                amount=r.cell(f, line, row, "amount", money_signed, required=True),
                tax=r.cell(f, line, row, "tax", money_signed, required=False),
                line=line,
            )
        )

    photos: list[PhotoRow] = []
    seen_photo: dict[tuple[str, str], int] = {}
    f = "photos.csv"
    for line, row in r.rows(f):
        app_id = r.required_text(f, line, row, "application_id")
        if app_id and app_id not in app_ids:
            r.problem(f, line, "application_id", f"申报编号“{app_id}”在 applications.csv 中不存在")
        file = r.required_text(f, line, row, "file")
        if not file:
            continue
        rel = _safe_relative(file)
        if rel is None:
            r.problem(f, line, "file", f"照片路径“{file}”必须是数据包内的相对路径")
            continue
        if not source.exists(rel):
            r.problem(f, line, "file", f"照片文件“{file}”不存在")
            continue
        if (app_id, rel) in seen_photo:  # the same photo listed twice: one photo, not a problem
            continue
        seen_photo[(app_id, rel)] = line
        photos.append(PhotoRow(application_id=app_id, file=file, caption=row["caption"], line=line))

    return Bundle(
        root=source.root,
        manifest=manifest,
        enterprises=tuple(enterprises),
        persons=tuple(persons),
        roles=tuple(roles),
        holdings=tuple(holdings),
        registry=tuple(registry),
        applications=tuple(applications),
        invoices=tuple(invoices),
        photos=tuple(photos),
        prefix=source.prefix,
    ), r.problems


def _signed_money(value: str) -> Decimal:
    """Invoice amounts may be negative (red-letter / credit invoices)."""
    return parse_money(value, allow_negative=True)
