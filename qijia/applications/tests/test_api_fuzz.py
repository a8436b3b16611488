"""Property-based fuzzing of the enterprise and application API (schemathesis, in-process WSGI).

Every operation gets generated requests, valid and invalid, sent in a case officer's session and in
an enterprise user's session (with the CSRF pair the API's session auth asks of a POST); none may
be answered with a 5xx, and every refusal carries the shared error shape. The registry's operations
are fuzzed with department tokens in qijia/registry/tests/test_api_fuzz.py.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.test import Client
from hypothesis import HealthCheck, settings

from config.wsgi import application
from qijia.applications.testing import filled_application, make_world
from qijia.core.testing import assert_api_answer, raw_wsgi_in_the_test_transaction

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application).include(
    path_regex="^/api/v1/(applications|enterprises)/"
)
CSRF = "q" * 32  # the same secret in the cookie and the header, as a browser sends them


@pytest.fixture
def sessions(db):
    world = make_world()
    filled_application(world)  # so that ids and codes sometimes hit a real row
    cookies = {}
    for who, user in (("officer", world.officer), ("enterprise", world.applicant)):
        client = Client()
        client.force_login(user)
        cookies[who] = {"sessionid": client.cookies["sessionid"].value, "csrftoken": CSRF}
    with raw_wsgi_in_the_test_transaction():
        yield cookies


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_enterprise_and_application_api_never_answer_with_a_server_error(case, sessions):
    for who, cookie in sessions.items():
        response = case.call(cookies=cookie, headers={"X-CSRFToken": CSRF})
        assert_api_answer(f"{who}: {case.method} {case.formatted_path}", response)
