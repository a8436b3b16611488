import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from qijia.core.testing import EnterpriseFactory, make_uscc
from qijia.enterprises.models import Enterprise, ImportBatch, MonthlyIndicator

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def reference_towns(transactional_db):
    """Browser tests run last (pytest-django orders transactional tests after the others) and each
    flushes the database when it ends, reference data included: put it back when missing."""
    from qijia.core.reference import load_reference
    from qijia.identity.models import OrgUnit

    if not OrgUnit.objects.filter(kind__in=["town", "subdistrict", "zone"]).exists():
        load_reference()


def test_officer_searches_by_partial_name_and_opens_the_trend(
    page, user_factory, login_as, reference_towns
):
    wanted = EnterpriseFactory(name="东莞市浏览器搜索精工有限公司")
    EnterpriseFactory(name="东莞市另一家五金有限公司")
    for month in range(1, 7):
        MonthlyIndicator.objects.create(
            enterprise=wanted,
            month=dt.date(2024, month, 1),
            revenue=100 * month,
            employees=10 + month,
        )
    user = user_factory("officer", username="officer-search")
    login_as(page, user.username)
    page.goto("/enterprises/")
    page.fill("#id_q", "搜索精工")
    page.wait_for_function(
        "() => document.querySelector('#result-count').textContent.includes('共 1 家')"
    )
    rows = page.locator(".enterprise-table tbody tr")
    assert rows.count() == 1
    assert "搜索精工" in rows.first.inner_text()
    assert "q=" in page.url  # htmx pushed the search into the address bar
    page.fill("#id_q", wanted.uscc[-8:])
    page.wait_for_function(
        "u => document.querySelector('.enterprise-table tbody').textContent.includes(u)",
        arg=wanted.uscc,
    )
    page.click(f"text={wanted.name}")
    page.wait_for_selector("#trend-chart[data-series='revenue']")
    assert page.locator("h1.enterprise-name").inner_text() == wanted.name


def test_import_with_a_bad_row_shows_the_error_and_offers_the_report(
    page, user_factory, login_as, reference_towns, tmp_path
):
    good, bad = make_uscc(900001), make_uscc(900002)
    bad = bad[:17] + ("0" if bad[17] != "0" else "1")
    path = tmp_path / "企业.csv"
    path.write_text(
        "统一社会信用代码,企业名称,镇街\n"
        f"{good},东莞市浏览器导入甲有限公司,南城街道\n"
        f"{bad},东莞市浏览器导入乙有限公司,南城街道\n",
        encoding="utf-8-sig",
    )
    user = user_factory("officer", username="officer-import")
    login_as(page, user.username)
    page.goto("/enterprises/import/")
    page.select_option("#id_kind", "enterprises")
    page.set_input_files("#id_file", str(path))
    page.click("button[type=submit].primary")
    page.wait_for_selector("#import-result.error")
    assert "整个文件未导入" in page.locator("#import-result").inner_text()
    error_row = page.locator("table.import-errors tbody tr").first.inner_text()
    assert "3" in error_row and "A3" in error_row and "校验位" in error_row
    with page.expect_download() as download_info:
        page.click("#error-report")
    report = load_workbook(io.BytesIO(download_info.value.path().read_bytes()))
    assert report["错误明细"].cell(row=2, column=2).value == "A3"
    assert not Enterprise.objects.filter(uscc=good).exists()
    assert ImportBatch.objects.get().status == "rejected"


def test_enterprise_user_sees_own_page_on_a_phone(
    chromium, live_server, user_factory, reference_towns
):
    from conftest import browser_login

    own = EnterpriseFactory(name="东莞市手机端本企业有限公司")
    user = user_factory("enterprise", enterprise=own, username="ent-phone")
    context = chromium.new_context(
        base_url=live_server.url,
        locale="zh-CN",
        viewport={"width": 390, "height": 844},
        is_mobile=True,
    )
    page = context.new_page()
    try:
        browser_login(page, user.username)
        page.goto("/enterprises/own/")
        assert page.locator("h1.enterprise-name").inner_text() == own.name
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 390 + 1  # nothing overflows sideways
    finally:
        context.close()
