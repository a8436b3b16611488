"""Input rules for entries, shared by the services, the CSV import, the forms and the API.

Each check returns the clean value or records a Chinese message under the field's name, so one
pass reports every problem of a row at once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from qijia.core.identifiers import IdentifierError, validate_uscc

from .models import Category, ListKind

FIELD_LABELS = {
    "uscc": "统一社会信用代码",
    "enterprise_name": "企业名称",
    "list": "名单",
    "category": "类别",
    "reason": "列入事由",
    "document_ref": "文书编号",
    "valid_from": "生效日期",
    "valid_to": "截止日期",
    "source": "来源部门",
    "evidence": "证明材料",
}
MAX_LENGTHS = {"enterprise_name": 200, "reason": 2000, "document_ref": 200}
LIST_BY_LABEL = {str(label): value for value, label in ListKind.choices}


def _has_control_chars(text: str) -> bool:
    return any(ord(c) < 32 and c not in "\r\n\t" for c in text)


def clean_text(value: Any, name: str, errors: dict[str, str], *, required: bool = False) -> str:
    text = "" if value is None else str(value).strip()
    if required and not text:
        errors[name] = f"{FIELD_LABELS[name]}不能为空"
    elif _has_control_chars(text):
        errors[name] = f"{FIELD_LABELS[name]}含有不可见的控制字符"
    elif len(text) > MAX_LENGTHS.get(name, 2000):
        errors[name] = f"{FIELD_LABELS[name]}不能超过{MAX_LENGTHS.get(name, 2000)}个字符"
    return text


def clean_uscc(value: Any, errors: dict[str, str], name: str = "uscc") -> str:
    try:
        return validate_uscc(str(value or ""))
    except IdentifierError as exc:
        errors[name] = exc.message
        return ""


def clean_list(value: Any, errors: dict[str, str]) -> str:
    text = str(value or "").strip()
    if text in ListKind.values:
        return text
    if text in LIST_BY_LABEL:
        return LIST_BY_LABEL[text]
    errors["list"] = "名单应为 ineligible（不予资助）或 blacklist（失信黑名单）"
    return ""


def clean_category(
    value: Any, errors: dict[str, str], categories: dict[str, Category] | None = None
) -> Category | None:
    text = str(value or "").strip()
    if categories is None:
        categories = active_categories()
    found = categories.get(text)
    if found is None:
        codes = "、".join(
            f"{c.code}（{c.name}）" for c in {c.code: c for c in categories.values()}.values()
        )
        errors["category"] = f"类别“{text[:40]}”不在代码表中，可选：{codes}"
    return found


def active_categories() -> dict[str, Category]:
    """Active categories by code and by Chinese name (the CSV may use either)."""
    found: dict[str, Category] = {}
    for cat in Category.objects.filter(is_active=True):
        found[cat.code] = cat
        found[cat.name] = cat
    return found


def clean_date(value: Any, name: str, errors: dict[str, str], *, required: bool) -> dt.date | None:
    if value is None or value == "":
        if required:
            errors[name] = f"{FIELD_LABELS[name]}不能为空"
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip().replace("/", "-")
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        errors[name] = f"{FIELD_LABELS[name]}“{text[:20]}”不是有效日期，应为 YYYY-MM-DD"
        return None


def check_window(
    valid_from: dt.date | None, valid_to: dt.date | None, errors: dict[str, str]
) -> None:
    if valid_from and valid_to and valid_to < valid_from:
        errors["valid_to"] = "截止日期不能早于生效日期"
    if valid_from and not (dt.date(1990, 1, 1) <= valid_from <= dt.date(2200, 12, 31)):
        errors["valid_from"] = "生效日期应在1990年至2200年之间"
    if valid_to and not (dt.date(1990, 1, 1) <= valid_to <= dt.date(2200, 12, 31)):
        errors["valid_to"] = "截止日期应在1990年至2200年之间"
