"""Identifier factories for synthetic data: every value is valid (or broken on purpose) and unique.

Uniqueness is what keeps the generated truth exact: two unrelated enterprises must never share a
phone number or a person's identity number by accident, or the relationship rule would relate
them. Every factory therefore remembers what it issued. Check characters come from
:mod:`qijia.core.identifiers`, the same code the platform validates with.
"""

from __future__ import annotations

import datetime as dt
import random

from qijia.core.identifiers import USCC_ALPHABET, id_check_char, uscc_check_char

from .vocab import ID_AREAS, MAIL_DOMAINS, MOBILE_PREFIXES

_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
# Position 9-10 "MA" codes (new registrations since 2016) use letters and digits after "MA".
_MA_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_FORBIDDEN = "IOZSV"


def org_code_check(body8: str) -> str:
    """GB 11714 check character of an organisation code (used inside older USCCs)."""
    total = sum(int(c, 36) * w for c, w in zip(body8, _ORG_WEIGHTS, strict=True))
    value = 11 - total % 11
    return {10: "X", 11: "0"}.get(value, str(value))


class Identifiers:
    """Issues unique USCCs, identity numbers, phones, e-mails and invoice numbers."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self._uscc: set[str] = set()
        self._ids: set[str] = set()
        self._phones: set[str] = set()
        self._emails: set[str] = set()
        self._invoices: set[tuple[str, str]] = set()
        self._mail_domains = [d for d, _ in MAIL_DOMAINS]
        self._mail_weights = [w for _, w in MAIL_DOMAINS]

    # --- USCC -------------------------------------------------------------------------------

    def uscc(self, division: str = "441900", kind: str = "91", modern: bool | None = None) -> str:
        """A valid, never-issued USCC (``kind``: 91 enterprise, 92 individual business)."""
        rng = self.rng
        if modern is None:
            modern = rng.random() < 0.7
        while True:
            if modern:
                body = "MA" + "".join(rng.choice(_MA_CHARS) for _ in range(7))
            else:
                digits = f"{rng.randrange(10**8):08d}"
                body = digits + org_code_check(digits)
            first17 = kind + division + body
            code = first17 + uscc_check_char(first17)
            if code not in self._uscc:
                self._uscc.add(code)
                return code

    def reserve_uscc(self, code: str) -> None:
        """Remember a code issued elsewhere (a deliberately broken one) so it is never reused."""
        self._uscc.add(code)

    def broken_uscc(self, how: str, division: str = "441900") -> str:
        """An 18/17-character code that fails GB 32100 in the way ``how`` names.

        ``check``: wrong check character; ``charset``: a forbidden letter (I, O, Z, S, V) in the
        body; ``length``: 17 characters (the check character dropped).
        """
        valid = self.uscc(division=division)
        if how == "check":
            wrong = [c for c in USCC_ALPHABET if c != valid[17]]
            code = valid[:17] + self.rng.choice(wrong)
        elif how == "charset":
            pos = self.rng.randrange(10, 17)
            code = valid[:pos] + self.rng.choice(_FORBIDDEN) + valid[pos + 1 :]
        elif how == "length":
            code = valid[:17]
        else:
            raise ValueError(f"unknown breakage {how!r}")
        self._uscc.add(code)
        return code

    def old_tax_id(self) -> str:
        """A 15-digit pre-2015 taxpayer number (not a USCC, so not checked as one)."""
        while True:
            code = "441900" + f"{self.rng.randrange(10**9):09d}"
            if code not in self._uscc:
                self._uscc.add(code)
                return code

    # --- resident identity numbers -----------------------------------------------------------

    def id_number(self, born_from: int = 1958, born_to: int = 2002, sex: str | None = None) -> str:
        rng = self.rng
        while True:
            area = rng.choice(ID_AREAS)
            birth = dt.date(born_from, 1, 1) + dt.timedelta(
                days=rng.randrange((dt.date(born_to, 12, 31) - dt.date(born_from, 1, 1)).days)
            )
            seq = rng.randrange(1, 1000)
            if sex == "m" and seq % 2 == 0:
                seq = seq - 1 if seq > 1 else 1
            elif sex == "f" and seq % 2 == 1:
                seq = seq + 1 if seq < 998 else 998
            first17 = f"{area}{birth:%Y%m%d}{seq:03d}"
            number = first17 + id_check_char(first17)
            if number not in self._ids:
                self._ids.add(number)
                return number

    # --- phones and e-mail ---------------------------------------------------------------------

    def mobile(self) -> str:
        while True:
            number = self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            if number not in self._phones:
                self._phones.add(number)
                return number

    def landline(self) -> str:
        """A Dongguan fixed line, normalised form ``0769XXXXXXXX``."""
        while True:
            number = "0769" + self.rng.choice("2283") + f"{self.rng.randrange(10**7):07d}"
            if number not in self._phones:
                self._phones.add(number)
                return number

    def person_email(self, pinyin: str, birth_year: int | None = None) -> str:
        rng = self.rng
        while True:
            style = rng.random()
            domain = rng.choices(self._mail_domains, self._mail_weights)[0]
            if style < 0.35 and domain == "qq.com":
                local = str(rng.randrange(10**7, 3 * 10**9))
            elif style < 0.7 and birth_year:
                local = f"{pinyin}{birth_year}"
            else:
                local = f"{pinyin}{rng.randrange(1, 10**4)}"
            email = f"{local}@{domain}"
            if email not in self._emails:
                self._emails.add(email)
                return email

    def company_email(self, brand_pinyin: str, tld: str = "com") -> str:
        rng = self.rng
        while True:
            box = rng.choice(("info", "sales", "hr", "admin", "service", "office", "finance"))
            suffix = "" if rng.random() < 0.5 else str(rng.randrange(1, 1000))
            email = f"{box}@{brand_pinyin}{suffix}.{tld}"
            if email not in self._emails:
                self._emails.add(email)
                return email

    def reserve_email(self, email: str) -> bool:
        """Claim ``email`` (already normalised); False when it was issued before."""
        if email in self._emails:
            return False
        self._emails.add(email)
        return True

    # --- invoices -----------------------------------------------------------------------------

    def paper_invoice(self, year: int, twelve: bool | None = None) -> tuple[str, str]:
        """(code, number) of a paper / older electronic VAT invoice: 10 or 12-digit code."""
        rng = self.rng
        if twelve is None:
            twelve = rng.random() < 0.5
        while True:
            yy = year % 100
            if twelve:
                code = f"0440019{yy:02d}{rng.randrange(1000):03d}"  # 12 digits
            else:
                code = f"4400{yy:02d}{rng.randrange(10**4):04d}"  # 10 digits
            number = f"{rng.randrange(10**8):08d}"
            if (code, number) not in self._invoices:
                self._invoices.add((code, number))
                return code, number

    def digital_invoice(self, year: int) -> tuple[str, str]:
        """('', number) of a fully digital e-invoice: 20 digits, no code."""
        rng = self.rng
        while True:
            number = f"{year % 100:02d}44200000{rng.randrange(10**10):010d}"
            if ("", number) not in self._invoices:
                self._invoices.add(("", number))
                return "", number

    def claim_invoice(self, code: str, number: str) -> bool:
        """Claim a specific (normalised) invoice key; False when it was issued before."""
        if (code, number) in self._invoices:
            return False
        self._invoices.add((code, number))
        return True


# --- how people type things (all of these normalise to the same value) ------------------------


def typed_mobile(number: str, rng: random.Random) -> str:
    style = rng.randrange(7)
    if style == 0:
        return f"{number[:3]}-{number[3:7]}-{number[7:]}"
    if style == 1:
        return f"{number[:3]} {number[3:7]} {number[7:]}"
    if style == 2:
        return f"+86 {number}"
    if style == 3:
        return f"+86-{number[:3]}-{number[3:7]}-{number[7:]}"
    if style == 4:
        return f"0086{number}"
    return number


def typed_landline(number: str, rng: random.Random) -> str:
    area, local = number[:4], number[4:]
    style = rng.randrange(5)
    if style == 0:
        return f"({area}){local}"
    if style == 1:
        return f"{area} {local[:4]} {local[4:]}"
    if style == 2:
        return number
    return f"{area}-{local}"


def typed_phone(number: str, rng: random.Random) -> str:
    return typed_landline(number, rng) if number.startswith("0") else typed_mobile(number, rng)


def typed_email(email: str, rng: random.Random) -> str:
    style = rng.randrange(4)
    if style == 0:
        return email.upper()
    if style == 1:
        return email[:1].upper() + email[1:]
    return email


def typed_id_number(number: str, rng: random.Random) -> str:
    """Lower-case x or spaces after the address code and the birth date, as clerks type them."""
    style = rng.randrange(3)
    if style == 0 and number.endswith("X"):
        return number[:-1] + "x"
    if style == 1:
        return f"{number[:6]} {number[6:14]} {number[14:]}"
    return number.lower() if number.endswith("X") else number


def typed_invoice_part(value: str, rng: random.Random) -> str:
    """Spaces or hyphens every four digits, as people and OCR type them."""
    if len(value) < 6:
        return value
    sep = rng.choice((" ", "-", " - "))
    return sep.join(value[i : i + 4] for i in range(0, len(value), 4))
