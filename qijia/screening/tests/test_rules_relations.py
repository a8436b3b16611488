"""related_party_supplier: person identity, hubs, addresses, path length, evidence path."""

from __future__ import annotations

import datetime as dt

import pytest

from qijia.screening.bundle import load_bundle
from qijia.screening.detectors.relations import build_graph, merge_persons
from qijia.screening.engine import screen
from qijia.screening.tests.bundlekit import (
    application,
    enterprise,
    id_number,
    invoice,
    uscc,
    write_bundle,
)

AS_OF = dt.date(2025, 6, 30)
APPLICANT, SELLER = uscc(1), uscc(2)


def _related(tmp_path, *, enterprises=None, persons=None, roles=None, holdings=None, seller=SELLER):
    root = write_bundle(
        tmp_path / "b",
        enterprises=enterprises
        if enterprises is not None
        else [enterprise(1, phone="", email=""), enterprise(2, phone="", email="")],
        persons=persons,
        roles=roles,
        holdings=holdings,
        applications=[application("A1", APPLICANT)],
        invoices=[invoice("A1", "00000001", seller, APPLICANT, invoice_code="4400231130")],
    )
    findings = screen(load_bundle(root), AS_OF, prints={}, digests={})
    return [f for f in findings if f.kind == "related_party_supplier"]


def _role(key, code, role="director"):
    return {"person_key": key, "uscc": code, "role": role}


def test_seller_that_is_the_applicant_itself_is_related_with_zero_hops(tmp_path):
    found = _related(tmp_path, seller=APPLICANT.lower())
    assert len(found) == 1
    assert found[0].evidence["hops"] == 0
    assert found[0].evidence["seller_tax_id"] == APPLICANT
    assert [n["id"] for n in found[0].evidence["path"]] == [APPLICANT]


def test_same_person_by_normalised_id_number_links_the_two_enterprises(tmp_path):
    pid = id_number(7)
    found = _related(
        tmp_path,
        persons=[
            {"person_key": "a", "name": "李四", "id_number": pid},
            {"person_key": "b", "name": "李 四", "id_number": f" {pid.lower()} "},
        ],
        roles=[_role("a", APPLICANT, "legal_representative"), _role("b", SELLER, "shareholder")],
    )
    assert len(found) == 1
    ev = found[0].evidence
    assert ev["hops"] == 2
    path = ev["path"]
    assert [p["element"] for p in path] == ["node", "edge", "node", "edge", "node"]
    assert [p.get("type") for p in path[::2]] == ["enterprise", "person", "enterprise"]
    assert path[0]["id"] == APPLICANT and path[-1]["id"] == SELLER
    assert path[1]["roles"] == ["legal_representative"]
    assert pid not in str(ev)  # the full ID number never appears in evidence


def test_namesakes_with_different_ids_are_not_the_same_person(tmp_path):
    found = _related(
        tmp_path,
        persons=[
            {"person_key": "a", "name": "王伟", "id_number": id_number(1)},
            {"person_key": "b", "name": "王伟", "id_number": id_number(2)},
        ],
        roles=[_role("a", APPLICANT), _role("b", SELLER)],
    )
    assert found == []


def test_namesakes_without_ids_and_without_shared_contact_are_not_the_same_person(tmp_path):
    found = _related(
        tmp_path,
        persons=[
            {"person_key": "a", "name": "王伟", "phone": "13800000001", "email": "a@x.cn"},
            {"person_key": "b", "name": "王伟", "phone": "13800000002", "email": "b@x.cn"},
        ],
        roles=[_role("a", APPLICANT), _role("b", SELLER)],
    )
    assert found == []


CONTACTS = [
    ("phone", "+86 138-0000-0001", "13800000001"),
    ("email", " WangWei@Example.cn", "wangwei@example.cn "),
]


@pytest.mark.parametrize(("field", "typed", "plain"), CONTACTS)
def test_same_name_and_shared_normalised_contact_without_id_is_the_same_person(
    tmp_path, field, typed, plain
):
    found = _related(
        tmp_path,
        persons=[
            {"person_key": "a", "name": "王伟", field: typed},
            {"person_key": "b", "name": "王伟", field: plain},
        ],
        roles=[_role("a", APPLICANT), _role("b", SELLER)],
    )
    # one merged person (2 hops); the contact node also joins them in 4 hops but 2 is shortest
    assert [f.evidence["hops"] for f in found] == [2]


@pytest.mark.parametrize(("field", "typed", "plain"), CONTACTS)
def test_a_contact_shared_by_different_people_links_through_its_node(tmp_path, field, typed, plain):
    found = _related(
        tmp_path,
        persons=[
            {"person_key": "a", "name": "王伟", field: typed},
            {"person_key": "b", "name": "张敏", field: plain},
        ],
        roles=[_role("a", APPLICANT, "finance_contact"), _role("b", SELLER, "manager")],
    )
    assert [f.evidence["hops"] for f in found] == [4]
    assert [n["type"] for n in found[0].evidence["path"][::2]] == [
        "enterprise",
        "person",
        field,
        "person",
        "enterprise",
    ]


@pytest.mark.parametrize(
    ("applicant", "seller", "node"),
    [
        ({"email": "office@firm.cn"}, {"email": " Office@Firm.CN"}, "email"),
        ({"phone": "0769-2283 1234"}, {"phone": "+86 769 22831234"}, "phone"),
    ],
)
def test_an_enterprise_phone_or_email_is_an_edge(tmp_path, applicant, seller, node):
    blank = {"phone": "", "email": ""}
    found = _related(
        tmp_path,
        enterprises=[enterprise(1, **{**blank, **applicant}), enterprise(2, **{**blank, **seller})],
    )
    assert [f.evidence["hops"] for f in found] == [2]
    assert found[0].evidence["path"][2]["type"] == node


def test_two_rows_with_different_ids_are_never_merged_through_a_third_row_without_id(tmp_path):
    comp = merge_persons(
        ["王伟", "王伟", "王伟"],
        [id_number(1), "", id_number(2)],
        ["13800000001", "13800000001", "13800000001"],
        ["", "", ""],
    )
    assert comp[0] == comp[1]
    assert comp[2] != comp[0]


def _agency_bundle(n_enterprises):
    """Applicant and seller both list the agency's phone, used by n enterprises in all."""
    agency = "0769-88886666"
    ents = [enterprise(1, phone=agency, email=""), enterprise(2, phone=agency, email="")]
    ents += [enterprise(100 + i, phone=agency, email="") for i in range(n_enterprises - 2)]
    return ents


@pytest.mark.parametrize(("count", "related"), [(10, True), (11, False)])
def test_phone_of_more_than_10_enterprises_is_a_hub_and_makes_no_edge(tmp_path, count, related):
    found = _related(tmp_path, enterprises=_agency_bundle(count))
    assert bool(found) is related
    if related:
        assert found[0].evidence["hops"] == 2
        assert found[0].evidence["path"][2]["type"] == "phone"


def test_hub_counts_enterprises_reached_through_their_persons(tmp_path):
    agency = "13912345678"
    persons = [{"person_key": f"p{i}", "name": f"代办{i}", "phone": agency} for i in range(11)]
    roles = [_role("p0", APPLICANT, "contact"), _role("p1", SELLER, "contact")]
    roles += [_role(f"p{i}", uscc(200 + i), "contact") for i in range(2, 11)]
    found = _related(tmp_path, persons=persons, roles=roles)
    assert found == []
    root = tmp_path / "b"
    graph = build_graph(load_bundle(root))
    assert graph.hubs == {"T:" + agency: 11}


def test_hub_counts_each_enterprise_once_however_it_reaches_the_contact(tmp_path):
    """Ten enterprises, each with the e-mail as its own and through its contact person: ten
    distinct enterprises, so not a hub, and the e-mail still joins applicant and seller."""
    shared = "service@park-agency.cn"
    codes = [APPLICANT, SELLER] + [uscc(300 + i) for i in range(8)]
    ents = [enterprise(1, phone="", email=shared), enterprise(2, phone="", email=shared)]
    ents += [enterprise(300 + i, phone="", email=shared) for i in range(8)]
    persons = [{"person_key": f"p{i}", "name": f"联系人{i}", "email": shared} for i in range(10)]
    roles = [_role(f"p{i}", code, "contact") for i, code in enumerate(codes)]
    found = _related(tmp_path, enterprises=ents, persons=persons, roles=roles)
    assert [f.evidence["hops"] for f in found] == [2]
    graph = build_graph(load_bundle(tmp_path / "b"))
    assert graph.hubs == {}


def test_an_email_of_more_than_10_enterprises_is_a_hub(tmp_path):
    shared = "service@park-agency.cn"
    ents = [enterprise(1, phone="", email=shared), enterprise(2, phone="", email=shared)]
    ents += [enterprise(300 + i, phone="", email=shared) for i in range(9)]
    assert _related(tmp_path, enterprises=ents) == []
    assert build_graph(load_bundle(tmp_path / "b")).hubs == {"M:" + shared: 11}


def test_shared_park_address_makes_no_edge(tmp_path):
    park = "松山湖高新区科技园1栋"
    found = _related(
        tmp_path,
        enterprises=[
            enterprise(1, address=park, phone="", email=""),
            enterprise(2, address=park, phone="", email=""),
        ],
    )
    assert found == []


def _chain(length):
    """Holdings APPLICANT -> E10 -> E11 ... with ``length`` edges ending at SELLER."""
    codes = [APPLICANT] + [uscc(10 + i) for i in range(length - 1)] + [SELLER]
    return [
        {"holder_uscc": a, "held_uscc": b, "share_pct": "51"}
        for a, b in zip(codes, codes[1:], strict=False)
    ]


@pytest.mark.parametrize(("length", "related"), [(1, True), (3, True), (4, True), (5, False)])
def test_related_means_a_path_of_at_most_four_edges(tmp_path, length, related):
    found = _related(tmp_path, holdings=_chain(length))
    assert bool(found) is related
    if related:
        ev = found[0].evidence
        assert ev["hops"] == length
        assert len(ev["path"]) == 2 * length + 1
        assert {e["type"] for e in ev["path"][1::2]} == {"holding"}


def test_evidence_gives_the_shortest_of_several_paths(tmp_path):
    holdings = _chain(4) + [
        {"holder_uscc": SELLER, "held_uscc": uscc(60), "share_pct": "10"},
        {"holder_uscc": uscc(60), "held_uscc": APPLICANT, "share_pct": "5"},
    ]
    found = _related(tmp_path, holdings=holdings)
    assert found[0].evidence["hops"] == 2
    assert [n["id"] for n in found[0].evidence["path"][::2]] == [APPLICANT, uscc(60), SELLER]


def test_seller_absent_from_enterprises_is_still_a_party(tmp_path):
    found = _related(
        tmp_path,
        enterprises=[enterprise(1, phone="", email="")],
        holdings=[{"holder_uscc": SELLER, "held_uscc": APPLICANT, "share_pct": ""}],
    )
    assert [f.evidence["hops"] for f in found] == [1]
    assert found[0].evidence["path"][-1]["name"] == ""


def test_one_finding_per_seller_even_with_many_invoices(tmp_path):
    root = write_bundle(
        tmp_path / "b",
        enterprises=[enterprise(1), enterprise(2)],
        holdings=[{"holder_uscc": APPLICANT, "held_uscc": SELLER, "share_pct": "100"}],
        applications=[application("A1", APPLICANT)],
        invoices=[
            invoice("A1", f"0000000{i}", SELLER, APPLICANT, invoice_code="4400231130")
            for i in range(5)
        ],
    )
    findings = screen(load_bundle(root), AS_OF, prints={}, digests={})
    assert [f.kind for f in findings].count("related_party_supplier") == 1
