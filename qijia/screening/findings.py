"""Finding identity: the subject that makes a finding unique per (application, kind, subject).

The same function is used for deduplication in the engine and for scoring against a truth file,
so the generator's truth and the engine's output are compared on exactly the same key.
"""

from __future__ import annotations

from typing import Any

from qijia.screening.normalize import invoice_part as normalize_invoice_part
from qijia.screening.normalize import tax_id


def _s(value: Any) -> str:
    return "" if value is None else str(value)


def finding_subject(kind: str, evidence: dict[str, Any]) -> str:
    """The subject of a finding of ``kind`` with ``evidence`` (see the shared screening contract)."""
    if kind == "invalid_uscc":
        return f"{_s(evidence.get('field'))}={_s(evidence.get('value'))}"
    if kind in ("ineligible_applicant", "blacklisted_applicant"):
        return (
            f"{_s(evidence.get('category'))}|{_s(evidence.get('source'))}|"
            f"{_s(evidence.get('valid_from'))}"
        )
    if kind == "duplicate_photo":
        return (
            f"{_s(evidence.get('file'))}|{_s(evidence.get('other_application_id'))}|"
            f"{_s(evidence.get('other_file'))}"
        )
    if kind in ("duplicate_invoice", "invoice_buyer_mismatch", "invoice_outside_period"):
        code = normalize_invoice_part(_s(evidence.get("invoice_code")))
        number = normalize_invoice_part(_s(evidence.get("invoice_number")))
        return f"{code}|{number}"
    if kind == "related_party_supplier":
        return tax_id(_s(evidence.get("seller_tax_id")))
    raise ValueError(f"unknown finding kind: {kind}")
