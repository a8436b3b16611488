"""Role × organisation matrix over the enterprise pages and API: nobody reads what is not theirs,
and what they may not see is a 404 (its existence is not revealed)."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

CITY_STAFF = ["officer", "approver", "inspector", "admin"]


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def make(user_factory, role, towns, enterprises):
    if role == "town":
        return user_factory("town", org_unit=towns[0])
    if role == "enterprise":
        return user_factory("enterprise", enterprise=enterprises[0])
    return user_factory(role)


@pytest.mark.parametrize(
    "role, sees_a, sees_b",
    [
        *[(r, True, True) for r in CITY_STAFF],
        ("town", True, False),  # town officer of town X: A is in X, B in Y
        ("enterprise", True, False),  # user of enterprise A
        ("partner", False, False),
        ("expert", False, False),
    ],
)
def test_enterprise_page_is_visible_only_within_scope(
    user_factory, towns, two_enterprises, role, sees_a, sees_b
):
    a, b = two_enterprises
    client = client_for(make(user_factory, role, towns, two_enterprises))
    for enterprise, visible in ((a, sees_a), (b, sees_b)):
        response = client.get(f"/enterprises/{enterprise.uscc}/")
        assert response.status_code == (200 if visible else 404), (role, enterprise.name)
        if not visible:
            assert enterprise.name not in response.content.decode()
        api = client.get(f"/api/v1/enterprises/{enterprise.uscc}")
        assert api.status_code == (200 if visible else 404), (role, enterprise.name)
        if visible:
            assert api.json()["name"] == enterprise.name
        else:
            assert api.json()["code"] == "enterprise_not_found"


@pytest.mark.parametrize(
    "role, expected",
    [
        *[(r, {"甲", "乙"}) for r in CITY_STAFF],
        ("town", {"甲"}),
        ("enterprise", {"甲"}),
    ],
)
def test_search_lists_only_what_the_role_may_see(
    user_factory, towns, two_enterprises, role, expected
):
    client = client_for(make(user_factory, role, towns, two_enterprises))
    api = client.get("/api/v1/enterprises/", {"q": "企业（东莞）"})
    assert api.status_code == 200
    assert {item["name"][0] for item in api.json()["items"]} == expected
    page = client.get("/enterprises/", {"q": "企业（东莞）"}, follow=True)
    assert page.status_code == 200
    html = page.content.decode()
    for marker, name in (("甲", two_enterprises[0].name), ("乙", two_enterprises[1].name)):
        assert (name in html) == (marker in expected), (role, name)


@pytest.mark.parametrize("role", ["partner", "expert"])
def test_partner_and_expert_cannot_search(user_factory, towns, two_enterprises, role):
    client = client_for(make(user_factory, role, towns, two_enterprises))
    api = client.get("/api/v1/enterprises/")
    assert api.status_code == 403
    assert api.json()["code"] == "permission_denied" and api.json()["message"]
    page = client.get("/enterprises/")
    assert page.status_code == 403
    assert "企业库" in page.content.decode()


def test_anonymous_is_sent_to_login_and_api_says_401(two_enterprises):
    client = Client()
    assert client.get("/enterprises/").status_code == 302
    assert client.get(f"/enterprises/{two_enterprises[0].uscc}/").status_code == 302
    response = client.get("/api/v1/enterprises/")
    assert response.status_code == 401 and response.json()["code"] == "unauthenticated"


def test_enterprise_user_list_goes_to_own_page(user_factory, two_enterprises):
    user = user_factory("enterprise", enterprise=two_enterprises[0])
    client = client_for(user)
    response = client.get("/enterprises/")
    assert response.status_code == 302 and response["Location"].endswith("/enterprises/own/")
    own = client.get("/enterprises/own/")
    assert own.status_code == 200 and two_enterprises[0].name in own.content.decode()
    assert two_enterprises[1].name not in own.content.decode()


def test_own_page_is_404_for_staff_without_enterprise(user_factory):
    assert client_for(user_factory("officer")).get("/enterprises/own/").status_code == 404


@pytest.mark.parametrize(
    "role, allowed",
    [
        ("officer", True),
        ("approver", True),
        ("admin", True),
        ("inspector", True),
        ("town", False),
        ("enterprise", False),
        ("partner", False),
        ("expert", False),
    ],
)
def test_export_is_for_bureau_staff_and_inspectors_only(
    user_factory, towns, two_enterprises, role, allowed
):
    client = client_for(make(user_factory, role, towns, two_enterprises))
    response = client.get("/enterprises/export.xlsx")
    assert response.status_code == (200 if allowed else 403)


@pytest.mark.parametrize(
    "role, allowed",
    [
        ("officer", True),
        ("approver", True),
        ("admin", True),
        ("inspector", False),
        ("town", False),
        ("enterprise", False),
        ("partner", False),
        ("expert", False),
    ],
)
def test_import_page_is_for_officers_only(user_factory, towns, two_enterprises, role, allowed):
    client = client_for(make(user_factory, role, towns, two_enterprises))
    assert client.get("/enterprises/import/").status_code == (200 if allowed else 403)


def test_officer_registers_and_edits_an_enterprise_through_the_pages(user_factory, towns):
    from qijia.audit.models import AuditEvent
    from qijia.core.testing import make_uscc
    from qijia.enterprises.models import Enterprise

    client = client_for(user_factory("officer"))
    code = make_uscc(515151)
    bad = client.post(
        "/enterprises/new/",
        {
            "uscc": code[:17] + ("1" if code[17] != "1" else "2"),
            "name": "东莞市页面登记有限公司",
            "town": towns[0].name,
            "status": "active",
        },
    )
    assert bad.status_code == 400 and "校验位错误" in bad.content.decode()
    created = client.post(
        "/enterprises/new/",
        {
            "uscc": code,
            "name": "东莞市页面登记有限公司",
            "town": towns[0].name,
            "industry": "C39",
            "size_class": "small",
            "status": "active",
        },
    )
    assert created.status_code == 302 and created["Location"].endswith(f"/enterprises/{code}/")
    edited = client.post(
        f"/enterprises/{code}/edit/",
        {
            "name": "东莞市页面改名有限公司",
            "town": towns[1].name,
            "status": "suspended",
            "uscc": "ignored",
        },
    )
    assert edited.status_code == 302
    enterprise = Enterprise.objects.get(uscc=code)
    assert (enterprise.name, enterprise.town_id, enterprise.status) == (
        "东莞市页面改名有限公司",
        towns[1].pk,
        "suspended",
    )
    update = AuditEvent.objects.get(action="enterprises.enterprise.update")
    assert (
        update.before["name"] == "东莞市页面登记有限公司" and update.after["status"] == "suspended"
    )


@pytest.mark.parametrize("role", ["town", "inspector", "enterprise", "partner", "expert"])
def test_only_officers_reach_the_edit_pages(user_factory, towns, two_enterprises, role):
    client = client_for(make(user_factory, role, towns, two_enterprises))
    a = two_enterprises[0]
    assert client.get("/enterprises/new/").status_code == 403
    assert client.get(f"/enterprises/{a.uscc}/edit/").status_code in (403, 404)


def test_openapi_document_describes_the_enterprise_endpoints(user_factory):
    client = client_for(user_factory("officer"))
    document = client.get("/api/v1/openapi.json").json()
    paths = document["paths"]
    assert "/api/v1/enterprises/" in paths and "/api/v1/enterprises/{uscc}" in paths
    params = {p["name"] for p in paths["/api/v1/enterprises/"]["get"]["parameters"]}
    assert {"q", "town", "industry", "size_class", "status", "page", "page_size"} <= params


def test_api_paginates_and_validates_page_size(user_factory, towns):
    from qijia.core.testing import EnterpriseFactory

    for i in range(7):
        EnterpriseFactory(name=f"东莞市分页测试{i:02d}有限公司", town=towns[0])
    client = client_for(user_factory("officer"))
    first = client.get("/api/v1/enterprises/", {"q": "分页测试", "page_size": 3}).json()
    assert (first["count"], first["num_pages"], len(first["items"])) == (7, 3, 3)
    last = client.get("/api/v1/enterprises/", {"q": "分页测试", "page_size": 3, "page": 3}).json()
    assert [i["name"] for i in last["items"]] == ["东莞市分页测试06有限公司"]
    bad = client.get("/api/v1/enterprises/", {"page": "x"})
    assert bad.status_code == 422 and bad.json()["code"] == "validation_failed"
