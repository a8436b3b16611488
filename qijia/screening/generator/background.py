"""The unremarkable majority: firms and groups, suppliers, agencies and parks, ordinary applications.

Nothing here may produce a finding. Each firm or group is its own component (its people and
contacts are fresh); agencies and parks share one phone or mailbox among at least twelve
enterprises, which makes it a hub; suppliers are firms that never apply, so an applicant and a
supplier it paid are never related by construction.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from qijia.core.identifiers import normalize_email, normalize_phone

from .ids import typed_email, typed_phone
from .world import Application, Firm, World


def build_suppliers(w: World, listed: int, outside: int) -> list[Firm]:
    """Service firms that sell to applicants: some in the registry, some from other cities."""
    suppliers: list[Firm] = []
    for _ in range(listed):
        firm = w.new_firm(service=True)
        w.staff(firm)
        suppliers.append(firm)
    for _ in range(outside):
        suppliers.append(w.outside_party(individual=w.rng.random() < 0.15))
    return suppliers


def build_firms(w: World, count: int, tick: Callable[[int], None] | None = None) -> list[Firm]:
    """``count`` manufacturing firms, mostly standalone, some in groups under one boss."""
    rng = w.rng
    firms: list[Firm] = []
    while len(firms) < count:
        size = min(
            rng.choices((1, 2, 3, 4, 5), (0.78, 0.12, 0.06, 0.03, 0.01))[0], count - len(firms)
        )
        boss = w.new_person() if size > 1 else None
        group: list[Firm] = []
        for _ in range(size):
            firm = w.new_firm()
            rep = w.staff(firm, boss=boss)
            # Small firms often register the owner's mobile or mailbox as the firm's own: a
            # contact shared inside the component only.
            roll = rng.random()
            if roll < 0.1 and rep.phone:
                firm.phone = typed_phone(normalize_phone(rep.phone), rng)
            elif roll < 0.16 and rep.email:
                firm.email = typed_email(normalize_email(rep.email), rng)
            group.append(firm)
        for child in group[1:]:
            w.add_holding(group[0], child)
        firms.extend(group)
        if tick:
            tick(size)
    return firms


def build_hubs(w: World, firms: list[Firm], agency_share: float, park_share: float) -> dict:
    """Agencies whose phone and parks whose mailbox serve many firms: hubs, so no edges.

    Every hub reaches at least 13 distinct enterprises, far from the threshold of 10, so whether
    a detector counts enterprises directly or through persons, it is a hub either way.
    """
    rng = w.rng
    pool = list(firms)
    rng.shuffle(pool)
    n_agency = int(len(pool) * agency_share)
    n_park = int(len(pool) * park_share)
    agency_clients, pool = pool[:n_agency], pool[n_agency:]
    park_members = pool[:n_park]
    agencies = parks = 0
    i = 0
    while len(agency_clients) - i >= 12:
        size = min(rng.randrange(12, 90), len(agency_clients) - i)
        if len(agency_clients) - i - size < 12:
            size = len(agency_clients) - i
        hub = w.ids.landline()
        agency = w.new_firm(
            service=True, trade=rng.choice(("财税咨询", "管理咨询")), phone=typed_phone(hub, rng)
        )
        w.staff(agency)
        agencies += 1
        for client in agency_clients[i : i + size]:
            if rng.random() < 0.7:
                client.phone = typed_phone(hub, rng)
            else:
                # The agency's bookkeeper, with the agency's number, as the client's finance contact.
                keeper = w.new_person(phone=typed_phone(hub, rng))
                w.add_role(keeper, client, "finance_contact")
        i += size
    i = 0
    while len(park_members) - i >= 12:
        size = min(rng.randrange(12, 60), len(park_members) - i)
        if len(park_members) - i - size < 12:
            size = len(park_members) - i
        town, park, mailbox = w.fresh_park()
        parks += 1
        for member in park_members[i : i + size]:
            member.town = town
            member.address = w.parks_address(town, park)
            member.email = typed_email(mailbox, rng)
        i += size
    return {"agencies": agencies, "parks": parks}


def build_applications(
    w: World,
    applicants: list[Firm],
    suppliers: list[Firm],
    count: int,
    invoices_per_app: float,
    tick: Callable[[int], None] | None = None,
) -> list[Application]:
    """``count`` ordinary applications with invoices from unrelated suppliers, all in period."""
    rng = w.rng
    apps: list[Application] = []
    pool = list(applicants)
    rng.shuffle(pool)
    k = 0
    while len(apps) < count:
        firm = pool[k % len(pool)]
        k += 1
        n = min(rng.choices((1, 2, 3), (0.8, 0.15, 0.05))[0], count - len(apps))
        for _ in range(n):
            app = w.new_application(firm)
            sellers = rng.sample(suppliers, rng.choices((1, 2, 3), (0.5, 0.35, 0.15))[0])
            invoices = max(1, int(rng.expovariate(1 / invoices_per_app) + 0.5))
            for j in range(min(invoices, 12)):
                w.add_invoice(app, sellers[j % len(sellers)])
            apps.append(app)
            if tick:
                tick(1)
    return apps


def top_up_persons(w: World, firms: list[Firm], target: int) -> int:
    """Contacts added to background firms until persons.csv has ``target`` rows."""
    rng = w.rng
    added = 0
    while len(w.persons) < target:
        firm = rng.choice(firms)
        person = w.new_person(with_id=rng.random() < 0.6)
        w.add_role(person, firm, rng.choice(("contact", "manager", "finance_contact")))
        added += 1
    return added


def top_up_invoices(w: World, apps: list[Application], target: int) -> int:
    """More in-period invoices on ordinary applications until invoices.csv has ``target`` rows."""
    rng: random.Random = w.rng
    added = 0
    while len(w.invoices) < target:
        app = rng.choice(apps)
        w.add_invoice(app, rng.choice(app.sellers))
        added += 1
    return added
