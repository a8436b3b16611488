"""Every page of the demo city, opened by every role (and by nobody), answers without a server
error: an object the user may not see, a wrong id or a wrong code is a 403 or 404 page, and an
action posted empty is refused, not a crash.

The crawl walks the URLconf, so a page added later is opened too. Ids are the first row of a
table (usually another organisation's object for an enterprise user) and one that does not exist.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from itertools import product

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from qijia.enterprises.models import Enterprise
from qijia.identity.models import User

pytestmark = pytest.mark.django_db

# Not pages of ours (Django's admin, the API with its own schema tests) or not a GET (logout).
SKIPPED = ("django-admin/", "api/", "i18n/", "accounts/logout/")
CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")
ANSWERS = {200, 302, 400, 403, 404, 405}


def _routes(resolver: URLResolver, prefix: str = "") -> Iterator[str]:
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _routes(entry, route)
        elif isinstance(entry, URLPattern) and not route.startswith(SKIPPED):
            yield route


def _fill(route: str, choice: tuple[str, ...]) -> str:
    filled = iter(choice)
    return "/" + CONVERTER.sub(lambda _m: next(filled), route)


def _paths(route: str, values: dict[str, list[str]]) -> list[str]:
    slots = CONVERTER.findall(route)
    return [_fill(route, c) for c in product(*(values[k or "str"] for k, _name in slots))]


@pytest.fixture
def demo_city(settings):
    settings.DEBUG = True  # demo accounts have a public password and exist only in DEBUG
    call_command("load_reference", stdout=io.StringIO())
    call_command("seed", "--scale", "demo", "--seed", "5", "--no-progress", stdout=io.StringIO())
    call_command("demo_accounts", stdout=io.StringIO())
    settings.DEBUG = False  # pages as production renders them


def test_no_page_answers_with_a_server_error(demo_city):
    some_uscc = Enterprise.objects.order_by("pk").values_list("uscc", flat=True).first()
    assert some_uscc
    values = {
        "int": ["1", "999999"],
        "slug": ["enterprises", "submit", "unknown"],
        "str": [some_uscc, "91440300708461136X"],
    }
    routes = sorted(set(_routes(get_resolver())))
    assert len(routes) > 40  # the walk found the site, not an empty URLconf
    paths = [p for route in routes for p in _paths(route, values)]

    clients = {"anonymous": Client()}
    for user in User.objects.filter(username__startswith="demo-").order_by("username"):
        client = Client()
        client.force_login(user)
        clients[user.role] = client
    assert len(clients) >= 9

    seen: dict[int, int] = {}
    for who, client in clients.items():
        post_only = []
        for path in paths:
            response = client.get(path)  # an exception in a view fails the test here
            assert response.status_code in ANSWERS, (who, path, response.status_code)
            seen[response.status_code] = seen.get(response.status_code, 0) + 1
            if response.status_code == 405:
                post_only.append(path)
        # An action posted with nothing filled in (a double click, a stale form) is refused or
        # answered with a message, never a server error.
        for path in post_only:
            response = client.post(path, {})
            assert response.status_code in ANSWERS - {405}, (who, "POST", path, response)
    # Both sides were reached: pages shown, and pages refused or not found.
    assert seen.get(200, 0) > 100 and seen.get(404, 0) + seen.get(403, 0) > 100, seen
