"""The registry's demo seed step: entries, a token and a pending objection, deterministically."""

from __future__ import annotations

import io

import pytest

from qijia.core.testing import EnterpriseFactory, OrgUnitFactory
from qijia.demo.steps import SeedContext, registered_steps
from qijia.registry.demo import seed_registry_demo
from qijia.registry.models import ApiToken, Entry, Objection

pytestmark = pytest.mark.django_db


def test_registry_demo_step_is_registered_after_the_enterprise_registry():
    steps = {s.name: s.order for s in registered_steps()}
    assert steps["registry.demo"] > steps["demo.registry"]


def test_registry_demo_step_seeds_entries_a_token_and_an_objection():
    for code in ("partner-tax", "partner-ecology"):
        OrgUnitFactory(code=code, name=code, kind="partner")
    for _ in range(8):
        EnterpriseFactory()
    out = io.StringIO()
    seed_registry_demo(SeedContext(scale="demo", seed=1, stdout=out, show_progress=False))
    assert Entry.objects.count() == 41  # 20 per department + the demo enterprise's entry
    assert Entry.objects.filter(revoked_at__isnull=False).count() == 1
    assert ApiToken.objects.get().scope == "read"
    objection = Objection.objects.get()
    assert objection.status == "pending" and objection.evidence.count() == 1
    assert "qjr_" in out.getvalue()
