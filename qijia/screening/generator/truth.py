"""The truth of a generated bundle: every finding the spec's rules imply, computed from the rows.

Planted cases say what they intend; this module computes what the rows actually imply under
integrity-bundle.md (including any interplay between cases, e.g. a copied invoice whose buyer is
now wrong), and :func:`check_expectations` fails the generation if the two disagree. Photos are
the exception: whether two pictures are "the same photograph" is known only from how they were
made, so photo truth comes from the plan.

The rules are implemented here independently of the engine (plain dicts and a BFS), so the
truth does not inherit the engine's mistakes.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict, deque
from collections.abc import Iterable

from qijia.core.identifiers import (
    is_valid_uscc,
    normalize_email,
    normalize_id_number,
    normalize_invoice_part,
    normalize_phone,
    normalize_uscc,
)

from .world import World

Key = tuple[str, str, str]
MAX_HOPS = 4
HUB_LIMIT = 10  # a contact of MORE than this many distinct enterprises is a hub

_TAX_STRIP = re.compile(r"[\s\-]+")


class GeneratorBug(RuntimeError):
    """The generated rows do not say what the planted cases meant: a bug in the generator."""


def tax(value: str) -> str:
    return _TAX_STRIP.sub("", (value or "").strip()).upper()


def invoice_key(code: str, number: str) -> tuple[str, str]:
    return normalize_invoice_part(code), normalize_invoice_part(number)


# --- persons and the relationship graph -----------------------------------------------------


def merge_persons(
    rows: list[tuple[str, str, str, str]], used: list[tuple[str, str]] | None = None
) -> list[int]:
    """Person id (index of a representative row) per row: ``rows`` are (name, id, phone, email).

    Equal normalised ID numbers are one person. Rows without an ID number are one person when
    the names are equal and they share a normalised phone or e-mail. The generator never makes
    the ambiguous case (a row with an ID number and one without, same name and a shared
    contact); if it did, this raises rather than guess.
    """
    parent = list(range(len(rows)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(a: int, b: int) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    ids = [normalize_id_number(r[1]) for r in rows]
    first: dict[str, int] = {}
    for i, pid in enumerate(ids):
        if pid:
            union(first.setdefault(pid, i), i)
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, (name, _pid, phone, email) in enumerate(rows):
        for contact in ("T" + normalize_phone(phone), "M" + normalize_email(email)):
            if len(contact) > 1:
                groups[(name.strip(), contact)].append(i)
    for (name, contact), members in groups.items():
        if len(members) < 2:
            continue
        without = [i for i in members if not ids[i]]
        if without and len(without) != len(members):
            raise GeneratorBug(f"ambiguous identity: {name} shares {contact} with and without ID")
        for i in without[1:]:
            union(without[0], i)
        if len(without) > 1 and used is not None:
            used.append((name, contact))
    return [find(i) for i in range(len(rows))]


class RelationOracle:
    """Distances of at most four edges between applicants and sellers, by breadth-first search."""

    def __init__(self, w: World):
        persons = [(p.name, p.id_number, p.phone, p.email) for p in w.persons]
        merge_contacts: list[tuple[str, str]] = []
        person_of = merge_persons(persons, merge_contacts)
        key_index = {p.key: i for i, p in enumerate(w.persons)}
        # contact -> distinct enterprises (directly, or through persons having roles there)
        reach: dict[str, set[str]] = defaultdict(set)
        listed = [f for f in w.firms if f.listed]
        for firm in listed:
            for contact in self._contacts(firm.phone, firm.email):
                reach[contact].add(tax(firm.uscc))
        person_firms: dict[int, set[str]] = defaultdict(set)
        for person_key, uscc, _role, _share in w.roles:
            person_firms[person_of[key_index[person_key]]].add(tax(uscc))
        person_contacts: dict[int, set[str]] = defaultdict(set)
        for i, p in enumerate(w.persons):
            person_contacts[person_of[i]].update(self._contacts(p.phone, p.email))
        for pid, contacts in person_contacts.items():
            for contact in contacts:
                reach[contact].update(person_firms.get(pid, ()))
        self.hubs = {c for c, firms in reach.items() if len(firms) > HUB_LIMIT}
        # Guard: merging namesakes through a hub contact is a case the spec leaves open (is an
        # agency's number "shared"?); the generator never makes it.
        for name, contact in merge_contacts:
            if contact[0] + ":" + contact[1:] in self.hubs:
                raise GeneratorBug(f"identity merge of {name} through hub contact {contact}")
        adj: dict[str, set[str]] = defaultdict(set)

        def link(a: str, b: str) -> None:
            adj[a].add(b)
            adj[b].add(a)

        for firm in listed:
            for contact in self._contacts(firm.phone, firm.email):
                if contact not in self.hubs:
                    link("E:" + tax(firm.uscc), contact)
        for pid, contacts in person_contacts.items():
            for contact in contacts:
                if contact not in self.hubs:
                    link(f"P:{pid}", contact)
        for person_key, uscc, _role, _share in w.roles:
            link(f"P:{person_of[key_index[person_key]]}", "E:" + tax(uscc))
        for holder, held, _share in w.holdings:
            link("E:" + tax(holder), "E:" + tax(held))
        self.adj = adj
        self._cache: dict[str, dict[str, int]] = {}

    @staticmethod
    def _contacts(phone: str, email: str) -> Iterable[str]:
        out = []
        phone, email = normalize_phone(phone), normalize_email(email)
        if phone:
            out.append("T:" + phone)
        if email:
            out.append("M:" + email)
        return out

    def distances(self, uscc: str) -> dict[str, int]:
        """Hops from the enterprise ``uscc`` to every node within MAX_HOPS."""
        start = "E:" + tax(uscc)
        found = self._cache.get(start)
        if found is not None:
            return found
        seen = {start: 0}
        queue = deque([start])
        while queue:
            node = queue.popleft()
            d = seen[node]
            if d == MAX_HOPS:
                continue
            for nxt in self.adj.get(node, ()):
                if nxt not in seen:
                    seen[nxt] = d + 1
                    queue.append(nxt)
        self._cache[start] = seen
        return seen


# --- all rules ------------------------------------------------------------------------------


def compute_truth(w: World, as_of: dt.date, photo_keys: Iterable[Key] = ()) -> set[Key]:
    """Every (application_id, kind, subject) the rules imply for the rows of ``w``."""
    keys: set[Key] = set(photo_keys)
    apps = {a.app_id: a for a in w.applications}

    # invalid_uscc: the applicant's code; sellers' 18-character tax IDs.
    for app in w.applications:
        value = normalize_uscc(app.uscc)
        if not is_valid_uscc(value):
            keys.add((app.app_id, "invalid_uscc", f"uscc={value}"))
    for inv in w.invoices:
        value = normalize_uscc(inv.seller_tax_id)
        if len(value) == 18 and not is_valid_uscc(value):
            keys.add((inv.app_id, "invalid_uscc", f"seller_tax_id={value}"))

    # registry windows containing the submission date or the as-of date.
    listed: dict[str, list[tuple]] = defaultdict(list)
    for row in w.registry:
        listed[tax(row[0])].append(row)
    for app in w.applications:
        for _uscc, lst, category, _reason, source, start, end in listed.get(tax(app.uscc), ()):
            lo = dt.date.fromisoformat(start)
            hi = dt.date.fromisoformat(end) if end else None
            if any(lo <= d and (hi is None or d <= hi) for d in (app.submitted_on, as_of)):
                kind = "ineligible_applicant" if lst == "ineligible" else "blacklisted_applicant"
                keys.add((app.app_id, kind, f"{category}|{source}|{start}"))

    # same invoice on two applications; buyer; period.
    holders: dict[tuple[str, str], set[str]] = defaultdict(set)
    for inv in w.invoices:
        holders[invoice_key(inv.code, inv.number)].add(inv.app_id)
    for (code, number), owners in holders.items():
        if len(owners) > 1:
            keys.update((a, "duplicate_invoice", f"{code}|{number}") for a in owners)
    for inv in w.invoices:
        app = apps[inv.app_id]
        code, number = invoice_key(inv.code, inv.number)
        if tax(inv.buyer_tax_id) != tax(app.uscc):
            keys.add((app.app_id, "invoice_buyer_mismatch", f"{code}|{number}"))
        if inv.issued_on < app.period_start or inv.issued_on > app.period_end:
            keys.add((app.app_id, "invoice_outside_period", f"{code}|{number}"))

    # related_party_supplier: the seller is the applicant or within four edges of it.
    oracle = RelationOracle(w)
    for app in w.applications:
        sellers = {tax(w.invoices[i].seller_tax_id) for i in w.invoices_by_app[app.app_id]}
        sellers.discard("")
        if not sellers:
            continue
        dist = oracle.distances(app.uscc)
        for seller in sellers:
            if "E:" + seller in dist:
                keys.add((app.app_id, "related_party_supplier", seller))
    return keys


def check_expectations(w: World, truth: set[Key]) -> None:
    """Every planted case is in the truth and no decoy is; otherwise the generator is wrong."""
    wrong = []
    for e in w.expectations:
        key = (e.application_id, e.kind, e.subject)
        if (key in truth) != e.present:
            wrong.append(f"{'missing' if e.present else 'unexpected'} {e.case}: {key}")
    if wrong:
        raise GeneratorBug(
            f"{len(wrong)} planted cases disagree with the rules: " + "; ".join(wrong[:10])
        )
