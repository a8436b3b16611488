"""The English switch: pages render in English, and the English catalogue is complete."""

from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

PO_PATH = Path(settings.BASE_DIR) / "qijia" / "locale" / "en" / "LC_MESSAGES" / "django.po"


def _switch_to_english(client):
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"


@pytest.mark.django_db
def test_login_page_in_english_after_set_language(client):
    _switch_to_english(client)
    body = client.get(reverse("identity:login")).content.decode()
    assert "Log in to Qijia" in body
    assert "Username" in body and "Password" in body
    assert "登录企家" not in body
    assert "用户名" not in body


@pytest.mark.django_db
def test_login_page_is_chinese_by_default(client):
    body = client.get(reverse("identity:login")).content.decode()
    assert "登录企家" in body
    assert "Log in to Qijia" not in body


def test_logged_in_home_in_english_with_language_cookie(client, user_factory):
    user = user_factory("officer")
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get(reverse("core:home"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Log out" in body
    assert "Main navigation" in body
    assert "退出" not in body
    assert "主导航" not in body


def _po_entries(text):
    """Split a .po file into entries: (flags, {keyword: concatenated string})."""
    entries = []
    for block in text.split("\n\n"):
        flags, fields, key = set(), {}, None
        for line in block.splitlines():
            line = line.strip()
            if line.startswith("#,"):
                flags.update(f.strip() for f in line[2:].split(","))
            elif line.startswith("#") or not line:
                continue
            elif line.startswith('"'):
                fields[key] += line[1:-1]
            else:
                key, _, value = line.partition(" ")
                fields[key] = value.strip()[1:-1]
        if fields:
            entries.append((flags, fields))
    return entries


def test_english_catalogue_is_complete():
    entries = _po_entries(PO_PATH.read_text(encoding="utf-8"))
    header = [fields for _, fields in entries if fields.get("msgid") == ""]
    assert len(header) == 1
    messages = [(flags, fields) for flags, fields in entries if fields.get("msgid")]
    assert len(messages) > 600
    fuzzy = [fields["msgid"] for flags, fields in entries if "fuzzy" in flags]
    assert fuzzy == []
    empty = [
        fields["msgid"]
        for _, fields in messages
        for key, value in fields.items()
        if key.startswith("msgstr") and not value
    ]
    assert empty == []
    plural = [fields for _, fields in messages if "msgid_plural" in fields]
    assert plural and all("msgstr[0]" in f and "msgstr[1]" in f for f in plural)


def test_compiled_catalogue_is_present():
    mo = PO_PATH.with_suffix(".mo")
    assert mo.exists()
    assert mo.stat().st_size > 0
