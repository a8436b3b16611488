"""Factories shared by every context's tests (factory_boy). Import from here, not from tests/."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import factory

from qijia.core.identifiers import USCC_ALPHABET, id_check_char, uscc_check_char

if TYPE_CHECKING:
    from qijia.identity.models import OrgUnit  # noqa: F401 - named in a quoted type argument

_uscc_counter = itertools.count(1)
TEST_PASSWORD = "Qijia-test-pass-2026"


def make_uscc(n: int | None = None, *, division: str = "441900") -> str:
    """A valid enterprise USCC (91 + division + 9-char body + check)."""
    n = next(_uscc_counter) if n is None else n
    body, value = [], n
    for _ in range(8):
        body.append(USCC_ALPHABET[value % 31])
        value //= 31
    first17 = "91" + division + "M" + "".join(reversed(body))
    return first17 + uscc_check_char(first17)


def make_id_number(seed: int, *, birth: str = "19800101", division: str = "441900") -> str:
    rnd = random.Random(seed)
    first17 = f"{division}{birth}{rnd.randint(0, 999):03d}"
    return first17 + id_check_char(first17)


class OrgUnitFactory(factory.django.DjangoModelFactory["OrgUnit"]):
    class Meta:
        model = "identity.OrgUnit"
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"section-{n}")
    name = factory.Sequence(lambda n: f"测试科室{n}")
    kind = "section"


class EnterpriseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "enterprises.Enterprise"

    uscc = factory.LazyFunction(make_uscc)
    name = factory.Sequence(lambda n: f"东莞市测试制造有限公司{n}")
    town = factory.LazyFunction(lambda: _first_town())
    industry_id = "C39"
    address = "东莞市南城街道测试路1号"
    size_class = "small"


def _first_town():
    from qijia.identity.models import OrgUnit  # noqa: F401 - named in a quoted type argument

    return OrgUnit.objects.filter(kind__in=["town", "subdistrict", "zone"]).order_by("code").first()


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "identity.User"
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.Sequence(lambda n: f"测试用户{n}")
    role = "officer"
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):  # noqa: N805 - factory_boy signature
        if create:
            obj.save()


def make_user(role: str, *, org_unit=None, enterprise=None, username: str | None = None, **extra):
    """A user of ``role`` attached where that role must be (a town for town officers, etc.)."""

    if role == "enterprise":
        enterprise = enterprise or EnterpriseFactory()
        org_unit = None
    elif org_unit is None:
        if role == "town":
            org_unit = _first_town()
        elif role == "partner":
            org_unit = OrgUnitFactory(code="partner-test", name="测试协作部门", kind="partner")
        elif role == "inspector":
            org_unit = OrgUnitFactory(code="inspection-test", name="测试纪检组", kind="inspection")
        else:
            org_unit = OrgUnitFactory(code="section-test", name="测试科室", kind="section")
    if role == "expert":
        org_unit = None
    return UserFactory(
        role=role,
        org_unit=org_unit,
        enterprise=enterprise,
        username=username or f"{role}-{next(_uscc_counter)}",
        **extra,
    )


def assert_api_answer(label: str, response: Any) -> None:
    """What every fuzzed API answer must be (a schemathesis response): never a 5xx, and a JSON
    refusal in the shared error shape ({"code", "message", "fields"})."""
    assert response.status_code < 500, f"{label} → {response.status_code}: {response.text[:500]}"
    content_type = response.headers.get("content-type") or [""]
    if isinstance(content_type, list):  # schemathesis gives each header's values as a list
        content_type = content_type[0]
    if response.status_code >= 400 and content_type.startswith("application/json"):
        body = response.json()
        assert isinstance(body, dict) and {"code", "message", "fields"} <= set(body), body


@contextmanager
def raw_wsgi_in_the_test_transaction() -> Iterator[None]:
    """Let requests sent straight to the WSGI application (schemathesis) run inside the test's
    transaction: Django's handler closes "old" connections at request boundaries, which would end
    it. The test client disconnects these handlers the same way."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
