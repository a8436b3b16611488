"""Build small hand-made bundles in a temporary folder: one helper call per test.

Rows are dicts; missing columns are filled with sensible valid defaults, so a test states only
what its rule is about.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from qijia.core.identifiers import id_check_char, uscc_check_char
from qijia.screening.bundle import COLUMNS

APP_DEFAULTS = {
    "programme": "技术改造",
    "title": "产线升级",
    "period_start": "2024-01-01",
    "period_end": "2024-12-31",
    "submitted_on": "2025-01-15",
    "amount_requested": "100000.00",
}
INVOICE_DEFAULTS = {
    "invoice_code": "",
    "issued_on": "2024-06-01",
    "seller_name": "供应商",
    "buyer_name": "申报单位",
    "amount": "1000.00",
    "tax": "130.00",
}


def uscc(n: int, body: str = "91441900") -> str:
    """A valid USCC, distinct for each n."""
    first17 = body + f"{n:09d}"
    return first17 + uscc_check_char(first17)


def bad_uscc(n: int) -> str:
    """18 characters that fail only the check character."""
    good = uscc(n)
    return good[:17] + ("0" if good[17] != "0" else "1")


def id_number(n: int, birth: str = "19800101") -> str:
    first17 = "441900" + birth + f"{n:03d}"
    return first17 + id_check_char(first17)


def _csv(columns: tuple[str, ...], rows: list[dict[str, Any]], bom: bool) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else row.get(c, "") for c in columns])
    return ("\ufeff" if bom else "") + out.getvalue()


def write_bundle(
    root: Path,
    *,
    enterprises: list[dict[str, Any]] | None = None,
    persons: list[dict[str, Any]] | None = None,
    roles: list[dict[str, Any]] | None = None,
    holdings: list[dict[str, Any]] | None = None,
    registry: list[dict[str, Any]] | None = None,
    applications: list[dict[str, Any]] | None = None,
    invoices: list[dict[str, Any]] | None = None,
    photos: list[dict[str, Any]] | None = None,
    images: dict[str, bytes] | None = None,
    manifest: dict[str, Any] | None = None,
    bom: bool = False,
) -> Path:
    """Write a bundle folder; applications/invoices get defaults for unspecified columns.

    Files whose argument is None are not written (absent = no rows), except enterprises.csv and
    the manifest which are always written.
    """
    root.mkdir(parents=True, exist_ok=True)
    (root / "manifest.json").write_text(
        json.dumps(
            manifest
            if manifest is not None
            else {"format": "qijia-integrity-bundle", "version": 1, "title": "测试数据包"},
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    tables = {
        "enterprises.csv": enterprises or [],
        "persons.csv": persons,
        "roles.csv": roles,
        "holdings.csv": holdings,
        "registry.csv": registry,
        "applications.csv": [{**APP_DEFAULTS, **a} for a in applications]
        if applications is not None
        else None,
        "invoices.csv": [{**INVOICE_DEFAULTS, **i} for i in invoices]
        if invoices is not None
        else None,
        "photos.csv": photos,
    }
    for name, rows in tables.items():
        if rows is None:
            continue
        (root / name).write_text(_csv(COLUMNS[name], rows, bom), encoding="utf-8")
    for rel, data in (images or {}).items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def enterprise(n: int, **kw: Any) -> dict[str, Any]:
    return {
        "uscc": uscc(n),
        "name": f"企业{n}",
        "town": "松山湖",
        "industry_code": "C39",
        "address": f"工业路{n}号",
        "phone": f"0769-2200{n:04d}",
        "email": f"e{n}@example.cn",
        "established_on": "2010-05-01",
        **kw,
    }


def application(app_id: str, applicant: str, **kw: Any) -> dict[str, Any]:
    return {"application_id": app_id, "uscc": applicant, **kw}


def invoice(app_id: str, number: str, seller: str, buyer: str, **kw: Any) -> dict[str, Any]:
    return {
        "application_id": app_id,
        "invoice_number": number,
        "seller_tax_id": seller,
        "buyer_tax_id": buyer,
        **kw,
    }
