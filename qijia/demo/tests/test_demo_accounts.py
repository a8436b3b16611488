"""``manage.py demo_accounts``: one account per role, each logs in and lands on its home."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from qijia.audit.models import AuditEvent
from qijia.demo.accounts import DEMO_PASSWORD
from qijia.identity.models import User
from qijia.identity.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded():
    call_command(
        "seed", "--scale", "demo", "--seed", "3", "--no-progress",
        "--step", "demo.org_units", "--step", "demo.registry", stdout=io.StringIO(),
    )  # fmt: skip


def _accounts(**kwargs):
    out = io.StringIO()
    call_command("demo_accounts", stdout=out, **kwargs)
    return out.getvalue()


def test_one_account_per_role_each_logs_in_and_lands_on_home(seeded, client, settings):
    settings.DEBUG = True
    output = _accounts()
    assert "http://127.0.0.1:8000/accounts/login/" in output and DEMO_PASSWORD in output
    users = User.objects.filter(username__startswith="demo-")
    assert sorted(users.values_list("role", flat=True)) == sorted(r.value for r in Role)
    for user in users:
        response = client.post(
            "/accounts/login/", {"username": user.username, "password": DEMO_PASSWORD}
        )
        assert response.status_code == 302 and response.url == reverse("core:home"), user
        home = client.get(response.url)
        assert home.status_code == 200
        assert "core/home.html" in [t.name for t in home.templates]
        assert home.context["user"] == user
        client.post("/accounts/logout/")


def test_accounts_are_bound_where_their_role_belongs(seeded, settings):
    settings.DEBUG = True
    _accounts()
    by_role = {u.role: u for u in User.objects.filter(username__startswith="demo-")}
    enterprise_user = by_role[Role.ENTERPRISE]
    assert enterprise_user.enterprise is not None and enterprise_user.org_unit is None
    assert enterprise_user.enterprise.indicators.exists()
    assert by_role[Role.TOWN].org_unit == enterprise_user.enterprise.town
    assert by_role[Role.PARTNER].org_unit.kind == "partner"
    assert by_role[Role.INSPECTOR].org_unit.kind == "inspection"
    assert by_role[Role.OFFICER].org_unit.kind == "section"
    assert by_role[Role.EXPERT].org_unit is None and by_role[Role.EXPERT].enterprise is None


def test_running_twice_keeps_one_account_per_role_and_the_password(seeded, client, settings):
    settings.DEBUG = True
    _accounts()
    user = User.objects.get(username="demo-officer")
    user.set_password("something-else-entirely")
    user.save()
    assert "新建 0 个，重置 8 个" in _accounts()
    assert User.objects.filter(username__startswith="demo-").count() == len(Role)
    response = client.post(
        "/accounts/login/", {"username": "demo-officer", "password": DEMO_PASSWORD}
    )
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="identity.demo_account_reset").count() == len(Role)


def test_refused_without_debug_unless_forced(seeded, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        _accounts()
    assert not User.objects.filter(username__startswith="demo-").exists()
    _accounts(force=True)
    assert User.objects.filter(username__startswith="demo-").count() == len(Role)


def test_needs_a_seeded_city_first(settings):
    settings.DEBUG = True
    with pytest.raises(CommandError, match="qijia seed"):
        _accounts()
