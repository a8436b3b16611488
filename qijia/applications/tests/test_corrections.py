"""Correcting a submitted record: the new version supersedes the old, which stays on record; only
the latest version can be corrected, and only within the same application."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from qijia.applications import services as s
from qijia.applications.models import EvidenceFile, Invoice
from qijia.applications.testing import filled_application, photo_upload, seller_uscc
from qijia.core.errors import Conflict, NotFound

pytestmark = pytest.mark.django_db


def _correct_photo(world, app, supersedes_id: int) -> EvidenceFile:
    return s.evidence_add(
        actor=world.applicant,
        application_id=app.pk,
        material_code="site_photo",
        upload=photo_upload(supersedes_id + 500),
        supersedes_id=supersedes_id,
    )


def _correct_invoice(world, app, supersedes_id: int) -> Invoice:
    return s.invoice_add(
        actor=world.applicant,
        application_id=app.pk,
        invoice_code="044001900111",
        invoice_number="27182818",
        issued_on=timezone.localdate() - dt.timedelta(days=3),
        seller_tax_id=seller_uscc(),
        buyer_tax_id=world.enterprise.uscc,
        amount="113000.00",
        tax="13000.00",
        supersedes_id=supersedes_id,
    )


def test_a_corrected_photo_is_version_two_and_the_old_one_cannot_be_corrected_again(world):
    app = filled_application(world)
    first = app.files.get(kind="photo")
    second = _correct_photo(world, app, first.pk)
    assert (second.version, second.supersedes_id) == (2, first.pk)
    with pytest.raises(Conflict, match="请更正最新版本"):
        _correct_photo(world, app, first.pk)
    assert _correct_photo(world, app, second.pk).version == 3


def test_a_corrected_invoice_supersedes_the_old_which_cannot_be_corrected_again(world):
    app = filled_application(world)
    first = app.invoices.get()
    second = _correct_invoice(world, app, first.pk)
    assert second.supersedes_id == first.pk
    with pytest.raises(Conflict, match="请更正最新记录"):
        _correct_invoice(world, app, first.pk)


def test_a_record_of_another_application_cannot_be_corrected(world):
    mine = filled_application(world)
    other = filled_application(world, photo_seed=2, title="另一项目")
    with pytest.raises(NotFound, match="要更正的材料不存在"):
        _correct_photo(world, mine, other.files.get(kind="photo").pk)
    with pytest.raises(NotFound, match="要更正的发票不存在"):
        _correct_invoice(world, mine, other.invoices.get().pk)
