"""Normalisation used for matching (identifiers.md), with fast paths for already-clean values.

The core rules live in :mod:`qijia.core.identifiers`; this module only adds the screening's
tax-ID rule and skips the regex when a value is already clean, which matters at millions of rows.
"""

from __future__ import annotations

import re
import unicodedata

from qijia.core import identifiers
from qijia.core.identifiers import is_valid_uscc, normalize_invoice_part

__all__ = [
    "invoice_part",
    "is_valid_uscc",
    "normalize_email",
    "normalize_id_number",
    "normalize_phone",
    "tax_id",
]

_TAX_STRIP = re.compile(r"[\s\-－—_]+")


def _ascii(value: str) -> str:
    """Full-width digits, letters, hyphens and brackets (typed with a Chinese IME) to ASCII."""
    return value if value.isascii() else unicodedata.normalize("NFKC", value)


def invoice_part(value: str) -> str:
    """Invoice code or number without spaces/hyphens; leading zeros kept (a string, never an int)."""
    if value.isdigit() and value.isascii():
        return value
    return normalize_invoice_part(_ascii(value or ""))


def tax_id(value: str) -> str:
    """A taxpayer ID / USCC for comparison: trimmed, upper case, spaces and hyphens removed."""
    if value.isalnum() and value.isascii():
        return value.upper()
    return _TAX_STRIP.sub("", _ascii(value or "")).upper()


def normalize_phone(value: str) -> str:
    """identifiers.md phone rule, after folding full-width characters to ASCII."""
    if value.isdigit() and value.isascii() and not value.startswith(("86", "0086")):
        return value
    return identifiers.normalize_phone(_ascii(value or ""))


def normalize_email(value: str) -> str:
    return identifiers.normalize_email(_ascii(value or ""))


def normalize_id_number(value: str) -> str:
    return identifiers.normalize_id_number(_ascii(value or ""))
