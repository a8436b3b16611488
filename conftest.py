"""Suite-wide fixtures: reference data, users per role, a logged-in client."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    from qijia.core.reference import load_reference

    with django_db_blocker.unblock():
        load_reference()
