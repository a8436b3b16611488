import pytest
from django.urls import reverse

from qijia.audit.services import audit_record

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("inspector", 200),
        ("admin", 200),
        ("officer", 403),
        ("approver", 403),
        ("town", 403),
        ("enterprise", 403),
        ("expert", 403),
        ("partner", 403),
    ],
)
def test_only_inspectors_and_admins_read_the_trail(client, user_factory, role, status):
    user = user_factory(role)
    audit_record(actor=user, action="test.event", object_type="x", object_id="1")
    client.force_login(user)
    for url in (reverse("audit:list"), reverse("audit:detail", args=[1]), reverse("audit:verify")):
        assert client.get(url).status_code == status


def test_inspector_filters_by_action_and_sees_before_and_after(client, user_factory):
    inspector = user_factory("inspector")
    audit_record(
        actor=inspector,
        action="enterprise.update",
        object_type="enterprises.enterprise",
        object_id="7",
        before={"name": "旧名"},
        after={"name": "新名"},
    )
    audit_record(
        actor=inspector, action="identity.login", object_type="identity.user", object_id="1"
    )
    client.force_login(inspector)
    body = client.get(reverse("audit:list"), {"action": "enterprise."}).content.decode()
    assert "enterprise.update" in body and "identity.login" not in body
    detail = client.get(reverse("audit:detail", args=[1])).content.decode()
    assert "旧名" in detail and "新名" in detail


def test_verify_page_reports_an_intact_chain(client, user_factory):
    inspector = user_factory("inspector")
    audit_record(actor=inspector, action="x", object_type="x", object_id="1")
    client.force_login(inspector)
    assert "审计链完整" in client.get(reverse("audit:verify")).content.decode()
