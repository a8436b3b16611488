"""Identifier rules from shared/specs/identifiers.md.

Plain Python with no Django imports: the screening engine, the importers, the forms and the API
all call these. A validator returns the normalised value or raises IdentifierError, whose message
(Chinese) says which rule failed; callers add the field, file and line.
"""

from __future__ import annotations

import datetime as _dt
import re

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_VALUE = {c: i for i, c in enumerate(USCC_ALPHABET)}

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
_ID_RE = re.compile(r"^\d{17}[\dX]$")


class IdentifierError(ValueError):
    """A value that breaks an identifier rule. ``code`` is stable, ``message`` is Chinese."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


# --- USCC (GB 32100-2015) -------------------------------------------------------------------


def uscc_check_char(first17: str) -> str:
    """The check character for the first 17 characters of a USCC (already upper case)."""
    total = sum(_USCC_VALUE[c] * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    value = 31 - total % 31
    return USCC_ALPHABET[0 if value == 31 else value]


def normalize_uscc(value: str) -> str:
    return (value or "").strip().upper()


def validate_uscc(value: str) -> str:
    """Return the normalised USCC or raise IdentifierError naming the broken rule."""
    code = normalize_uscc(value)
    if not code:
        raise IdentifierError("uscc_empty", "统一社会信用代码不能为空")
    if len(code) != 18:
        raise IdentifierError("uscc_length", f"统一社会信用代码应为18位，实际为{len(code)}位")
    bad = [c for c in code if c not in _USCC_VALUE]
    if bad:
        raise IdentifierError(
            "uscc_charset",
            f"统一社会信用代码含有不允许的字符“{bad[0]}”（不得使用 I、O、Z、S、V 及小写以外的符号）",
        )
    if not code[2:8].isdigit():
        raise IdentifierError("uscc_division", "统一社会信用代码第3至8位应为行政区划代码（数字）")
    expected = uscc_check_char(code[:17])
    if code[17] != expected:
        raise IdentifierError(
            "uscc_check", f"统一社会信用代码校验位错误：应为“{expected}”，实际为“{code[17]}”"
        )
    return code


def is_valid_uscc(value: str) -> bool:
    try:
        validate_uscc(value)
    except IdentifierError:
        return False
    return True


# --- Resident identity number (GB 11643-1999) ------------------------------------------------


def id_check_char(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK[total % 11]


def normalize_id_number(value: str) -> str:
    return (value or "").strip().replace(" ", "").upper()


def validate_id_number(value: str, *, today: _dt.date | None = None) -> str:
    """Return the normalised identity number or raise IdentifierError."""
    number = normalize_id_number(value)
    if not number:
        raise IdentifierError("id_empty", "身份证号码不能为空")
    if len(number) != 18:
        raise IdentifierError("id_length", f"身份证号码应为18位，实际为{len(number)}位")
    if not _ID_RE.match(number):
        raise IdentifierError("id_charset", "身份证号码前17位应为数字，最后一位为数字或X")
    try:
        birth = _dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise IdentifierError(
            "id_birth_date", f"身份证号码中的出生日期“{number[6:14]}”不是有效日期"
        ) from None
    if birth > (today or _dt.date.today()):
        raise IdentifierError("id_birth_future", "身份证号码中的出生日期晚于今天")
    expected = id_check_char(number[:17])
    if number[17] != expected:
        raise IdentifierError(
            "id_check", f"身份证号码校验位错误：应为“{expected}”，实际为“{number[17]}”"
        )
    return number


def is_valid_id_number(value: str) -> bool:
    try:
        validate_id_number(value)
    except IdentifierError:
        return False
    return True


def mask_id_number(number: str) -> str:
    """440524********0014: the address code and the last four, nothing of the birth date."""
    number = normalize_id_number(number)
    if len(number) < 10:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


# --- Invoices ---------------------------------------------------------------------------------

_INVOICE_STRIP = re.compile(r"[\s\-－—_]+")


def normalize_invoice_part(value: str) -> str:
    """Remove spaces and hyphens (typed or from OCR); keep leading zeros."""
    return _INVOICE_STRIP.sub("", value or "")


def validate_invoice(code: str, number: str) -> tuple[str, str]:
    """Validate an (invoice code, invoice number) pair; returns both normalised.

    Paper/older e-invoices: code of 10 or 12 digits plus an 8-digit number.
    Fully digital e-invoices (数电发票): a 20-digit number and no code.
    """
    code_n, number_n = normalize_invoice_part(code), normalize_invoice_part(number)
    if not number_n:
        raise IdentifierError("invoice_number_empty", "发票号码不能为空")
    if not number_n.isdigit():
        raise IdentifierError("invoice_number_digits", "发票号码只能由数字组成")
    if code_n:
        if not code_n.isdigit() or len(code_n) not in (10, 12):
            raise IdentifierError("invoice_code_format", "发票代码应为10位或12位数字")
        if len(number_n) != 8:
            raise IdentifierError(
                "invoice_number_length", f"有发票代码时发票号码应为8位，实际为{len(number_n)}位"
            )
    elif len(number_n) != 20:
        raise IdentifierError(
            "invoice_number_length", f"数电发票号码应为20位，实际为{len(number_n)}位"
        )
    return code_n, number_n


# --- Phones and e-mail ------------------------------------------------------------------------

_PHONE_STRIP = re.compile(r"[\s\-()（）.]+")


def normalize_phone(value: str) -> str:
    """Spaces, hyphens and brackets go, and so does a leading +86 / 0086. A landline written
    internationally drops its area code's trunk 0 (+86 769 2283 1234); it gets it back, as
    landlines keep their area code with the 0 (0769 for Dongguan), so both forms are one number.
    Mobiles (11 digits from 1), service numbers (400/800) and short numbers are left as they are.
    """
    phone = _PHONE_STRIP.sub("", value or "")
    international = phone.startswith(("+86", "0086"))
    if phone.startswith("+86"):
        phone = phone[3:]
    elif phone.startswith("0086"):
        phone = phone[4:]
    elif phone.startswith("86") and len(phone) == 13 and phone[2] == "1":
        phone = phone[2:]
    if (
        international
        and phone.isdigit()
        and 9 <= len(phone) <= 11
        and not phone.startswith(("0", "400", "800"))
        and not (len(phone) == 11 and phone.startswith("1"))
    ):
        phone = "0" + phone
    return phone


def normalize_email(value: str) -> str:
    return (value or "").strip().lower()
