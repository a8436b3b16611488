"""Password login: strong hashing, lockout after repeated failures, idle session expiry, audit."""

import runpy

import pytest
from django.urls import reverse

from qijia.audit.models import AuditEvent
from qijia.core.testing import TEST_PASSWORD

pytestmark = pytest.mark.django_db
LOGIN = "/accounts/login/"


def _post(client, username, password):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR="10.1.2.3")


def test_good_password_logs_in_lands_home_and_is_audited(client, user_factory):
    user = user_factory("officer")
    response = _post(client, user.username, TEST_PASSWORD)
    assert response.status_code == 302 and response.url == reverse("core:home")
    event = AuditEvent.objects.get(action="identity.login")
    assert event.actor_id == user.pk and event.ip == "10.1.2.3"


def test_account_is_locked_after_repeated_failures_even_with_the_right_password(
    client, user_factory, settings
):
    settings.AXES_FAILURE_LIMIT = 3
    user = user_factory("officer")
    for _ in range(3):
        _post(client, user.username, "wrong-password")
    response = _post(client, user.username, TEST_PASSWORD)
    assert response.status_code == 429
    assert "临时锁定" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_production_configuration_hashes_with_argon2_and_expires_idle_sessions(monkeypatch):
    # The suite runs with a fast hasher; evaluate the settings module as production would.
    from config import settings as config_settings

    monkeypatch.delenv("QIJIA_FAST_HASHER", raising=False)
    production = runpy.run_path(config_settings.__file__)
    assert production["PASSWORD_HASHERS"][0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    assert production["SESSION_SAVE_EVERY_REQUEST"] and production["SESSION_COOKIE_AGE"] <= 8 * 3600


def test_anonymous_user_is_sent_to_login(client):
    response = client.get(reverse("core:home"))
    assert response.status_code == 302 and response.url.startswith(LOGIN)


def test_logout_requires_post_and_is_audited(client, user_factory):
    user = user_factory("inspector")
    client.force_login(user)
    assert client.get("/accounts/logout/").status_code == 405
    assert client.post("/accounts/logout/").status_code == 302
    assert AuditEvent.objects.filter(action="identity.logout", actor_id=user.pk).exists()


@pytest.mark.parametrize(
    "role", ["enterprise", "officer", "approver", "town", "expert", "inspector", "partner", "admin"]
)
def test_every_role_lands_on_a_home_that_names_its_role(client, user_factory, role):
    user = user_factory(role)
    client.force_login(user)
    body = client.get(reverse("core:home")).content.decode()
    assert user.get_role_display() in body


def test_session_expires_after_the_idle_limit(client, user_factory, settings):
    user = user_factory("officer")
    client.force_login(user)
    session = client.session
    session.set_expiry(-1)
    session.save()
    response = client.get(reverse("core:home"))
    assert response.status_code == 302 and response.url.startswith(LOGIN)
