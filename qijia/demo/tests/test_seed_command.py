"""``qijia seed`` on the database: valid identifiers everywhere, determinism, --if-empty,
all-or-nothing."""

import io

import pytest
from django.core.management import CommandError, call_command

from qijia.audit.models import AuditEvent
from qijia.core import pii
from qijia.core.identifiers import mask_id_number, validate_id_number, validate_uscc
from qijia.core.testing import make_uscc
from qijia.demo.orgs import BUREAU_UNITS
from qijia.demo.steps import (
    SeedContext,
    register_step,
    registered_steps,
    run_steps,
    unregister_step,
)
from qijia.enterprises.models import (
    Enterprise,
    Holding,
    MonthlyIndicator,
    Person,
    PersonRole,
)
from qijia.identity.models import OrgUnit

pytestmark = pytest.mark.django_db


FOUNDATION = ("--step", "demo.org_units", "--step", "demo.registry")


def _seed(*extra, steps=FOUNDATION):
    """This app's steps only: other contexts' demo steps are theirs to test."""
    out = io.StringIO()
    call_command(
        "seed", "--scale", "demo", "--seed", "5", "--no-progress", *steps, *extra, stdout=out
    )
    return out.getvalue()


def _snapshot():
    return {
        "enterprises": list(
            Enterprise.objects.order_by("uscc").values_list(
                "uscc", "name", "town__name", "industry_id", "address", "phone", "email",
                "established_on", "size_class", "status",
            )
        ),
        "persons": list(
            Person.objects.order_by("id_number_hash").values_list(
                "name", "id_number_hash", "id_number_masked", "phone", "email"
            )
        ),
        "roles": sorted(
            PersonRole.objects.values_list(
                "person__id_number_hash", "enterprise__uscc", "role", "share_pct"
            )
        ),
        "holdings": sorted(
            Holding.objects.values_list("holder__uscc", "held__uscc", "share_pct")
        ),
        "indicators": list(
            MonthlyIndicator.objects.order_by("enterprise__uscc", "month").values_list(
                "enterprise__uscc", "month", "revenue", "industrial_output", "employees",
                "electricity_kwh", "energy_tce", "rnd_spend", "land_mu",
            )
        ),
    }  # fmt: skip


def _wipe():
    MonthlyIndicator.objects.all().delete()
    PersonRole.objects.all().delete()
    Holding.objects.all().delete()
    Person.objects.all().delete()
    Enterprise.objects.all().delete()


def test_demo_seed_fills_the_registry_and_says_how_long_it_took():
    output = _seed()
    assert "完成，用时" in output
    assert Enterprise.objects.count() == 300
    assert Person.objects.count() == 600
    assert PersonRole.objects.count() > 1_000
    assert Holding.objects.count() == 45
    assert MonthlyIndicator.objects.count() > 300 * 40
    assert AuditEvent.objects.filter(action="demo.seed_registry").count() == 1
    assert set(OrgUnit.objects.values_list("code", flat=True)) >= {u.code for u in BUREAU_UNITS}


def test_every_seeded_uscc_and_identity_number_is_valid():
    _seed()
    for uscc in Enterprise.objects.values_list("uscc", flat=True):
        assert validate_uscc(uscc) == uscc
    for encrypted, digest, masked in Person.objects.values_list(
        "id_number_encrypted", "id_number_hash", "id_number_masked"
    ):
        number = validate_id_number(pii.decrypt(encrypted))
        assert pii.match_hash(number) == digest
        assert mask_id_number(number) == masked and "*" in masked


def _seed_foundation(seed=5):
    """Only this app's steps: other contexts' demo steps add rows (users, list entries) that
    point at enterprises and are theirs to test."""
    ctx = SeedContext(scale="demo", seed=seed, stdout=io.StringIO(), show_progress=False)
    run_steps(ctx, steps=[s for s in registered_steps() if s.name.startswith("demo.")])


def test_same_seed_gives_the_same_data_in_the_database():
    _seed_foundation()
    first = _snapshot()
    _wipe()
    _seed_foundation()
    assert _snapshot() == first
    _wipe()
    _seed_foundation(seed=6)
    assert _snapshot()["enterprises"] != first["enterprises"]


def test_enterprise_page_data_exists_for_a_demo_enterprise():
    _seed()
    enterprise = (
        Enterprise.objects.filter(status="active", established_on__year__lt=2020)
        .order_by("id")
        .first()
    )
    months = MonthlyIndicator.objects.filter(enterprise=enterprise).order_by("month")
    assert months.count() == 60
    assert enterprise.person_roles.filter(role="legal_representative").count() == 1


def test_if_empty_does_nothing_the_second_time_and_a_plain_rerun_is_refused():
    _seed()
    before = (Enterprise.objects.count(), MonthlyIndicator.objects.count())
    assert "跳过" in _seed("--if-empty")
    assert (Enterprise.objects.count(), MonthlyIndicator.objects.count()) == before
    with pytest.raises(CommandError, match="已有 300 家企业"):
        _seed()


def test_a_failing_step_rolls_the_whole_seed_back():
    def explode(ctx):
        raise RuntimeError("演示故障")

    register_step("test.explode", explode, 900)
    try:
        with pytest.raises(CommandError, match="test.explode.*演示故障"):
            _seed("--step", "test.explode")
    finally:
        unregister_step("test.explode")
    assert Enterprise.objects.count() == 0
    assert Person.objects.count() == 0
    assert not AuditEvent.objects.filter(action="demo.seed_registry").exists()


def test_later_steps_see_the_registry_and_ids_keep_working_after_the_seed():
    seen = {}

    def later(ctx):
        seen.update(ctx.shared["demo.registry"])

    register_step("test.later", later, 500)
    try:
        _seed("--step", "test.later")
    finally:
        unregister_step("test.later")
    assert seen["counts"]["enterprises"] == 300
    assert len(seen["groups"]) == 6
    parent = Enterprise.objects.get(pk=seen["groups"][0][0])
    assert parent.holdings.exists()
    # The id sequence moved past the explicit ids: an ORM insert still works.
    clone = Enterprise.objects.create(uscc=make_uscc(999_999), name="新企业", town=parent.town)
    assert clone.pk > max(Enterprise.objects.exclude(pk=clone.pk).values_list("pk", flat=True))


def test_step_option_runs_only_the_named_steps_and_refuses_unknown_ones():
    with pytest.raises(CommandError, match="未知的步骤：nope"):
        _seed(steps=("--step", "nope"))
    _seed(steps=("--step", "demo.org_units"))
    assert OrgUnit.objects.filter(code="partner-tax").exists()
    assert Enterprise.objects.count() == 0


def _schema():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid::regclass::text LIKE 'enterprises_%%' ORDER BY 1, 2"
        )
        constraints = cursor.fetchall()
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename LIKE 'enterprises_%%'"
            " ORDER BY 1"
        )
        return constraints, cursor.fetchall()


def test_constraints_and_indexes_lifted_for_the_load_are_all_back_and_enforced():
    from django.db import IntegrityError, connection, transaction

    if connection.vendor != "postgresql":
        pytest.skip("the bulk-load path is PostgreSQL's")
    before = _schema()
    _seed()
    assert _schema() == before
    existing = MonthlyIndicator.objects.order_by("id").first()
    with pytest.raises(IntegrityError), transaction.atomic():
        MonthlyIndicator.objects.create(enterprise=existing.enterprise, month=existing.month)
