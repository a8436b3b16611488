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
def test_enterprise_page_is_visible_only_within_scope(user_factory, towns, two_enterprises, role, sees_a, sees_b):
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
def test_search_lists_only_what_the_role_may_see(user_factory, towns, two_enterprises, role, expected):
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
    [("officer", True), ("approver", True), ("admin", True), ("inspector", True),
     ("town", False), ("enterprise", False), ("partner", False), ("expert", False)],
)
def test_export_is_for_bureau_staff_and_inspectors_only(user_factory, towns, two_enterprises, role, allowed):
    client = client_for(make(user_factory, role, towns, two_enterprises))
    response = client.get("/enterprises/export.xlsx")
    assert response.status_code == (200 if allowed else 403)


@pytest.mark.parametrize(
    "role, allowed",
    [("officer", True), ("approver", True), ("admin", True), ("inspector", False),
     ("town", False), ("enterprise", False), ("partner", False), ("expert", False)],
)
def test_import_page_is_for_officers_only(user_factory, towns, two_enterprises, role, allowed):
    client = client_for(make(user_factory, role, towns, two_enterprises))
    assert client.get("/enterprises/import/").status_code == (200 if allowed else 403)
