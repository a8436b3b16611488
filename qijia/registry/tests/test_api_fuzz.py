"""Property-based fuzzing of the served OpenAPI document (schemathesis, in-process over WSGI).

Every registry operation gets a bounded number of generated requests, valid and invalid, sent
with a read-write department token; none may be answered with a 5xx.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from config.wsgi import application
from qijia.core.testing import assert_api_answer, raw_wsgi_in_the_test_transaction
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
    with raw_wsgi_in_the_test_transaction():
        yield services.token_create(actor=partner_a, name="fuzz", scope="read_write")[1]


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
