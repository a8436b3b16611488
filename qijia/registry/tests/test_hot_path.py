"""The check's hot path (qijia.core.db): same answers as the ORM, prepared on PostgreSQL, and the
token cache forgets a revoked token."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from qijia.audit.models import AuditEvent
from qijia.core.db import execute, select_joined
from qijia.registry import auth, selectors, services
from qijia.registry.models import ApiToken, Entry

pytestmark = pytest.mark.django_db


def test_select_joined_matches_the_orm(make_entry):
    first, second = make_entry(), make_entry()
    rows = select_joined(
        Entry, 't."id" IN (%s, %s)', [first.pk, second.pk], related=("category", "source"),
        order_by='t."id"',
    )  # fmt: skip
    orm = list(Entry.objects.select_related("category", "source").filter(
        pk__in=[first.pk, second.pk]).order_by("pk"))  # fmt: skip
    assert [r.pk for r in rows] == [o.pk for o in orm]
    for got, want in zip(rows, orm, strict=True):
        assert got.uscc == want.uscc and got.valid_from == want.valid_from
        assert "category" in got._state.fields_cache and got.category.name == want.category.name
        assert got.source.name == want.source.name and not got._state.adding


def test_select_joined_refuses_models_whose_fields_convert():
    with pytest.raises(TypeError, match="converted fields"):
        select_joined(AuditEvent, "1 = 0", [])


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's"
)
def test_hot_statements_are_prepared_on_postgresql(make_entry):
    entry = make_entry()
    for _ in range(2):
        assert [e.pk for e in selectors._entries_in_force([entry.uscc], entry.valid_from)] == [
            entry.pk
        ]
    prepared = execute("SELECT statement FROM pg_prepared_statements", [])
    assert any('t."uscc" = $1' in row[0] for row in prepared), prepared


def test_check_of_many_codes_matches_one_by_one(make_entry):
    entries = [make_entry() for _ in range(3)]
    codes = [e.uscc for e in entries]
    on = dt.date(2026, 6, 1)
    together = selectors._entries_in_force(codes, on)
    apart = [e for code in codes for e in selectors._entries_in_force([code], on)]
    assert (
        sorted(e.pk for e in together)
        == sorted(e.pk for e in apart)
        == sorted(e.pk for e in entries)
    )


def test_token_cache_forgets_revoked_token(partner_a, token_for):
    text = token_for(partner_a)
    assert auth.token_authenticate(text) is not None  # cached now
    services.token_revoke(actor=partner_a, token_id=ApiToken.objects.get().pk)
    assert auth.token_authenticate(text) is None


def test_token_cache_rechecks_a_wrong_secret(partner_a, token_for):
    text = token_for(partner_a)
    assert auth.token_authenticate(text) is not None
    assert auth.token_authenticate(text[:-3] + "xyz") is None
    assert auth.token_authenticate(text) is not None
