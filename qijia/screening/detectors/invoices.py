"""Invoice rules: same invoice across applications, buyer mismatch, outside the project period,
and invalid USCCs (the applicant's code, and sellers' 18-character tax IDs).

Two rows are the same invoice when the normalised number AND the normalised code are equal (both
codes empty for fully digital e-invoices), so the same number under another code is a different
invoice. Grouping is one dict pass over string keys: O(n), ~1 s per million invoices.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from qijia.core.identifiers import IdentifierError, normalize_uscc, validate_uscc
from qijia.screening.model import ApplicationRow, Bundle, Finding, InvoiceRow
from qijia.screening.normalize import invoice_part, tax_id


def invoice_key(code: str, number: str) -> str:
    return f"{invoice_part(code)}|{invoice_part(number)}"


def _normalised(values: Sequence[str]) -> list[str]:
    return [v if v.isdigit() and v.isascii() else invoice_part(v) for v in values]


def duplicate_groups(
    codes: Sequence[str], numbers: Sequence[str], owners: Sequence[str]
) -> list[list[int]]:
    """Indices of rows sharing one invoice key, for each key held by >= 2 distinct owners.

    Keys are hashed and sorted in C (numpy); only rows whose hash repeats are grouped by their
    real key in Python, so two million invoices take about a second of CPU.
    """
    norm_codes, norm_numbers = _normalised(codes), _normalised(numbers)
    n = len(norm_numbers)
    if n < 2:
        return []
    # Hash every key in C, sort the hashes, and look only at rows whose hash repeats.
    hashes = np.fromiter(
        map(hash, zip(norm_codes, norm_numbers, strict=True)), dtype=np.int64, count=n
    )
    order = np.argsort(hashes, kind="stable")
    ordered = hashes[order]
    same = ordered[1:] == ordered[:-1]
    repeated = np.zeros(n, dtype=bool)
    repeated[1:] |= same
    repeated[:-1] |= same
    groups: dict[tuple[str, str], list[int]] = {}
    for i in np.sort(order[repeated]).tolist():
        groups.setdefault((norm_codes[i], norm_numbers[i]), []).append(i)
    return [g for g in groups.values() if len(g) > 1 and len({owners[i] for i in g}) > 1]


def _invoice_evidence(row: InvoiceRow) -> dict[str, Any]:
    return {
        "application_id": row.application_id,
        "invoice_code": invoice_part(row.invoice_code),
        "invoice_number": invoice_part(row.invoice_number),
        "issued_on": row.issued_on.isoformat() if row.issued_on else "",
        "seller_tax_id": row.seller_tax_id,
        "seller_name": row.seller_name,
        "buyer_tax_id": row.buyer_tax_id,
        "buyer_name": row.buyer_name,
        "amount": str(row.amount) if row.amount is not None else "",
        "tax": str(row.tax) if row.tax is not None else "",
        "line": row.line,
    }


def _label(row: InvoiceRow) -> str:
    code = invoice_part(row.invoice_code)
    number = invoice_part(row.invoice_number)
    return f"发票（代码{code}，号码{number}）" if code else f"数电发票（号码{number}）"


def detect_duplicates(bundle: Bundle) -> list[Finding]:
    invoices = bundle.invoices
    groups = duplicate_groups(
        [r.invoice_code for r in invoices],
        [r.invoice_number for r in invoices],
        [r.application_id for r in invoices],
    )
    findings: list[Finding] = []
    for group in groups:
        # one representative row per application (the first one in file order)
        by_app: dict[str, InvoiceRow] = {}
        for i in group:
            by_app.setdefault(invoices[i].application_id, invoices[i])
        for app_id, row in by_app.items():
            # The subject is the invoice: one finding per application however many others hold
            # it ("no repeats for the same ... invoice"); every other holder is in the evidence.
            others = sorted(other_id for other_id in by_app if other_id != app_id)
            listed = "、".join(others[:5]) + (f"等 {len(others)} 个申报" if len(others) > 5 else "")
            findings.append(
                Finding(
                    application_id=app_id,
                    kind="duplicate_invoice",
                    severity="high",
                    summary=f"{_label(row)}同时出现在申报 {listed} 中，疑似重复报销。",
                    evidence={
                        "invoice_code": invoice_part(row.invoice_code),
                        "invoice_number": invoice_part(row.invoice_number),
                        "other_application_id": others[0],
                        "other_application_ids": others,
                        "invoice": _invoice_evidence(row),
                        "other_invoice": _invoice_evidence(by_app[others[0]]),
                        "other_invoices": [_invoice_evidence(by_app[o]) for o in others],
                    },
                )
            )
    return findings


def detect_buyer_and_period(bundle: Bundle) -> list[Finding]:
    apps: dict[str, ApplicationRow] = {a.application_id: a for a in bundle.applications}
    findings: list[Finding] = []
    for row in bundle.invoices:
        app = apps[row.application_id]
        code = invoice_part(row.invoice_code)
        number = invoice_part(row.invoice_number)
        applicant = tax_id(app.uscc)
        if tax_id(row.buyer_tax_id) != applicant:
            buyer = row.buyer_tax_id or "（空）"
            findings.append(
                Finding(
                    application_id=app.application_id,
                    kind="invoice_buyer_mismatch",
                    severity="medium",
                    summary=f"{_label(row)}的购买方税号{buyer}不是申报单位的统一社会信用代码{applicant}。",
                    evidence={
                        "invoice_code": code,
                        "invoice_number": number,
                        "buyer_tax_id": row.buyer_tax_id,
                        "buyer_name": row.buyer_name,
                        "applicant_uscc": applicant,
                        "invoice": _invoice_evidence(row),
                    },
                )
            )
        start, end, issued = app.period_start, app.period_end, row.issued_on
        if start and end and issued and (issued < start or issued > end):
            findings.append(
                Finding(
                    application_id=app.application_id,
                    kind="invoice_outside_period",
                    severity="medium",
                    summary=(
                        f"{_label(row)}开具于{issued.isoformat()}，不在项目期"
                        f"{start.isoformat()}至{end.isoformat()}内。"
                    ),
                    evidence={
                        "invoice_code": code,
                        "invoice_number": number,
                        "issued_on": issued.isoformat(),
                        "period_start": start.isoformat(),
                        "period_end": end.isoformat(),
                        "invoice": _invoice_evidence(row),
                    },
                )
            )
    return findings


def uscc_problem(value: str) -> str | None:
    """The Chinese reason a code fails GB 32100, or None when it passes."""
    try:
        validate_uscc(value)
    except IdentifierError as exc:
        return exc.message
    return None


def detect_invalid_uscc(bundle: Bundle) -> list[Finding]:
    """A code is judged as identifiers.md checks it: trimmed and upper-cased, nothing else. A code
    typed with spaces or hyphens fails its format here, though matching (``tax_id``) still knows
    it as the same party."""
    findings: list[Finding] = []
    for app in bundle.applications:
        value = normalize_uscc(app.uscc)
        problem = uscc_problem(value)
        if problem:
            findings.append(
                Finding(
                    application_id=app.application_id,
                    kind="invalid_uscc",
                    severity="high",
                    summary=f"申报单位的统一社会信用代码“{value}”无效：{problem}。",
                    evidence={
                        "field": "uscc",
                        "value": value,
                        "problem": problem,
                        "party": "applicant",
                    },
                )
            )
    checked: dict[str, str | None] = {}
    for row in bundle.invoices:
        value = normalize_uscc(row.seller_tax_id)
        if len(value) != 18:
            continue
        if value not in checked:
            checked[value] = uscc_problem(value)
        problem = checked[value]
        if problem:
            findings.append(
                Finding(
                    application_id=row.application_id,
                    kind="invalid_uscc",
                    severity="medium",
                    summary=f"发票销售方税号“{value}”（{row.seller_name or '未注明名称'}）不是有效的统一社会信用代码：{problem}。",
                    evidence={
                        "field": "seller_tax_id",
                        "value": value,
                        "problem": problem,
                        "party": "seller",
                        "seller_name": row.seller_name,
                        "invoice_code": invoice_part(row.invoice_code),
                        "invoice_number": invoice_part(row.invoice_number),
                    },
                )
            )
    return findings
