"""The objection journey in a browser: the enterprise objects with evidence, the source
department's partner user upholds it, and the entry is revoked."""

from __future__ import annotations

import pytest

from qijia.core.reference import load_reference
from qijia.core.testing import EnterpriseFactory
from qijia.identity.models import OrgUnit
from qijia.registry.models import Entry, Objection

from .conftest import PDF_BYTES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_enterprise_objection_upheld_by_the_source_department_revokes_the_entry(
    page, login_as, user_factory, partner_a, make_entry
):
    if not OrgUnit.objects.filter(kind__in=["town", "subdistrict", "zone"]).exists():
        load_reference()  # a transactional test starts from an emptied database
    enterprise = EnterpriseFactory()
    entry = make_entry(uscc=enterprise.uscc, enterprise_name=enterprise.name)
    owner = user_factory("enterprise", enterprise=enterprise, username="ent-objector")

    login_as(page, owner.username)
    page.goto("/registry/own/")
    assert "不能获得财政资助" in page.locator("main").inner_text()
    page.click(f"a[href='/registry/entries/{entry.pk}/']")
    page.fill("#objection-reason", "我司已于2026年3月补缴全部欠税，附完税证明。")
    page.set_input_files(
        "#objection-evidence",
        files=[{"name": "完税证明.pdf", "mimeType": "application/pdf", "buffer": PDF_BYTES}],
    )
    page.click("text=提交申诉")
    assert "申诉已提交" in page.locator(".messages").inner_text()
    assert "待答复" in page.locator(".objection").inner_text()

    page.click("header .who button")  # log out
    login_as(page, partner_a.username)
    page.goto("/registry/objections/?status=pending")
    page.click(f"a[href^='/registry/entries/{entry.pk}/']")
    page.fill("textarea[name=answer]", "经核实已补缴，申诉成立。")
    page.check("input[name=decision][value=upheld]")
    page.click("text=提交答复")
    assert "申诉已答复" in page.locator(".messages").inner_text()
    assert "已撤销" in page.locator("h1").inner_text()
    assert "申诉成立" in page.locator(".objection").inner_text()

    entry.refresh_from_db()
    assert entry.revoked_at is not None and entry.revocation_reason.startswith("申诉成立")
    assert Objection.objects.get().status == "upheld"
    assert Entry.objects.get(pk=entry.pk).versions.count() == 2
