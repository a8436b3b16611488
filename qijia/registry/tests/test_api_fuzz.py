"""Property-based fuzzing of the served OpenAPI document (schemathesis, in-process over WSGI).

Every registry operation gets a bounded number of generated requests, valid and invalid, sent
with a read-write department token; none may be answered with a 5xx.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from config.wsgi import application
from qijia.core.testing import assert_api_answer
from qijia.registry import services

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application).include(
    path_regex="^/api/v1/registry/"
)
MAX_EXAMPLES = 20


@pytest.fixture
def rw_token(partner_a, make_entry):
    """A read-write token, and a few entries so that ids and codes sometimes hit real rows."""
    for _ in range(3):
        make_entry()
    # The raw WSGI handler closes "old" connections at request boundaries, which would end the
    # test's transaction; the Django test client disconnects these handlers the same way.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield services.token_create(actor=partner_a, name="fuzz", scope="read_write")[1]
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
@pytest.mark.django_db
def test_registry_api_never_answers_with_a_server_error(case, rw_token):
    response = case.call(headers={"Authorization": f"Bearer {rw_token}"})
    assert_api_answer(f"{case.method} {case.formatted_path}", response)
