"""The generator without a database: determinism, valid identifiers, coherent ownership."""

import collections
import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qijia.core.identifiers import validate_id_number, validate_uscc
from qijia.demo import generator as g

TOWNS = [(i, name) for i, name in enumerate(["长安镇", "虎门镇", "南城街道", "松山湖"], start=1)]
INDUSTRIES = ["C18", "C29", "C33", "C38", "C39"]
MONTHS = g.month_list(dt.date(2025, 12, 1), 60)
PLAN = g.scaled_plan("city", 2_000)


def _city(seed):
    enterprises = g.generate_enterprises(PLAN, seed, TOWNS, INDUSTRIES, MONTHS)
    ownership = g.generate_ownership(PLAN, seed, enterprises)
    offsets = g.allocate_people(PLAN, seed, enterprises)
    roles = []
    for start in range(0, len(enterprises), 500):
        roles += g.generate_roles(PLAN, seed, enterprises, offsets, ownership, start, start + 500)
    persons = [p for chunk in g.generate_persons(PLAN, seed, chunk=300) for p in chunk]
    return enterprises, ownership, roles, persons


@pytest.fixture(scope="module")
def city():
    return _city(11)


def test_same_seed_gives_the_same_city_row_for_row(city):
    again = _city(11)
    assert city[0] == again[0]
    assert city[1].holdings == again[1].holdings and city[1].groups == again[1].groups
    assert city[2] == again[2]
    assert city[3] == again[3]
    blocks_a = g.indicator_blocks(11, city[0], list(range(1, 2_001)))
    blocks_b = g.indicator_blocks(11, again[0], list(range(1, 2_001)))
    season = g.seasonality(MONTHS)
    texts = [m.isoformat() for m in MONTHS]
    for a, b in zip(blocks_a, blocks_b, strict=True):
        assert g.indicator_copy_text(a, texts, season) == g.indicator_copy_text(b, texts, season)


def test_another_seed_gives_another_city(city):
    other = _city(12)
    assert [e.uscc for e in city[0]] != [e.uscc for e in other[0]]
    assert [p.id_number for p in city[3]] != [p.id_number for p in other[3]]


def test_every_uscc_and_identity_number_is_valid_and_unique(city):
    enterprises, _, _, persons = city
    usccs = [validate_uscc(e.uscc) for e in enterprises]
    assert len(set(usccs)) == len(usccs)
    numbers = [validate_id_number(p.id_number) for p in persons]
    assert len(set(numbers)) == len(numbers) == PLAN.persons
    assert len({e.name for e in enterprises}) == len(enterprises)


@settings(max_examples=300)
@given(index=st.integers(0, 10_000_000), seed=st.integers(0, 2**32))
def test_generated_uscc_always_passes_the_check_character_rule(index, seed):
    assert validate_uscc(g.uscc_for(index, seed)) == g.uscc_for(index, seed)


def test_uscc_bodies_never_repeat_over_a_large_index_range():
    codes = {g.uscc_for(i, 3) for i in range(200_000)}
    assert len(codes) == 200_000


def test_each_enterprise_has_one_legal_representative_and_shares_add_up(city):
    enterprises, ownership, roles, _ = city
    legal = collections.Counter(ent for _, ent, role, _ in roles if role == "legal_representative")
    assert all(legal[e.index] == 1 for e in enterprises)
    person_share = collections.defaultdict(float)
    for _, ent, role, share in roles:
        assert (share is not None) == (role == "shareholder")
        if share is not None:
            assert 0 < float(share) <= 100
            person_share[ent] += float(share)
    for e in enterprises:
        total = person_share[e.index] + ownership.corporate_share.get(e.index, 0.0)
        assert total == pytest.approx(100.0, abs=0.01) or (
            person_share[e.index] == 0 and ownership.corporate_share.get(e.index, 0) <= 100.0
        )
    keys = [(p, e, r) for p, e, r, _ in roles]
    assert len(keys) == len(set(keys))


def test_groups_link_enterprises_through_holdings_and_one_controller(city):
    enterprises, ownership, roles, _ = city
    assert ownership.groups
    legal_of = {ent: person for person, ent, role, _ in roles if role == "legal_representative"}
    holds = {(a, b) for a, b, _ in ownership.holdings}
    for parent, members in ownership.groups:
        controller = legal_of[parent]
        assert sum(legal_of[m] == controller for m in members) >= 2
        for member in members:
            assert any((h, member) in holds for h in [parent, *members])
    assert all(a != b for a, b, _ in ownership.holdings)
    assert len(holds) == len(ownership.holdings)


def test_size_classes_are_skewed_to_small_and_micro(city):
    sizes = collections.Counter(e.size_class for e in city[0])
    assert sizes["micro"] > sizes["small"] > sizes["medium"] > sizes["large"] > 0
    assert (sizes["micro"] + sizes["small"]) / len(city[0]) > 0.8


def test_spring_festival_dips_the_month_it_falls_in():
    season = dict(zip(MONTHS, g.seasonality(MONTHS), strict=True))
    assert season[dt.date(2022, 2, 1)] < 0.7  # festival on 1 Feb 2022
    assert season[dt.date(2023, 1, 1)] < 0.8  # festival on 22 Jan 2023
    assert season[dt.date(2023, 1, 1)] < season[dt.date(2023, 2, 1)]
    assert season[dt.date(2024, 12, 1)] > 1.0


def test_indicators_stop_when_an_enterprise_closes_and_start_when_it_opens(city):
    enterprises = city[0]
    blocks = g.indicator_blocks(11, enterprises, list(range(1, 2_001)))
    season = g.seasonality(MONTHS)
    rows = [r for b in blocks for r in g.indicator_rows(b, MONTHS, season)]
    per_enterprise = collections.Counter(r[0] for r in rows)
    for e in enterprises:
        assert per_enterprise[e.index + 1] == e.end_month - e.first_month
    closed = [e for e in enterprises if e.status in ("cancelled", "revoked")]
    assert closed and all(e.end_month < 60 for e in closed)
    revenue = np.array([float(r[3]) for r in rows])
    assert (revenue > 0).all()


def test_every_person_has_a_role_and_controllers_lead_several_enterprises(city):
    _, ownership, roles, persons = city
    assert {person for person, _, _, _ in roles} == {p.index for p in persons}
    legal = collections.Counter(p for p, _, role, _ in roles if role == "legal_representative")
    assert sum(1 for n in legal.values() if n >= 3) == len(ownership.groups)
