"""Registry fixtures: two partner departments, their users and tokens, sample evidence."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from qijia.core.testing import OrgUnitFactory, make_uscc
from qijia.registry.categories import ensure_categories

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG_BYTES = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture(autouse=True)
def _categories(db):
    ensure_categories()


@pytest.fixture
def dept_a(db):
    return OrgUnitFactory(code="tax", name="市税务局", kind="partner")


@pytest.fixture
def dept_b(db):
    return OrgUnitFactory(code="ecology", name="市生态环境局", kind="partner")


@pytest.fixture
def partner_a(user_factory, dept_a):
    return user_factory("partner", org_unit=dept_a, email="a@tax.example")


@pytest.fixture
def partner_b(user_factory, dept_b):
    return user_factory("partner", org_unit=dept_b)


@pytest.fixture
def officer(user_factory):
    return user_factory("officer")


@pytest.fixture
def inspector(user_factory):
    return user_factory("inspector")


@pytest.fixture
def pdf():
    def make(name: str = "决定书.pdf", content: bytes = PDF_BYTES) -> SimpleUploadedFile:
        return SimpleUploadedFile(name, content, content_type="application/pdf")

    return make


@pytest.fixture
def listed_uscc():
    return make_uscc()


@pytest.fixture
def make_entry(partner_a, pdf):
    from qijia.registry.services import entry_create

    def make(actor=None, **overrides):
        data = {
            "uscc": make_uscc(),
            "list": "ineligible",
            "category": "tax_arrears",
            "reason": "欠缴增值税逾期未缴",
            "valid_from": dt.date(2026, 1, 1),
            "valid_to": None,
            "document_ref": "东税处〔2026〕1号",
        } | overrides
        return entry_create(actor=actor or partner_a, **data)

    return make


def csv_bytes(rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    import csv

    writer = csv.writer(out)
    for row in rows:
        writer.writerow(row)
    return out.getvalue().encode(encoding)


@pytest.fixture
def token_for():
    """A department token's text for ``actor``'s department."""
    from qijia.registry import services

    def make(actor, scope="read_write"):
        return services.token_create(actor=actor, name=f"{scope}-token", scope=scope)[1]

    return make
