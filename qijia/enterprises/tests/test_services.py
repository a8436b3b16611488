import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from qijia.audit.models import AuditEvent
from qijia.core import pii
from qijia.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from qijia.core.testing import EnterpriseFactory, make_id_number, make_uscc
from qijia.enterprises import selectors, services
from qijia.enterprises.models import Enterprise, Holding, MonthlyIndicator, Person, PersonRole

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer(user_factory):
    return user_factory("officer")


def test_enterprise_create_validates_uscc_and_audits_after(officer, towns):
    code = make_uscc(424242)
    enterprise = services.enterprise_create(
        actor=officer,
        data={
            "uscc": code.lower(),
            "name": "东莞市新登记有限公司",
            "town": towns[0].name,
            "industry": "C39",
            "size_class": "中型",
            "established_on": "2020-05-06",
        },
    )
    assert enterprise.uscc == code and enterprise.size_class == "medium"
    event = AuditEvent.objects.get(action="enterprises.enterprise.create")
    assert event.object_id == str(enterprise.pk)
    assert event.after["uscc"] == code and event.after["established_on"] == "2020-05-06"


def test_enterprise_create_rejects_bad_check_character_with_field_error(officer, towns):
    code = make_uscc(5)
    wrong = code[:17] + ("1" if code[17] != "1" else "2")
    with pytest.raises(ValidationFailed) as exc:
        services.enterprise_create(
            actor=officer, data={"uscc": wrong, "name": "x", "town": towns[0].name}
        )
    assert "校验位" in exc.value.fields["uscc"]
    assert not Enterprise.objects.filter(uscc=wrong).exists()
    assert not AuditEvent.objects.exists()


def test_enterprise_create_refuses_a_registered_uscc(officer, towns):
    existing = EnterpriseFactory()
    with pytest.raises(Conflict):
        services.enterprise_create(
            actor=officer, data={"uscc": existing.uscc, "name": "x", "town": towns[0].name}
        )


def test_enterprise_update_records_before_and_after_of_changed_fields_only(officer, towns):
    enterprise = EnterpriseFactory(town=towns[0])
    services.enterprise_update(
        actor=officer,
        enterprise=enterprise,
        data={"name": "东莞市改名有限公司", "town": towns[1].name, "address": enterprise.address},
    )
    event = AuditEvent.objects.get(action="enterprises.enterprise.update")
    assert set(event.before) == {"name", "town_id"}
    assert event.after == {"name": "东莞市改名有限公司", "town_id": towns[1].pk}
    enterprise.refresh_from_db()
    assert enterprise.town_id == towns[1].pk


def test_enterprise_update_cannot_change_the_uscc(officer):
    enterprise = EnterpriseFactory()
    with pytest.raises(ValidationFailed):
        services.enterprise_update(
            actor=officer, enterprise=enterprise, data={"uscc": make_uscc(777)}
        )


@pytest.mark.parametrize("role", ["town", "inspector", "partner", "expert", "enterprise"])
def test_only_bureau_officers_change_the_registry(user_factory, role):
    enterprise = EnterpriseFactory()
    with pytest.raises(PermissionDenied):
        services.enterprise_update(
            actor=user_factory(role), enterprise=enterprise, data={"name": "x"}
        )
    with pytest.raises(PermissionDenied):
        services.person_create(actor=user_factory(role), id_number=make_id_number(1), name="x")


def test_person_is_stored_hashed_encrypted_and_masked_never_plain(officer):
    number = make_id_number(7, birth="19850312")
    person = services.person_create(actor=officer, id_number=number.lower(), name="陈六")
    person.refresh_from_db()
    assert person.id_number_hash == pii.match_hash(number)
    assert pii.decrypt(person.id_number_encrypted) == number
    assert person.id_number_masked == number[:6] + "*" * 8 + number[-4:]
    stored = " ".join(str(v) for v in Person.objects.filter(pk=person.pk).values().get().values())
    assert number not in stored
    event = AuditEvent.objects.get(action="enterprises.person.create")
    assert (
        number not in str(event.after)
        and event.after["id_number_masked"] == person.id_number_masked
    )
    assert services.person_find_by_id_number(id_number=number) == person


def test_person_with_same_id_number_is_refused(officer):
    number = make_id_number(8)
    services.person_create(actor=officer, id_number=number, name="甲")
    with pytest.raises(Conflict):
        services.person_create(actor=officer, id_number=number, name="乙")


def test_person_with_invalid_id_number_names_the_rule(officer):
    number = make_id_number(9)
    bad = number[:17] + ("0" if number[17] != "0" else "1")
    with pytest.raises(ValidationFailed) as exc:
        services.person_create(actor=officer, id_number=bad, name="甲")
    assert "校验位" in exc.value.fields["id_number"]


@pytest.mark.parametrize("role", ["officer", "approver", "admin", "inspector"])
def test_reveal_returns_full_number_and_writes_an_audit_read(user_factory, role):
    officer = user_factory("officer")
    number = make_id_number(21)
    person = services.person_create(actor=officer, id_number=number, name="周七")
    actor = user_factory(role)
    assert services.person_reveal_id_number(actor=actor, person=person) == number
    event = AuditEvent.objects.get(action="enterprises.person.reveal_id_number")
    assert event.is_read and event.actor_id == actor.pk and event.object_id == str(person.pk)
    assert number not in str(event.after)


@pytest.mark.parametrize("role", ["town", "enterprise", "partner", "expert"])
def test_reveal_is_refused_for_other_roles_and_nothing_is_read(user_factory, role):
    person = services.person_create(
        actor=user_factory("officer"), id_number=make_id_number(22), name="吴八"
    )
    with pytest.raises(PermissionDenied):
        services.person_reveal_id_number(actor=user_factory(role), person=person)
    assert not AuditEvent.objects.filter(action="enterprises.person.reveal_id_number").exists()


def test_reveal_through_the_page_is_audited_and_others_see_only_the_mask(user_factory, towns):
    officer = user_factory("officer")
    enterprise = EnterpriseFactory(town=towns[0])
    number = make_id_number(23)
    person = services.person_create(actor=officer, id_number=number, name="郑九")
    role = services.person_role_set(
        actor=officer, person=person, enterprise=enterprise, role="legal_representative"
    )
    town_user = user_factory("town", org_unit=towns[0])
    for user, can_reveal in ((officer, True), (town_user, False)):
        client = Client()
        client.force_login(user)
        html = client.get(f"/enterprises/{enterprise.uscc}/").content.decode()
        assert person.id_number_masked in html and number not in html
        assert ("显示完整" in html) == can_reveal
        response = client.post(f"/enterprises/persons/{role.pk}/reveal/", HTTP_HX_REQUEST="true")
        if can_reveal:
            assert response.status_code == 200 and number in response.content.decode()
            assert "no-store" in response["Cache-Control"]
        else:
            assert response.status_code == 403 and number not in response.content.decode()
    assert AuditEvent.objects.filter(action="enterprises.person.reveal_id_number").count() == 1
    api = Client()
    api.force_login(officer)
    persons = api.get(f"/api/v1/enterprises/{enterprise.uscc}").json()["persons"]
    assert persons[0]["id_number_masked"] == person.id_number_masked
    assert number not in str(persons)


def test_reveal_of_a_person_in_an_invisible_enterprise_is_404(user_factory, towns):
    officer = user_factory("officer")
    other = EnterpriseFactory(town=towns[1])
    person = services.person_create(actor=officer, id_number=make_id_number(24), name="王十")
    role = services.person_role_set(actor=officer, person=person, enterprise=other, role="director")
    enterprise_user = user_factory("enterprise")
    client = Client()
    client.force_login(enterprise_user)
    assert client.post(f"/enterprises/persons/{role.pk}/reveal/").status_code == 404


def test_roles_holdings_and_indicators_are_upserted_and_audited(officer):
    a, b = EnterpriseFactory(), EnterpriseFactory()
    person = services.person_create(actor=officer, id_number=make_id_number(31), name="冯一")
    role = services.person_role_set(
        actor=officer, person=person, enterprise=a, role="shareholder", share_pct="40"
    )
    again = services.person_role_set(
        actor=officer, person=person, enterprise=a, role="shareholder", share_pct="40.0000"
    )
    assert again.pk == role.pk and PersonRole.objects.count() == 1
    services.person_role_set(
        actor=officer, person=person, enterprise=a, role="shareholder", share_pct="45"
    )
    with pytest.raises(ValidationFailed):
        services.person_role_set(
            actor=officer, person=person, enterprise=a, role="director", share_pct="5"
        )
    holding = services.holding_set(actor=officer, holder=a, held=b, share_pct=Decimal("70"))
    with pytest.raises(ValidationFailed):
        services.holding_set(actor=officer, holder=a, held=a, share_pct=Decimal("10"))
    with pytest.raises(ValidationFailed):
        services.holding_set(actor=officer, holder=b, held=a, share_pct=Decimal("101"))
    indicator = services.indicator_set(
        actor=officer, enterprise=a, month="2024-03", values={"revenue": "100.5", "employees": 12}
    )
    services.indicator_set(
        actor=officer, enterprise=a, month=dt.date(2024, 3, 1), values={"employees": 13}
    )
    indicator.refresh_from_db()
    assert (indicator.revenue, indicator.employees) == (Decimal("100.50"), 13)
    with pytest.raises(ValidationFailed):
        services.indicator_set(actor=officer, enterprise=a, month="2024-03-15", values={})
    services.person_role_remove(actor=officer, person_role=role)
    services.holding_remove(actor=officer, holding=holding)
    assert not PersonRole.objects.exists() and not Holding.objects.exists()
    assert MonthlyIndicator.objects.count() == 1
    actions = list(AuditEvent.objects.order_by("seq").values_list("action", flat=True))
    assert actions == [
        "enterprises.person.create",
        "enterprises.person_role.create",
        "enterprises.person_role.update",
        "enterprises.holding.create",
        "enterprises.indicator.create",
        "enterprises.indicator.update",
        "enterprises.person_role.delete",
        "enterprises.holding.delete",
    ]


def test_search_matches_part_of_name_or_uscc_and_filters(user_factory, towns):
    officer = user_factory("officer")
    a = EnterpriseFactory(name="东莞市松山湖精密模具有限公司", town=towns[0], size_class="medium")
    b = EnterpriseFactory(
        name="东莞市长安电子有限公司", town=towns[1], size_class="small", industry_id="C38"
    )

    def names(**f):
        return {
            e.name
            for e in selectors.enterprise_list(
                actor=officer, filters=selectors.EnterpriseFilters(**f)
            )
        }

    assert names(q="精密模具") == {a.name}
    assert names(q=b.uscc[-7:].lower()) == {b.name}
    assert names(q="有限公司", town=towns[1].pk) == {b.name}
    assert names(q="有限公司", size_class="medium") == {a.name}
    assert names(q="有限公司", industry="C38") == {b.name}
    assert names(q="有限公司", status="cancelled") == set()


def test_list_query_count_does_not_grow_with_rows(user_factory, towns):
    officer = user_factory("officer")
    client = Client()
    client.force_login(officer)

    def count_queries():
        with CaptureQueriesContext(connection) as ctx:
            response = client.get("/enterprises/", {"q": "有限公司"})
            assert response.status_code == 200
        return len(ctx.captured_queries)

    for i in range(3):
        e = EnterpriseFactory(town=towns[i % 2])
        p = Person.objects.create(name=f"代表{i}")
        PersonRole.objects.create(person=p, enterprise=e, role="legal_representative")
    small = count_queries()
    for i in range(30):
        e = EnterpriseFactory(town=towns[i % 2])
        p = Person.objects.create(name=f"代表x{i}")
        PersonRole.objects.create(person=p, enterprise=e, role="legal_representative")
    large = count_queries()
    assert large == small
    assert large <= 12


def test_detail_and_api_query_counts_are_bounded(user_factory):
    officer = user_factory("officer")
    a = EnterpriseFactory()
    for i in range(8):
        other = EnterpriseFactory()
        Holding.objects.create(holder=a, held=other, share_pct=10)
        Holding.objects.create(holder=other, held=a, share_pct=5)
        p = Person.objects.create(name=f"人{i}", id_number_masked="441900********0000")
        PersonRole.objects.create(person=p, enterprise=a, role="director")
        MonthlyIndicator.objects.create(enterprise=a, month=dt.date(2023, i + 1, 1), revenue=i)
    client = Client()
    client.force_login(officer)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(f"/api/v1/enterprises/{a.uscc}").status_code == 200
    assert len(ctx.captured_queries) <= 12, "\n".join(q["sql"][:120] for q in ctx.captured_queries)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(f"/enterprises/{a.uscc}/").status_code == 200
    assert len(ctx.captured_queries) <= 14


def test_enterprise_get_hides_existence_outside_scope(user_factory, towns):
    b = EnterpriseFactory(town=towns[1])
    with pytest.raises(NotFound):
        selectors.enterprise_get(actor=user_factory("town", org_unit=towns[0]), uscc=b.uscc)
    with pytest.raises(PermissionDenied):
        selectors.enterprise_list(actor=user_factory("partner"))


def test_export_is_audited_as_a_sensitive_read_with_filters(user_factory, towns):
    import io

    from openpyxl import load_workbook

    officer = user_factory("officer")
    EnterpriseFactory(name="东莞市导出甲有限公司", town=towns[0])
    EnterpriseFactory(name="东莞市导出乙有限公司", town=towns[1])
    client = Client()
    client.force_login(officer)
    response = client.get("/enterprises/export.xlsx", {"q": "导出", "town": towns[0].pk})
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = list(workbook["企业名录"].iter_rows(values_only=True))
    assert (
        rows[0][0] == "统一社会信用代码" and len(rows) == 2 and rows[1][1] == "东莞市导出甲有限公司"
    )
    event = AuditEvent.objects.get(action="enterprises.export")
    assert event.is_read and event.after == {
        "filters": {"q": "导出", "town": towns[0].pk},
        "rows": 1,
    }


def test_home_panels_show_counts_for_staff_and_own_card_for_enterprise(user_factory, towns):
    EnterpriseFactory(town=towns[0], size_class="large")
    own = EnterpriseFactory(town=towns[1], name="东莞市本企业测试有限公司")
    for user, expected in (
        (user_factory("officer"), "登记企业"),
        (user_factory("town", org_unit=towns[0]), towns[0].name),
        (user_factory("enterprise", enterprise=own), own.uscc),
    ):
        client = Client()
        client.force_login(user)
        html = client.get("/").content.decode()
        assert expected in html, user.role


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="pg_trgm indexes exist on PostgreSQL only"
)
@pytest.mark.parametrize(
    "q, index",
    [
        ("精密模具", "enterprise_name_plain_trgm"),
        ("Tcl电子", "enterprise_name_trgm"),
        ("9144190", "enterprise_uscc_plain_trgm"),
    ],
)
def test_partial_search_can_use_the_trigram_indexes(user_factory, q, index):
    officer = user_factory("officer")
    qs = selectors.enterprise_list(actor=officer, filters=selectors.EnterpriseFilters(q=q))
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        # A tiny test table would be scanned anyway; take scans away to see the usable index.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert index in plan, plan


def test_a_complete_uscc_is_an_exact_lookup():
    code = make_uscc(31337)
    condition = selectors.search_condition(code.lower())
    assert condition.children == [("uscc", code)]
    assert selectors.search_condition("精密").children == [("name__contains", "精密")]
    assert ("name__icontains", "abc") in selectors.search_condition("abc").children


def test_person_lookup_by_id_number_lists_roles_and_is_audited_hit_or_miss(user_factory):
    officer = user_factory("officer")
    a, b = EnterpriseFactory(), EnterpriseFactory()
    number = make_id_number(41)
    person = services.person_create(actor=officer, id_number=number, name="褚二")
    services.person_role_set(
        actor=officer, person=person, enterprise=a, role="legal_representative"
    )
    services.person_role_set(
        actor=officer, person=person, enterprise=b, role="shareholder", share_pct="20"
    )
    inspector = user_factory("inspector")
    client = Client()
    client.force_login(inspector)
    html = client.post("/enterprises/persons/", {"id_number": number.lower()}).content.decode()
    assert (
        a.name in html and b.name in html and person.id_number_masked in html and number not in html
    )
    missing = client.post("/enterprises/persons/", {"id_number": make_id_number(42)})
    assert "没有登记该身份证号码" in missing.content.decode()
    bad = client.post("/enterprises/persons/", {"id_number": "123"})
    assert bad.status_code == 422 and "18位" in bad.content.decode()
    events = list(AuditEvent.objects.filter(action="enterprises.person.lookup").order_by("seq"))
    assert [e.after["found"] for e in events] == [True, False]
    assert all(e.is_read and number not in str(e.after) for e in events)


@pytest.mark.parametrize("role", ["town", "enterprise", "partner", "expert"])
def test_person_lookup_is_refused_to_roles_that_cannot_read_id_numbers(user_factory, role):
    client = Client()
    client.force_login(user_factory(role))
    response = client.post("/enterprises/persons/", {"id_number": make_id_number(43)})
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action="enterprises.person.lookup").exists()
