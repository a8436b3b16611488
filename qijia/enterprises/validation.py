"""Field rules of the registry, shared by the services (forms, API) and the importer.

One ``Column`` per field: its key (the model field), its Chinese header (what people type in a
spreadsheet), whether it is required and how a raw value (text from CSV, a typed cell from XLSX,
or a Python value from a form) becomes a clean one. A rule that fails raises ``CellError`` with a
Chinese message; the caller adds the field, row and file. Keeping one rule set means a value that
the import accepts is exactly a value the services accept.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email

from qijia.core import identifiers
from qijia.core.errors import ValidationFailed

from .models import EnterpriseStatus, PersonRoleKind, SizeClass


class CellError(ValueError):
    """A value that breaks a field rule; ``message`` is Chinese and says why."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class Lookups:
    """Reference data a row is checked against, loaded once per import or service call."""

    towns: dict[str, int]  # town name or code -> OrgUnit id
    industries: dict[str, str]  # code or name -> code

    @classmethod
    def load(cls) -> Lookups:
        from qijia.identity.models import OrgUnit
        from qijia.identity.roles import TOWN_KINDS

        from .models import Industry

        towns: dict[str, int] = {}
        for pk, name, code in OrgUnit.objects.filter(kind__in=TOWN_KINDS).values_list(
            "pk", "name", "code"
        ):
            towns[name] = pk
            towns[code] = pk
        industries: dict[str, str] = {}
        for code, name in Industry.objects.values_list("code", "name"):
            industries[code.upper()] = code
            industries[name] = code
            industries[f"{code} {name}".upper()] = code
        return cls(towns=towns, industries=industries)


Parser = Callable[[Any, Lookups], Any]


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    parse: Parser
    required: bool = False
    empty: Any = ""

    @property
    def aliases(self) -> set[str]:
        """Header spellings accepted for this column: the Chinese label or the field key."""
        return {self.label, self.key, self.key.replace("_", " ")}


def is_blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def clean_value(column: Column, raw: Any, lookups: Lookups) -> Any:
    if is_blank(raw):
        if column.required:
            raise CellError("必填项不能为空")
        return column.empty
    return column.parse(raw, lookups)


def clean_values(
    columns: Iterable[Column], raw: Mapping[str, Any], lookups: Lookups, *, partial: bool = False
) -> tuple[dict[str, Any], dict[str, str]]:
    """Clean every column present in ``raw`` (all columns unless ``partial``).

    Returns (clean values, errors by key); a key is in exactly one of them."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for column in columns:
        if partial and column.key not in raw:
            continue
        try:
            values[column.key] = clean_value(column, raw.get(column.key), lookups)
        except CellError as exc:
            errors[column.key] = exc.message
    return values, errors


def clean_or_raise(
    columns: Iterable[Column], raw: Mapping[str, Any], lookups: Lookups, *, partial: bool = False
) -> dict[str, Any]:
    """For services: the clean values, or ValidationFailed naming every bad field."""
    columns = list(columns)
    known = {c.key for c in columns}
    unknown = sorted(set(raw) - known)
    values, errors = clean_values(columns, raw, lookups, partial=partial)
    for key in unknown:
        errors[key] = "未知字段"
    if errors:
        labels = {c.key: c.label for c in columns}
        first = next(iter(errors))
        raise ValidationFailed(
            f"{labels.get(first, first)}：{errors[first]}"
            + (f"（另有{len(errors) - 1}处错误）" if len(errors) > 1 else ""),
            code="validation_failed",
            fields=errors,
        )
    return values


# --- parsers -----------------------------------------------------------------------------------


def _text_of(raw: Any) -> str:
    if isinstance(raw, bool):
        raise CellError("应为文本")
    if isinstance(raw, float):
        if raw.is_integer():
            return str(int(raw))
        return repr(raw)
    return str(raw).strip()


def text(max_length: int) -> Parser:
    def parse(raw: Any, lookups: Lookups) -> str:
        value = _text_of(raw)
        if len(value) > max_length:
            raise CellError(f"长度不能超过{max_length}个字符（实际{len(value)}个）")
        return value

    return parse


def _identifier_text(raw: Any, what: str) -> str:
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        # An 18-digit code typed into a number cell has already lost its last digits in Excel.
        raise CellError(f"{what}是数字格式，18位代码会丢失精度，请将该列设置为文本格式后重新填写")
    return str(raw)


def uscc(raw: Any, lookups: Lookups) -> str:
    try:
        return identifiers.validate_uscc(_identifier_text(raw, "统一社会信用代码"))
    except identifiers.IdentifierError as exc:
        raise CellError(exc.message) from None


def id_number(raw: Any, lookups: Lookups) -> str:
    try:
        return identifiers.validate_id_number(_identifier_text(raw, "身份证号码"))
    except identifiers.IdentifierError as exc:
        raise CellError(exc.message) from None


def town(raw: Any, lookups: Lookups) -> int:
    if hasattr(raw, "pk") and hasattr(raw, "kind"):
        raw = raw.name
    name = _text_of(raw)
    pk = lookups.towns.get(name)
    if pk is None:
        raise CellError(f"“{name}”不是东莞市的镇街或功能区名称")
    return pk


def industry(raw: Any, lookups: Lookups) -> str:
    if hasattr(raw, "code") and hasattr(raw, "name"):
        raw = raw.code
    value = _text_of(raw)
    code = lookups.industries.get(value.upper()) or lookups.industries.get(value)
    if code is None and re.fullmatch(r"\d{2}", value):
        code = lookups.industries.get(f"C{value}")
    if code is None:
        raise CellError(f"“{value}”不是国民经济行业分类（GB/T 4754）的制造业大类代码，如 C39")
    return code


def choice(choices: Any, what: str) -> Parser:
    by_label = {str(label): value for value, label in choices.choices}

    def parse(raw: Any, lookups: Lookups) -> str:
        value = _text_of(raw)
        if value in choices.values:
            return value
        if value.lower() in choices.values:
            return value.lower()
        if value in by_label:
            return by_label[value]
        allowed = "、".join(str(label) for _, label in choices.choices)
        raise CellError(f"“{value}”不是有效的{what}，可选：{allowed}")

    return parse


_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d", "%Y年%m月%d日")
_MONTH_FORMATS = ("%Y-%m", "%Y/%m", "%Y%m", "%Y.%m", "%Y年%m月")


def _strptime_any(text_value: str, formats: tuple[str, ...]) -> dt.date | None:
    for fmt in formats:
        try:
            return dt.datetime.strptime(text_value, fmt).date()
        except ValueError:
            continue
    return None


def date(raw: Any, lookups: Lookups) -> dt.date:
    value: dt.date | None
    if isinstance(raw, dt.datetime):
        value = raw.date()
    elif isinstance(raw, dt.date):
        value = raw
    else:
        value = _strptime_any(_text_of(raw), _DATE_FORMATS)
    if value is None:
        raise CellError(f"“{_text_of(raw)}”不是有效日期，应为 YYYY-MM-DD")
    if value > dt.date.today():
        raise CellError(f"日期 {value.isoformat()} 晚于今天")
    if value.year < 1900:
        raise CellError(f"日期 {value.isoformat()} 早于1900年")
    return value


def month(raw: Any, lookups: Lookups) -> dt.date:
    """A month as its first day; accepts 2024-03, 2024/03, 202403, 2024年3月 or a first-day date."""
    if isinstance(raw, dt.datetime):
        raw = raw.date()
    value: dt.date | None
    if isinstance(raw, dt.date):
        if raw.day != 1:
            raise CellError(f"月份应为该月第一天或 YYYY-MM，实际为 {raw.isoformat()}")
        value = raw
    else:
        text_value = _text_of(raw)
        value = _strptime_any(text_value, _MONTH_FORMATS)
        if value is None:
            try:
                parsed = dt.datetime.strptime(text_value, "%Y-%m-%d").date()
            except ValueError:
                raise CellError(f"“{text_value}”不是有效月份，应为 YYYY-MM") from None
            if parsed.day != 1:
                raise CellError(f"月份应为该月第一天或 YYYY-MM，实际为 {text_value}")
            value = parsed
    if value is None:  # pragma: no cover - every branch above sets it or raises
        raise CellError("不是有效月份，应为 YYYY-MM")
    today = dt.date.today()
    if value > today.replace(day=1):
        raise CellError(f"月份 {value:%Y-%m} 尚未到来")
    if value.year < 1990:
        raise CellError(f"月份 {value:%Y-%m} 早于1990年")
    return value


def decimal(
    max_digits: int,
    places: int,
    *,
    minimum: Decimal | None = Decimal(0),
    maximum: Decimal | None = None,
    exclusive_minimum: bool = False,
) -> Parser:
    limit = Decimal(10) ** (max_digits - places)

    def parse(raw: Any, lookups: Lookups) -> Decimal:
        if isinstance(raw, bool):
            raise CellError("应为数字")
        try:
            if isinstance(raw, float):
                value = Decimal(repr(raw))
            elif isinstance(raw, (int, Decimal)):
                value = Decimal(raw)
            else:
                value = Decimal(_text_of(raw).replace(",", "").replace("，", ""))
        except InvalidOperation:
            raise CellError(f"“{raw}”不是数字") from None
        if not value.is_finite():
            raise CellError(f"“{raw}”不是数字")
        quantized = value.quantize(Decimal(1).scaleb(-places))
        if quantized != value:
            raise CellError(f"最多保留{places}位小数（实际为 {raw}）")
        if abs(quantized) >= limit:
            raise CellError(f"数值过大（最多{max_digits - places}位整数）")
        if minimum is not None:
            if exclusive_minimum and quantized <= minimum:
                raise CellError(f"应大于{minimum}")
            if quantized < minimum:
                raise CellError(f"不能小于{minimum}")
        if maximum is not None and quantized > maximum:
            raise CellError(f"不能大于{maximum}")
        return quantized

    return parse


def whole_number(maximum: int = 2_147_483_647) -> Parser:
    def parse(raw: Any, lookups: Lookups) -> int:
        if isinstance(raw, bool):
            raise CellError("应为整数")
        if isinstance(raw, float) and raw.is_integer():
            raw = int(raw)
        if isinstance(raw, int):
            value = raw
        else:
            text_value = _text_of(raw).replace(",", "")
            if not re.fullmatch(r"\d+", text_value):
                raise CellError(f"“{text_value}”不是非负整数")
            value = int(text_value)
        if value < 0:
            raise CellError("不能为负数")
        if value > maximum:
            raise CellError(f"不能大于{maximum}")
        return value

    return parse


def phone(raw: Any, lookups: Lookups) -> str:
    value = identifiers.normalize_phone(_text_of(raw))
    if not re.fullmatch(r"\d{7,15}", value):
        raise CellError(f"“{raw}”不是有效的电话号码（7至15位数字，可含区号）")
    if len(value) == 11 and value[0] not in "01":
        raise CellError(f"“{raw}”不是有效的手机号码（11位手机号以1开头）")
    return value


def email(raw: Any, lookups: Lookups) -> str:
    value = identifiers.normalize_email(_text_of(raw))
    try:
        validate_email(value)
    except DjangoValidationError:
        raise CellError(f"“{value}”不是有效的电子邮箱地址") from None
    if len(value) > 254:
        raise CellError("电子邮箱地址过长")
    return value


# --- columns per kind ----------------------------------------------------------------------------

SHARE = decimal(7, 4, minimum=Decimal(0), maximum=Decimal(100), exclusive_minimum=True)
MONEY = decimal(16, 2, minimum=None)
NON_NEGATIVE_16_2 = decimal(16, 2)

ENTERPRISE_COLUMNS: tuple[Column, ...] = (
    Column("uscc", "统一社会信用代码", uscc, required=True),
    Column("name", "企业名称", text(200), required=True),
    Column("town", "镇街", town, required=True, empty=None),
    Column("industry", "行业代码", industry, empty=None),
    Column("address", "地址", text(300)),
    Column("phone", "电话", phone),
    Column("email", "电子邮箱", email),
    Column("established_on", "成立日期", date, empty=None),
    Column("size_class", "规模", choice(SizeClass, "企业规模")),
    Column(
        "status", "经营状态", choice(EnterpriseStatus, "经营状态"), empty=EnterpriseStatus.ACTIVE
    ),
)

PERSON_COLUMNS: tuple[Column, ...] = (
    Column("id_number", "身份证号码", id_number, required=True),
    Column("name", "姓名", text(50), required=True),
    Column("phone", "手机号", phone),
    Column("email", "电子邮箱", email),
)

ROLE_COLUMNS: tuple[Column, ...] = (
    Column("id_number", "身份证号码", id_number, required=True),
    Column("uscc", "统一社会信用代码", uscc, required=True),
    Column("role", "职务", choice(PersonRoleKind, "职务"), required=True),
    Column("share_pct", "持股比例(%)", SHARE, empty=None),
)

HOLDING_COLUMNS: tuple[Column, ...] = (
    Column("holder_uscc", "持股企业统一社会信用代码", uscc, required=True),
    Column("held_uscc", "被持股企业统一社会信用代码", uscc, required=True),
    Column("share_pct", "持股比例(%)", SHARE, required=True, empty=None),
)

INDICATOR_MEASURES: tuple[Column, ...] = (
    Column("industrial_output", "工业总产值(万元)", NON_NEGATIVE_16_2, empty=None),
    Column("revenue", "营业收入(万元)", NON_NEGATIVE_16_2, empty=None),
    Column("value_added", "工业增加值(万元)", MONEY, empty=None),
    Column("tax_paid", "纳税额(万元)", MONEY, empty=None),
    Column("employees", "从业人员(人)", whole_number(), empty=None),
    Column("electricity_kwh", "用电量(千瓦时)", NON_NEGATIVE_16_2, empty=None),
    Column("energy_tce", "综合能耗(吨标准煤)", decimal(14, 3), empty=None),
    Column("rnd_spend", "研发投入(万元)", NON_NEGATIVE_16_2, empty=None),
    Column("land_mu", "用地面积(亩)", decimal(12, 2), empty=None),
)

INDICATOR_COLUMNS: tuple[Column, ...] = (
    Column("uscc", "统一社会信用代码", uscc, required=True),
    Column("month", "月份", month, required=True, empty=None),
    *INDICATOR_MEASURES,
)


def share_rule(role: str | None, share_pct: Decimal | None) -> str | None:
    """A share percentage belongs to shareholders only (the model's check constraint says so too)."""
    if share_pct is not None and role != PersonRoleKind.SHAREHOLDER:
        return "只有股东可以填写持股比例"
    return None
