"""The department API: every endpoint, every error class, and the token-scope matrix."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from qijia.audit.models import AuditEvent
from qijia.core.testing import make_uscc
from qijia.registry import services
from qijia.registry.models import ApiToken, CheckLog, Entry

from .conftest import PDF_BYTES, csv_bytes

pytestmark = pytest.mark.django_db
BASE = "/api/v1/registry"


@pytest.fixture
def api(token_for, partner_a):
    """A client of department A with a read-write token."""
    return as_token(token_for(partner_a))


def as_token(text: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {text}")


def entry_payload(**overrides):
    return {
        "uscc": make_uscc(),
        "list": "ineligible",
        "category": "tax_arrears",
        "reason": "欠缴增值税",
        "valid_from": "2026-01-01",
        "document_ref": "东税处〔2026〕3号",
    } | overrides


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code and body["message"] and isinstance(body["fields"], dict)
    return body


def test_check_answers_listed_with_the_entries_and_audits_the_query(api, make_entry):
    entry = make_entry()
    response = api.get(f"{BASE}/check", {"uscc": entry.uscc.lower(), "on": "2026-06-01"})
    assert response.status_code == 200
    body = response.json()
    assert body["listed"] is True and body["uscc"] == entry.uscc
    assert [e["id"] for e in body["entries"]] == [entry.pk]
    assert body["entries"][0]["status"] == "active"
    log = CheckLog.objects.get()
    assert log.channel == "api" and log.actor_label.startswith("api:")


def test_check_of_an_unlisted_code_is_not_listed(api):
    body = api.get(f"{BASE}/check", {"uscc": make_uscc()}).json()
    assert body == body | {"listed": False, "entries": []}


def test_check_with_an_invalid_code_is_422_with_the_rule(api):
    body = assert_error(api.get(f"{BASE}/check", {"uscc": "91441900MA4UJ5C36X"}), 422, "uscc_check")
    assert "校验位" in body["fields"]["uscc"]
    assert_error(
        api.get(f"{BASE}/check", {"uscc": "x", "on": "2026-02-30"}), 422, "validation_failed"
    )
    assert_error(api.get(f"{BASE}/check"), 422, "validation_failed")


def test_requests_without_a_valid_token_are_401(make_entry):
    assert_error(Client().get(f"{BASE}/check", {"uscc": make_uscc()}), 401, "unauthenticated")
    bad = as_token("qjr_000000000000_not-a-real-secret")
    assert_error(bad.get(f"{BASE}/check", {"uscc": make_uscc()}), 401, "unauthenticated")


def test_revoked_token_stops_working(partner_a, token_for):
    text = token_for(partner_a)
    client = as_token(text)
    assert client.get(f"{BASE}/categories").status_code == 200
    services.token_revoke(actor=partner_a, token_id=ApiToken.objects.get().pk)
    assert_error(client.get(f"{BASE}/categories"), 401, "unauthenticated")


def test_last_used_is_recorded_and_throttled(api):
    api.get(f"{BASE}/categories")
    first = ApiToken.objects.get().last_used_at
    api.get(f"{BASE}/categories")
    assert first is not None and ApiToken.objects.get().last_used_at == first


def test_bulk_check_returns_only_listed_codes(api, make_entry):
    listed = make_entry()
    codes = [listed.uscc] + [make_uscc() for _ in range(20)]
    body = api.post(
        f"{BASE}/check/bulk", {"uscc": codes, "on": "2026-06-01"}, content_type="application/json"
    ).json()
    assert body["checked"] == 21 and body["listed_count"] == 1
    assert body["listed"][0]["uscc"] == listed.uscc
    assert AuditEvent.objects.filter(action="registry.check_bulk").count() == 1


def test_bulk_check_errors(api):
    body = assert_error(
        api.post(
            f"{BASE}/check/bulk", {"uscc": [make_uscc(), "bad"]}, content_type="application/json"
        ),
        422,
        "uscc_invalid",
    )
    assert "uscc[1]" in body["fields"]
    assert_error(
        api.post(f"{BASE}/check/bulk", {"uscc": ["x"] * 10_001}, content_type="application/json"),
        422,
        "validation_failed",
    )
    assert_error(
        api.post(f"{BASE}/check/bulk", "not json", content_type="application/json"),
        400,
        "malformed_request",
    )


def test_create_entry_returns_201_and_the_entry(api, dept_a):
    response = api.post(f"{BASE}/entries", entry_payload(), content_type="application/json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["source"] == dept_a.code and body["version"] == 1 and body["status"] == "active"


def test_create_entry_errors_name_the_fields_in_chinese(api):
    body = assert_error(
        api.post(
            f"{BASE}/entries",
            entry_payload(uscc="123", category="nope", valid_to="2025-01-01"),
            content_type="application/json",
        ),
        422,
        "validation_failed",
    )
    assert set(body["fields"]) == {"uscc", "category", "valid_to"}
    body = assert_error(
        api.post(
            f"{BASE}/entries", entry_payload(reason="a\x00b"), content_type="application/json"
        ),
        422,
        "validation_failed",
    )
    assert "payload.reason" in body["fields"]
    body = assert_error(
        api.post(
            f"{BASE}/entries", entry_payload(source="ecology"), content_type="application/json"
        ),
        422,
        "validation_failed",
    )
    assert body["fields"] == {"source": "协作部门只能以本部门名义列入"}


def test_entry_detail_shows_every_version(api, make_entry, partner_a):
    entry = make_entry()
    services.entry_amend(actor=partner_a, entry_id=entry.pk, changes={"list": "blacklist"})
    body = api.get(f"{BASE}/entries/{entry.pk}").json()
    assert [(v["version"], v["list"]) for v in body["versions"]] == [
        (1, "ineligible"),
        (2, "blacklist"),
    ]
    assert_error(api.get(f"{BASE}/entries/999999999"), 404, "entry_not_found")
    assert_error(api.get(f"{BASE}/entries/99999999999999999999999"), 422, "validation_failed")


def test_amend_and_revoke_through_the_api(api, make_entry):
    entry = make_entry()
    response = api.patch(
        f"{BASE}/entries/{entry.pk}",
        {"valid_to": "2026-12-31", "expected_version": 1},
        content_type="application/json",
    )
    assert response.status_code == 200 and response.json()["version"] == 2
    assert_error(
        api.patch(
            f"{BASE}/entries/{entry.pk}",
            {"reason": "x", "expected_version": 1},
            content_type="application/json",
        ),
        409,
        "version_conflict",
    )
    assert_error(
        api.patch(f"{BASE}/entries/{entry.pk}", {}, content_type="application/json"),
        422,
        "no_change",
    )
    response = api.post(
        f"{BASE}/entries/{entry.pk}/revoke", {"reason": "已补缴"}, content_type="application/json"
    )
    assert response.json()["status"] == "revoked"
    assert_error(
        api.post(
            f"{BASE}/entries/{entry.pk}/revoke", {"reason": "再次"}, content_type="application/json"
        ),
        409,
        "entry_revoked",
    )
    assert_error(
        api.post(
            f"{BASE}/entries/{entry.pk}/revoke", {"reason": ""}, content_type="application/json"
        ),
        422,
        "validation_failed",
    )


def test_clear_valid_to_makes_an_entry_open_ended(api, make_entry):
    entry = make_entry(valid_to=dt.date(2026, 12, 31))
    body = api.patch(
        f"{BASE}/entries/{entry.pk}", {"clear_valid_to": True}, content_type="application/json"
    ).json()
    assert body["valid_to"] is None


def test_evidence_upload_checks_the_content(api, make_entry):
    entry = make_entry()
    from django.core.files.uploadedfile import SimpleUploadedFile

    ok = api.post(
        f"{BASE}/entries/{entry.pk}/evidence", {"files": [SimpleUploadedFile("a.pdf", PDF_BYTES)]}
    )
    assert ok.status_code == 201 and ok.json()[0]["content_type"] == "application/pdf"
    body = assert_error(
        api.post(
            f"{BASE}/entries/{entry.pk}/evidence",
            {"files": [SimpleUploadedFile("b.pdf", b"plain text")]},
        ),
        422,
        "validation_failed",
    )
    assert "b.pdf" in body["message"]


def test_csv_import_endpoint_is_all_or_nothing(api):
    from django.core.files.uploadedfile import SimpleUploadedFile

    good = csv_bytes(
        [
            ["uscc", "list", "category", "reason", "valid_from"],
            [make_uscc(), "blacklist", "public_funds_fraud", "骗取补贴", "2026-02-01"],
        ]
    )
    response = api.post(f"{BASE}/entries/import", {"file": SimpleUploadedFile("a.csv", good)})
    assert response.status_code == 201 and response.json()["created"] == 1
    bad = csv_bytes(
        [
            ["uscc", "list", "category", "reason", "valid_from"],
            [make_uscc(), "blacklist", "public_funds_fraud", "骗取补贴", "2026-02-01"],
            ["bad", "blacklist", "public_funds_fraud", "骗取补贴", "2026-02-01"],
        ]
    )
    body = assert_error(
        api.post(f"{BASE}/entries/import", {"file": SimpleUploadedFile("b.csv", bad)}),
        422,
        "csv_rows_invalid",
    )
    assert list(body["fields"]) == ["row3.uscc"] and Entry.objects.count() == 1


def test_entries_list_filters(api, make_entry, partner_a):
    make_entry(list="blacklist", category="environmental")
    revoked = make_entry()
    services.entry_revoke(actor=partner_a, entry_id=revoked.pk, reason="撤")
    body = api.get(f"{BASE}/entries", {"list": "blacklist"}).json()
    assert body["count"] == 1 and body["items"][0]["category"] == "environmental"
    assert api.get(f"{BASE}/entries", {"status": "revoked"}).json()["items"][0]["id"] == revoked.pk
    assert_error(api.get(f"{BASE}/entries", {"q": "a\x00"}), 422, "validation_failed")
    assert_error(api.get(f"{BASE}/entries", {"limit": 0}), 422, "validation_failed")


def test_changes_feed_pages_with_a_cursor(api, make_entry):
    entries = [make_entry() for _ in range(3)]
    body = api.get(f"{BASE}/changes", {"since": 0, "limit": 2}).json()
    assert [i["entry_id"] for i in body["items"]] == [e.pk for e in entries[:2]] and body[
        "has_more"
    ]
    body = api.get(f"{BASE}/changes", {"since": body["next_cursor"]}).json()
    assert [i["entry_id"] for i in body["items"]] == [entries[2].pk] and not body["has_more"]
    assert_error(api.get(f"{BASE}/changes", {"since": -1}), 422, "validation_failed")


# --- the token-scope matrix ------------------------------------------------------------------


WRITES = [
    ("post", "/entries", lambda e: entry_payload()),
    ("patch", "/entries/{id}", lambda e: {"reason": "改"}),
    ("post", "/entries/{id}/revoke", lambda e: {"reason": "撤"}),
]


@pytest.mark.parametrize(("method", "path", "payload"), WRITES)
def test_read_token_cannot_write(method, path, payload, partner_a, token_for, make_entry):
    entry = make_entry()
    client = as_token(token_for(partner_a, scope="read"))
    response = getattr(client, method)(
        BASE + path.format(id=entry.pk), payload(entry), content_type="application/json"
    )
    assert_error(response, 403, "token_read_only")
    assert Entry.objects.get(pk=entry.pk).version == 1 and Entry.objects.count() == 1


@pytest.mark.parametrize(("method", "path", "payload"), WRITES[1:])
def test_department_b_cannot_touch_department_a_entries(
    method, path, payload, partner_b, token_for, make_entry
):
    entry = make_entry()
    client = as_token(token_for(partner_b))
    response = getattr(client, method)(
        BASE + path.format(id=entry.pk), payload(entry), content_type="application/json"
    )
    assert_error(response, 403, "permission_denied")
    assert Entry.objects.get(pk=entry.pk).version == 1


def test_read_tokens_of_any_department_can_check_and_read(partner_b, token_for, make_entry):
    entry = make_entry()
    client = as_token(token_for(partner_b, scope="read"))
    assert client.get(f"{BASE}/check", {"uscc": entry.uscc}).json()["listed"] is True
    assert client.get(f"{BASE}/entries/{entry.pk}").status_code == 200
    assert client.get(f"{BASE}/changes").status_code == 200


def test_session_users_without_a_registry_role_are_refused(user_factory, make_entry):
    entry = make_entry()
    client = Client()
    client.force_login(user_factory("expert"))
    assert_error(client.get(f"{BASE}/check", {"uscc": entry.uscc}), 403, "permission_denied")
    assert_error(client.get(f"{BASE}/entries/{entry.pk}"), 404, "entry_not_found")


def test_openapi_document_describes_the_registry_with_examples():
    doc = Client().get("/api/v1/openapi.json").json()
    paths = {p for p in doc["paths"] if p.startswith("/api/v1/registry")}
    assert {
        "/api/v1/registry/check",
        "/api/v1/registry/check/bulk",
        "/api/v1/registry/entries",
        "/api/v1/registry/entries/import",
        "/api/v1/registry/changes",
    } <= paths
    schemas = doc["components"]["schemas"]
    assert schemas["EntryIn"]["properties"]["uscc"]["examples"]
    assert "DepartmentToken" in doc["components"]["securitySchemes"]
