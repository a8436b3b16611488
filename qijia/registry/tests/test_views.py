"""Pages: each role sees its pages and nothing else; forms go through the services."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from qijia.core.testing import EnterpriseFactory, make_uscc
from qijia.registry import selectors, services
from qijia.registry.models import ApiToken, Entry

from .conftest import csv_bytes

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_staff_search_filters_by_list_category_source_and_status(officer, make_entry, dept_a):
    wanted = make_entry(list="blacklist", category="environmental", enterprise_name="甲公司")
    make_entry(enterprise_name="乙公司")
    response = client_for(officer).get(
        "/registry/",
        {
            "list": "blacklist",
            "category": "environmental",
            "source": dept_a.code,
            "status": "active",
        },
    )
    assert response.status_code == 200
    assert [e.pk for e in response.context["page"]] == [wanted.pk]
    assert "甲公司" in response.content.decode() and "乙公司" not in response.content.decode()


def test_search_page_query_count_does_not_grow_with_rows(
    officer, make_entry, django_assert_max_num_queries
):
    for _ in range(12):
        make_entry()
    client = client_for(officer)
    with django_assert_max_num_queries(12):
        assert client.get("/registry/").status_code == 200


def test_entry_page_shows_history_and_lets_the_source_revoke(partner_a, make_entry):
    entry = make_entry()
    services.entry_amend(actor=partner_a, entry_id=entry.pk, changes={"reason": "补充事由"})
    client = client_for(partner_a)
    page = client.get(f"/registry/entries/{entry.pk}/").content.decode()
    assert "v1" in page and "v2" in page and "撤销条目" in page
    client.post(f"/registry/entries/{entry.pk}/revoke/", {"reason": "已整改"})
    assert Entry.objects.get(pk=entry.pk).revoked_at is not None


def test_other_department_sees_the_entry_but_no_change_controls(partner_b, make_entry):
    entry = make_entry()
    page = client_for(partner_b).get(f"/registry/entries/{entry.pk}/").content.decode()
    assert entry.uscc in page and "撤销条目" not in page
    response = client_for(partner_b).get(f"/registry/entries/{entry.pk}/edit/")
    assert response.status_code == 403


def test_enterprise_sees_its_own_status_and_not_other_entries(user_factory, make_entry):
    enterprise = EnterpriseFactory()
    own = make_entry(uscc=enterprise.uscc)
    other = make_entry()
    client = client_for(user_factory("enterprise", enterprise=enterprise))
    page = client.get("/registry/own/").content.decode()
    assert "不能获得财政资助" in page and enterprise.uscc in page and other.uscc not in page
    assert client.get(f"/registry/entries/{own.pk}/").status_code == 200
    assert client.get(f"/registry/entries/{other.pk}/").status_code == 404
    assert client.get("/registry/").status_code == 302


def test_create_form_reports_field_errors_and_creates_valid_entries(partner_a, pdf):
    client = client_for(partner_a)
    response = client.post(
        "/registry/new/",
        {
            "uscc": "bad",
            "list": "ineligible",
            "category": "other",
            "reason": "x",
            "valid_from": "2026-01-01",
        },
    )
    assert response.status_code == 422 and "统一社会信用代码" in response.content.decode()
    uscc = make_uscc()
    response = client.post(
        "/registry/new/",
        {
            "uscc": uscc,
            "list": "ineligible",
            "category": "other",
            "reason": "x",
            "valid_from": "2026-01-01",
            "valid_to": "",
            "evidence": pdf(),
        },
    )
    entry = Entry.objects.get(uscc=uscc)
    assert response.status_code == 302 and entry.evidence.count() == 1


def test_upload_page_shows_the_row_report(partner_a):
    from django.core.files.uploadedfile import SimpleUploadedFile

    bad = csv_bytes(
        [
            ["uscc", "list", "category", "reason", "valid_from"],
            ["bad", "ineligible", "other", "x", "2026-01-01"],
        ]
    )
    response = client_for(partner_a).post(
        "/registry/upload/", {"file": SimpleUploadedFile("x.csv", bad)}
    )
    assert "row2.uscc" in response.content.decode() and Entry.objects.count() == 0


def test_token_page_shows_a_new_token_once_and_revokes(partner_a, partner_b):
    client = client_for(partner_a)
    response = client.post("/registry/tokens/", {"name": "同步", "scope": "read"})
    text = response.context["new_token"]
    assert text.startswith("qjr_") and text in response.content.decode()
    assert text not in client.get("/registry/tokens/").content.decode()
    token = ApiToken.objects.get()
    refused = client_for(partner_b).post("/registry/tokens/", {"revoke": token.pk})
    assert "令牌不存在" in refused.content.decode()
    assert ApiToken.objects.get().revoked_at is None  # another department's token: not found
    client.post("/registry/tokens/", {"revoke": token.pk})
    assert ApiToken.objects.get().revoked_at is not None


def test_inspector_sees_who_queried_whom(inspector, partner_b, make_entry):
    entry = make_entry()
    selectors.registry_check(uscc=entry.uscc, on=dt.date(2026, 6, 1), actor=partner_b)
    page = client_for(inspector).get("/registry/queries/", {"uscc": entry.uscc}).content.decode()
    assert partner_b.username in page and entry.uscc in page


def test_query_log_is_closed_to_partners(partner_a):
    assert client_for(partner_a).get("/registry/queries/").status_code == 403


def test_expiring_and_objection_pages_render_for_the_department(partner_a, make_entry):
    today = dt.date.today()
    entry = make_entry(valid_from=today, valid_to=today + dt.timedelta(days=5))
    client = client_for(partner_a)
    assert entry.uscc in client.get("/registry/expiring/").content.decode()
    assert client.get("/registry/objections/", {"overdue": "1"}).status_code == 200


def test_navigation_shows_registry_entries_by_role(partner_a, user_factory):
    nav = client_for(partner_a).get("/registry/").context["nav_items"]
    labels = {str(item["label"]) for item in nav}
    assert {"不予资助名单", "本部门名单", "接口令牌"} <= labels and "查询记录" not in labels
    enterprise_nav = (
        client_for(user_factory("enterprise")).get("/registry/own/").context["nav_items"]
    )
    assert "名单状态" in {str(i["label"]) for i in enterprise_nav}


def test_home_panels_show_pending_objections_and_own_status(
    partner_a, make_entry, user_factory, pdf
):
    enterprise = EnterpriseFactory()
    entry = make_entry(uscc=enterprise.uscc)
    owner = user_factory("enterprise", enterprise=enterprise)
    services.objection_lodge(actor=owner, entry_id=entry.pk, reason="不服", evidence=[pdf()])
    home = client_for(partner_a).get("/").content.decode()
    assert "待答复申诉" in home
    assert "期间不能获得财政资助" in client_for(owner).get("/").content.decode()
