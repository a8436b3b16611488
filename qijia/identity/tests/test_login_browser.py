import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_officer_logs_in_and_lands_on_home(page, user_factory, login_as):
    user = user_factory("officer", username="officer-browser")
    login_as(page, user.username)
    assert page.url.rstrip("/") == page.base_url.rstrip("/")
    assert (
        "officer-browser" in page.locator("header .who").inner_text()
        or str(user) in page.locator("header .who").inner_text()
    )


def test_wrong_password_shows_a_chinese_error_and_stays_on_login(page, user_factory):
    user = user_factory("officer", username="officer-wrong")
    page.goto("/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", "not-the-password")
    page.click("button[type=submit]")
    assert "用户名或密码不正确" in page.locator(".alert.error").inner_text()
    assert "/accounts/login" in page.url
