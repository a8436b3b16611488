"""Planted cases of every finding kind, and the decoys that must not be found.

Each case says what it expects through :meth:`World.expect` / :meth:`World.expect_not`, with the
subject computed by the engine's own :func:`finding_subject`, so the truth file and the engine's
findings are compared on the same key. Relation cases get their own freshly built applicant and
seller (a component of their own); invoice, registry and photo cases are placed on ordinary
applications after the background exists.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from qijia.core.identifiers import USCC_ALPHABET
from qijia.screening.findings import finding_subject

from .ids import (
    typed_email,
    typed_id_number,
    typed_invoice_part,
    typed_phone,
)
from .vocab import REGISTRY_BLACKLIST, REGISTRY_INELIGIBLE
from .world import AS_OF, FUTURE_FROM, Application, Firm, World

DAY = dt.timedelta(days=1)


def related_subject(seller_tax_id: str) -> str:
    return finding_subject("related_party_supplier", {"seller_tax_id": seller_tax_id})


def invoice_subject(kind: str, code: str, number: str) -> str:
    return finding_subject(kind, {"invoice_code": code, "invoice_number": number})


@dataclass
class Planter:
    w: World
    suppliers: list[Firm]
    mult: int
    shared_sellers: list[Firm] = field(default_factory=list)
    case_counts: dict[str, int] = field(default_factory=dict)

    @property
    def rng(self) -> random.Random:
        return self.w.rng

    def _count(self, case: str) -> None:
        self.case_counts[case] = self.case_counts.get(case, 0) + 1

    def _ordinary_invoices(self, app: Application, n: int | None = None) -> None:
        for _ in range(n if n is not None else self.rng.randrange(1, 3)):
            self.w.add_invoice(app, self.rng.choice(self.suppliers))

    def _maker(self, **kw) -> Firm:
        firm = self.w.new_firm(**kw)
        self.w.staff(firm)
        return firm

    def _service(self, **kw) -> Firm:
        firm = self.w.new_firm(service=True, **kw)
        self.w.staff(firm)
        return firm

    # --- related_party_supplier -----------------------------------------------------------------

    def relations(self) -> None:
        w, rng = self.w, self.rng
        ids = w.ids

        def self_seller(a: Firm) -> tuple[Firm, str]:
            return a, a.uscc.lower() if rng.random() < 0.3 else a.uscc

        def holds_seller(a: Firm) -> Firm:
            s = self._service()
            w.add_holding(a, s)
            return s

        def held_by_outsider(a: Firm) -> Firm:
            s = w.outside_party()
            w.add_holding(s, a)
            return s

        def shared_person(a: Firm) -> Firm:
            s = self._service()
            role = rng.choice(("shareholder", "director", "supervisor"))
            w.add_role(a.rep, s, role, 30.0 if role == "shareholder" else None)
            return s

        def shared_firm_phone(a: Firm) -> Firm:
            line = ids.landline()
            a.phone = typed_phone(line, rng)
            return self._service(phone=typed_phone(line, rng))

        def shared_firm_email(a: Firm) -> Firm:
            mailbox = ids.company_email(a.pinyin)
            a.email = typed_email(mailbox, rng)
            return self._service(email=typed_email(mailbox, rng))

        def merged_by_id(a: Firm) -> Firm:
            rep = a.rep
            s = self._service()
            twin = w.new_person(
                name=(rep.name, rep.pinyin), id_number=typed_id_number(rep.id_number, rng)
            )
            w.add_role(twin, s, rng.choice(("supervisor", "shareholder", "director")))
            return s

        def merged_by_name_phone(a: Firm) -> Firm:
            mobile = ids.mobile()
            k1 = w.new_person(with_id=False, phone=typed_phone(mobile, rng), email="")
            w.add_role(k1, a, "contact")
            s = self._service()
            k2 = w.new_person(
                name=(k1.name, k1.pinyin), with_id=False, phone=typed_phone(mobile, rng), email=""
            )
            w.add_role(k2, s, "manager")
            return s

        def merged_by_name_email(a: Firm) -> Firm:
            k1 = w.new_person(with_id=False, phone="", email=None, email_share=1.0)
            w.add_role(k1, a, "finance_contact")
            s = self._service()
            k2 = w.new_person(
                name=(k1.name, k1.pinyin),
                with_id=False,
                phone="",
                email=typed_email(k1.email.lower(), rng),
            )
            w.add_role(k2, s, "contact")
            return s

        def person_then_holding(a: Firm) -> Firm:
            e = self._maker()
            w.add_role(a.rep, e, "director")
            s = self._service()
            w.add_holding(e, s)
            return s

        def holding_then_person(a: Firm) -> Firm:
            e = self._maker()
            w.add_holding(a, e)
            s = self._service()
            w.add_role(e.rep, s, "shareholder", 40.0)
            return s

        def shared_home_phone(a: Firm) -> Firm:
            mobile = ids.mobile()
            a.rep.phone = typed_phone(mobile, rng)
            spouse = w.new_person(phone=typed_phone(mobile, rng))
            s = w.new_firm(service=True)
            w.staff(s, boss=spouse)
            return s

        def shared_person_email(a: Firm) -> Firm:
            keeper = w.new_person(email=None, email_share=1.0)
            w.add_role(keeper, a, "finance_contact")
            friend = w.new_person(email=typed_email(keeper.email.lower(), rng))
            s = w.new_firm(service=True)
            w.staff(s, boss=friend)
            return s

        def holding_chain_4(a: Firm) -> Firm:
            chain = [a, self._maker(), self._maker(), self._maker()]
            s = self._service()
            for holder, held in zip(chain, [*chain[1:], s], strict=True):
                w.add_holding(holder, held)
            return s

        def merged_name_phone_4(a: Firm) -> Firm:
            # Only the identity rule makes this 4 edges (A-k-X-Y-S); unmerged it is 6.
            mobile = ids.mobile()
            k1 = w.new_person(with_id=False, phone=typed_phone(mobile, rng), email="")
            w.add_role(k1, a, "contact")
            x, y = self._maker(), self._maker()
            k2 = w.new_person(
                name=(k1.name, k1.pinyin), with_id=False, phone=typed_phone(mobile, rng), email=""
            )
            w.add_role(k2, x, "director")
            s = self._service()
            w.add_holding(x, y)
            w.add_holding(y, s)
            return s

        def merged_id_4(a: Firm) -> Firm:
            rep = a.rep
            x, y = self._maker(), self._maker()
            twin = w.new_person(
                name=(rep.name, rep.pinyin), id_number=typed_id_number(rep.id_number, rng)
            )
            w.add_role(twin, x, "shareholder", 25.0)
            s = self._service()
            w.add_holding(x, y)
            w.add_holding(y, s)
            return s

        def ten_share_a_phone(a: Firm) -> Firm:
            # Exactly ten enterprises on one number: not a hub (the rule is "more than 10").
            line = ids.landline()
            a.phone = typed_phone(line, rng)
            s = self._service(phone=typed_phone(line, rng))
            for _ in range(8):
                self._maker(phone=typed_phone(line, rng))
            return s

        positives: list[tuple[str, Callable]] = [
            ("rel0_self", self_seller),
            ("rel1_holds_seller", holds_seller),
            ("rel1_held_by_outside_seller", held_by_outsider),
            ("rel2_shared_person", shared_person),
            ("rel2_shared_firm_phone", shared_firm_phone),
            ("rel2_shared_firm_email", shared_firm_email),
            ("rel2_person_merged_by_id_number", merged_by_id),
            ("rel2_person_merged_by_name_and_phone", merged_by_name_phone),
            ("rel2_person_merged_by_name_and_email", merged_by_name_email),
            ("rel2_phone_shared_by_exactly_10", ten_share_a_phone),
            ("rel3_person_then_holding", person_then_holding),
            ("rel3_holding_then_person", holding_then_person),
            ("rel4_shared_home_phone", shared_home_phone),
            ("rel4_shared_personal_email", shared_person_email),
            ("rel4_holding_chain", holding_chain_4),
            ("rel4_via_name_and_phone_merge", merged_name_phone_4),
            ("rel4_via_id_number_merge", merged_id_4),
        ]

        def chain_5(a: Firm) -> Firm:
            e1 = self._maker()
            w.add_role(a.rep, e1, "director")
            e2 = self._maker()
            w.add_role(e1.rep, e2, "shareholder", 30.0)
            s = self._service()
            w.add_holding(e2, s)
            return s

        def holding_chain_5(a: Firm) -> Firm:
            chain = [a, *(self._maker() for _ in range(4))]
            s = self._service()
            for holder, held in zip(chain, [*chain[1:], s], strict=True):
                w.add_holding(holder, held)
            return s

        def namesake_with_ids(a: Firm) -> Firm:
            rep = a.rep
            other = w.new_person(name=(rep.name, rep.pinyin))
            s = w.new_firm(service=True)
            w.staff(s, boss=other)
            return s

        def namesake_without_ids(a: Firm) -> Firm:
            k1 = w.new_person(with_id=False, phone_share=1.0, email_share=0.5)
            w.add_role(k1, a, "contact")
            s = self._service()
            k2 = w.new_person(
                name=(k1.name, k1.pinyin), with_id=False, phone_share=1.0, email_share=0.5
            )
            w.add_role(k2, s, "contact")
            return s

        def hub_of_11(a: Firm) -> Firm:
            line = ids.landline()
            a.phone = typed_phone(line, rng)
            s = self._service(phone=typed_phone(line, rng))
            for _ in range(9):
                self._maker(phone=typed_phone(line, rng))
            return s

        def hub_counted_through_persons(a: Firm) -> Firm:
            # 5 enterprises carry the number themselves, 6 more through their bookkeepers:
            # 11 in all, a hub, but only if enterprises reached through persons are counted.
            line = ids.landline()
            a.phone = typed_phone(line, rng)
            s = self._service()
            keeper = w.new_person(phone=typed_phone(line, rng))
            w.add_role(keeper, s, "finance_contact")
            for _ in range(4):
                self._maker(phone=typed_phone(line, rng))
            for _ in range(5):
                client = self._maker()
                w.add_role(w.new_person(phone=typed_phone(line, rng)), client, "finance_contact")
            return s

        def agency_as_seller(a: Firm) -> Firm:
            line = ids.landline()
            agency = self._service(phone=typed_phone(line, rng), trade="财税咨询")
            a.phone = typed_phone(line, rng)
            for _ in range(10):
                self._maker(phone=typed_phone(line, rng))
            return agency

        def hub_person_phones(a: Firm) -> Firm:
            line = ids.landline()
            a.rep.phone = typed_phone(line, rng)
            boss = w.new_person(phone=typed_phone(line, rng))
            s = w.new_firm(service=True)
            w.staff(s, boss=boss)
            for _ in range(10):
                client = self._maker()
                w.add_role(w.new_person(phone=typed_phone(line, rng)), client, "contact")
            return s

        def park_mailbox(a: Firm) -> Firm:
            town, park, mailbox = w.fresh_park()
            address = w.parks_address(town, park)
            a.town, a.address, a.email = town, address, typed_email(mailbox, rng)
            s = self._service(town=town, address=address, email=typed_email(mailbox, rng))
            for _ in range(10):
                self._maker(
                    town=town, address=w.parks_address(town, park), email=typed_email(mailbox, rng)
                )
            return s

        def same_address(a: Firm) -> Firm:
            return self._service(town=a.town, address=a.address)

        decoys: list[tuple[str, Callable]] = [
            ("decoy_path_of_5_edges", chain_5),
            ("decoy_holding_chain_of_5", holding_chain_5),
            ("decoy_namesake_different_id", namesake_with_ids),
            ("decoy_namesake_no_id_no_shared_contact", namesake_without_ids),
            ("decoy_agency_phone_11_enterprises", hub_of_11),
            ("decoy_hub_counted_through_persons", hub_counted_through_persons),
            ("decoy_agency_is_the_seller", agency_as_seller),
            ("decoy_hub_phone_on_persons", hub_person_phones),
            ("decoy_park_mailbox", park_mailbox),
            ("decoy_shared_park_address", same_address),
        ]

        for present, table in ((True, positives), (False, decoys)):
            for case, build in table:
                for _ in range(self.mult):
                    self._relation_case(case, build, present)

    def _relation_case(self, case: str, build: Callable, present: bool) -> None:
        w, rng = self.w, self.rng
        a = w.new_firm()
        w.staff(a)
        result = build(a)
        seller, typed = result if isinstance(result, tuple) else (result, result.uscc)
        app = w.new_application(a)
        for _ in range(rng.randrange(1, 3)):
            w.add_invoice(app, seller, seller_tax_id=typed)
        self._ordinary_invoices(app, 1)
        subject = related_subject(typed)
        if present:
            w.expect(app, "related_party_supplier", subject, case)
        else:
            w.expect_not(app, "related_party_supplier", subject, case)
        if seller is not a:
            self.shared_sellers.append(seller)
        self._count(case)

    def sellers_elsewhere(self, apps: list[Application]) -> None:
        """Related sellers of planted cases also sell to unrelated applicants: no finding there."""
        rng, w = self.rng, self.w
        for seller in self.shared_sellers[:: max(1, len(self.shared_sellers) // (3 * self.mult))]:
            app = rng.choice(apps)
            w.add_invoice(app, seller, touched="seller_elsewhere")
            w.expect_not(
                app,
                "related_party_supplier",
                related_subject(seller.uscc),
                "decoy_related_seller_of_someone_else",
            )
            self._count("decoy_related_seller_of_someone_else")

    # --- invalid_uscc ---------------------------------------------------------------------------

    def invalid_codes(self, apps: list[Application]) -> None:
        """Broken applicant codes (registered broken, or mistyped on the form) and sellers."""
        w, rng = self.w, self.rng
        for _ in range(self.mult):
            for how in ("check", "charset", "length"):
                a = self._maker(uscc=w.ids.broken_uscc(how))
                app = w.new_application(a)
                self._ordinary_invoices(app)
                w.expect(
                    app,
                    "invalid_uscc",
                    finding_subject("invalid_uscc", {"field": "uscc", "value": a.uscc}),
                    f"applicant_code_{how}",
                )
                self._count(f"applicant_code_{how}")
            # A firm whose form carries a mistyped code: its invoices (to the real code) then
            # also fail the buyer check, which the truth records too.
            a = self._maker()
            wrong = a.uscc[:17] + rng.choice([c for c in USCC_ALPHABET if c != a.uscc[17]])
            w.ids.reserve_uscc(wrong)
            app = w.new_application(a, uscc=wrong)
            for _ in range(rng.randrange(1, 3)):
                w.add_invoice(app, rng.choice(self.suppliers), buyer_tax_id=a.uscc)
            w.expect(
                app,
                "invalid_uscc",
                finding_subject("invalid_uscc", {"field": "uscc", "value": wrong}),
                "applicant_code_mistyped",
            )
            self._count("applicant_code_mistyped")
            for how in ("check", "charset"):
                app = rng.choice(apps)
                bad = w.outside_party()
                code = w.ids.broken_uscc(how, division=bad.uscc[2:8])
                for _ in range(rng.randrange(1, 3)):  # twice on one application: one finding
                    w.add_invoice(app, bad, seller_tax_id=code, touched="bad_seller")
                w.expect(
                    app,
                    "invalid_uscc",
                    finding_subject("invalid_uscc", {"field": "seller_tax_id", "value": code}),
                    f"seller_code_{how}",
                )
                self._count(f"seller_code_{how}")
            # Decoys: an old 15-digit tax number is not a USCC; a lower-case code is valid.
            app = rng.choice(apps)
            old = w.outside_party(individual=True)
            code = w.ids.old_tax_id()
            w.add_invoice(app, old, seller_tax_id=code, touched="old_tax_id")
            w.expect_not(
                app,
                "invalid_uscc",
                finding_subject("invalid_uscc", {"field": "seller_tax_id", "value": code}),
                "decoy_seller_old_15_digit_tax_id",
            )
            self._count("decoy_seller_old_15_digit_tax_id")
            app = rng.choice(apps)
            seller = rng.choice([s for s in app.sellers if s.uscc[:2] == "91"] or self.suppliers)
            w.add_invoice(app, seller, seller_tax_id=seller.uscc.lower(), touched="lower_seller")
            w.expect_not(
                app,
                "invalid_uscc",
                finding_subject("invalid_uscc", {"field": "seller_tax_id", "value": seller.uscc}),
                "decoy_seller_code_in_lower_case",
            )
            self._count("decoy_seller_code_in_lower_case")

    # --- registry ------------------------------------------------------------------------------

    def registry(self, single_apps: list[Application]) -> None:
        """Windows that cover the submission or the as-of date, and ones that just miss."""
        w, rng = self.w, self.rng
        pool = list(single_apps)
        rng.shuffle(pool)
        it = iter(pool)

        def row(app: Application, lst: str, start: dt.date, end: dt.date | None) -> str:
            table = REGISTRY_INELIGIBLE if lst == "ineligible" else REGISTRY_BLACKLIST
            category, source, reason = rng.choice(table)
            uscc = app.uscc.lower() if rng.random() < 0.1 else app.uscc
            w.registry.append(
                (
                    uscc,
                    lst,
                    category,
                    reason,
                    source,
                    start.isoformat(),
                    end.isoformat() if end else "",
                )
            )
            return finding_subject(
                "ineligible_applicant",
                {"category": category, "source": source, "valid_from": start.isoformat()},
            )

        def days(lo: int, hi: int) -> dt.timedelta:
            return dt.timedelta(days=rng.randrange(lo, hi))

        for _ in range(self.mult):
            for lst, kind in (
                ("ineligible", "ineligible_applicant"),
                ("blacklist", "blacklisted_applicant"),
            ):
                cases = {
                    "covers_submission": lambda s: (
                        s - days(30, 700),
                        rng.choice((None, s + days(30, 400))),
                    ),
                    "starts_on_submission": lambda s: (s, rng.choice((None, s + days(1, 300)))),
                    "ends_on_submission": lambda s: (s - days(60, 700), s),
                    "listed_after_submission_open_ended": lambda s: (
                        s + days(1, max(2, (AS_OF - s).days)),
                        None,
                    ),
                }
                for case, window in cases.items():
                    app = next(it)
                    start, end = window(app.submitted_on)
                    subject = row(app, lst, start, end)
                    w.expect(app, kind, subject, f"registry_{case}")
                    self._count(f"registry_{case}")
                decoys = {
                    "expired_day_before_submission": lambda s: (s - days(100, 900), s - DAY),
                    "future_window": lambda s: (
                        FUTURE_FROM + days(0, 500),
                        rng.choice((None, dt.date(2030, 12, 31))),
                    ),
                }
                for case, window in decoys.items():
                    app = next(it)
                    start, end = window(app.submitted_on)
                    subject = row(app, lst, start, end)
                    w.expect_not(app, kind, subject, f"decoy_registry_{case}")
                    self._count(f"decoy_registry_{case}")
                # A listed supplier of the applicant: the rule is about applicants only.
                app = next(it)
                seller = next((s for s in app.sellers if s.listed), None)
                if seller is not None:
                    category, source, reason = rng.choice(REGISTRY_INELIGIBLE)
                    start = app.submitted_on - days(10, 400)
                    w.registry.append(
                        (seller.uscc, lst, category, reason, source, start.isoformat(), "")
                    )
                    w.expect_not(
                        app,
                        kind,
                        finding_subject(
                            kind,
                            {
                                "category": category,
                                "source": source,
                                "valid_from": start.isoformat(),
                            },
                        ),
                        "decoy_registry_seller_listed",
                    )
                    self._count("decoy_registry_seller_listed")

    def registry_background(self, firms: list[Firm], applicant_firms: set[int], count: int) -> None:
        """Listed firms that do not apply (windows of every shape): never a finding."""
        rng, w = self.rng, self.w
        candidates = [f for f in firms if id(f) not in applicant_firms]
        for firm in rng.sample(candidates, min(count, len(candidates))):
            lst = rng.choice(("ineligible", "ineligible", "blacklist"))
            table = REGISTRY_INELIGIBLE if lst == "ineligible" else REGISTRY_BLACKLIST
            category, source, reason = rng.choice(table)
            start = dt.date(2019, 1, 1) + dt.timedelta(days=rng.randrange(2600))
            end = rng.choice((None, start + dt.timedelta(days=rng.randrange(180, 1100))))
            w.registry.append(
                (
                    firm.uscc,
                    lst,
                    category,
                    reason,
                    source,
                    start.isoformat(),
                    end.isoformat() if end else "",
                )
            )

    # --- invoices -------------------------------------------------------------------------------

    def invoices(self, apps: list[Application], multi: list[list[Application]]) -> None:
        """Copies across and within enterprises, typed variants, buyer and period problems."""
        w, rng = self.w, self.rng
        used: set[str] = set()

        def fresh_app() -> Application:
            while True:
                app = rng.choice(apps)
                if app.app_id not in used:
                    used.add(app.app_id)
                    return app

        def any_invoice(app: Application) -> int:
            return rng.choice(w.invoices_by_app[app.app_id])

        def expect_pair(i: int, j: int, case: str) -> None:
            a, b = w.invoices[i], w.invoices[j]
            w.expect(
                a.app_id,
                "duplicate_invoice",
                invoice_subject("duplicate_invoice", a.code, a.number),
                case,
            )
            w.expect(
                b.app_id,
                "duplicate_invoice",
                invoice_subject("duplicate_invoice", b.code, b.number),
                case,
            )
            self._count(case)

        for _ in range(self.mult):
            # Across enterprises, verbatim (the buyer still names the first applicant) and with
            # the buyer rewritten to the second applicant.
            for rebuy in (False, True):
                x, y = fresh_app(), fresh_app()
                i = any_invoice(x)
                j = w.copy_invoice(i, y, rebuy=rebuy, touched="dup")
                expect_pair(i, j, "dup_invoice_across_" + ("rebuyer" if rebuy else "verbatim"))
            # Within one enterprise: two of its applications.
            free = [g for g in multi if sum(a.app_id not in used for a in g) >= 2]
            if free:
                x, y = rng.sample([a for a in rng.choice(free) if a.app_id not in used], 2)
                used.update((x.app_id, y.app_id))
                i = any_invoice(x)
                j = w.copy_invoice(i, y, rebuy=True, touched="dup")
                expect_pair(i, j, "dup_invoice_same_enterprise")
            # Typed with spaces / hyphens in the number, and in the code.
            for part in ("number", "code"):
                x, y = fresh_app(), fresh_app()
                i = w.add_invoice(
                    x,
                    rng.choice(x.sellers),
                    key=w.ids.paper_invoice(x.period_start.year),
                    touched="dup",
                )
                typed = typed_invoice_part(getattr(w.invoices[i], part), rng)
                j = w.copy_invoice(i, y, **{part: typed}, rebuy=True, touched="dup")
                expect_pair(i, j, f"dup_invoice_{part}_typed_with_separators")
            # Leading zeros kept on both sides.
            x, y = fresh_app(), fresh_app()
            key = self._leading_zero_key(x.period_start.year)
            i = w.add_invoice(x, rng.choice(x.sellers), key=key, touched="dup")
            j = w.copy_invoice(i, y, rebuy=True, touched="dup")
            expect_pair(i, j, "dup_invoice_leading_zeros")
            # A fully digital e-invoice (20 digits, no code), typed in groups of four.
            x, y = fresh_app(), fresh_app()
            key = w.ids.digital_invoice(max(x.period_start.year, 2022))
            mid = x.period_start + (x.period_end - x.period_start) / 2
            i = w.add_invoice(x, rng.choice(x.sellers), key=key, issued_on=mid, touched="dup")
            j = w.copy_invoice(
                i, y, number=typed_invoice_part(key[1], rng), rebuy=True, touched="dup"
            )
            expect_pair(i, j, "dup_invoice_digital")
            # One invoice on three applications: one finding on each, naming the other two.
            x, y, z = fresh_app(), fresh_app(), fresh_app()
            i = any_invoice(x)
            j = w.copy_invoice(i, y, rebuy=True, touched="dup")
            k = w.copy_invoice(i, z, rebuy=True, touched="dup")
            expect_pair(i, j, "dup_invoice_three_applications")
            expect_pair(i, k, "dup_invoice_three_applications")
            expect_pair(j, k, "dup_invoice_three_applications")
            # Twice within one application and once in another: one finding each way.
            x, y = fresh_app(), fresh_app()
            i = any_invoice(x)
            w.copy_invoice(i, x, touched="dup")
            j = w.copy_invoice(i, y, rebuy=True, touched="dup")
            expect_pair(i, j, "dup_invoice_repeated_within_and_across")

            # Decoys: the same number under another code; leading zeros dropped (a different
            # number under the spec); the same invoice twice within one application only.
            x, y = fresh_app(), fresh_app()
            i = w.add_invoice(
                x,
                rng.choice(x.sellers),
                key=w.ids.paper_invoice(x.period_start.year),
                touched="decoy",
            )
            src = w.invoices[i]
            code2 = src.code
            while code2 == src.code or not w.ids.claim_invoice(code2, src.number):
                code2 = w.ids.paper_invoice(y.period_start.year, twelve=len(src.code) == 12)[0]
            j = w.add_invoice(y, rng.choice(y.sellers), key=(code2, src.number), touched="decoy")
            w.expect_not(
                y,
                "duplicate_invoice",
                invoice_subject("duplicate_invoice", code2, src.number),
                "decoy_same_number_other_code",
            )
            w.expect_not(
                x,
                "duplicate_invoice",
                invoice_subject("duplicate_invoice", src.code, src.number),
                "decoy_same_number_other_code",
            )
            self._count("decoy_same_number_other_code")
            x, y = fresh_app(), fresh_app()
            code, number = self._leading_zero_key(x.period_start.year)
            stripped = number.lstrip("0")
            w.ids.claim_invoice(code, stripped)
            w.add_invoice(x, rng.choice(x.sellers), key=(code, number), touched="decoy")
            w.add_invoice(y, rng.choice(y.sellers), key=(code, stripped), touched="decoy")
            w.expect_not(
                y,
                "duplicate_invoice",
                invoice_subject("duplicate_invoice", code, stripped),
                "decoy_leading_zeros_dropped",
            )
            w.expect_not(
                x,
                "duplicate_invoice",
                invoice_subject("duplicate_invoice", code, number),
                "decoy_leading_zeros_dropped",
            )
            self._count("decoy_leading_zeros_dropped")
            x = fresh_app()
            i = any_invoice(x)
            w.copy_invoice(i, x, touched="decoy")
            src = w.invoices[i]
            w.expect_not(
                x,
                "duplicate_invoice",
                invoice_subject("duplicate_invoice", src.code, src.number),
                "decoy_invoice_twice_in_one_application",
            )
            self._count("decoy_invoice_twice_in_one_application")

            # Buyer mismatch: a sister company or another firm is the buyer.
            x = fresh_app()
            i = any_invoice(x)
            other = rng.choice(self.suppliers[: max(1, len(self.suppliers) // 2)])
            inv = w.invoices[i]
            inv.buyer_tax_id, inv.buyer_name, inv.touched = other.uscc, other.name, "buyer"
            w.expect(
                x,
                "invoice_buyer_mismatch",
                invoice_subject("invoice_buyer_mismatch", inv.code, inv.number),
                "buyer_is_another_firm",
            )
            self._count("buyer_is_another_firm")
            x = fresh_app()
            i = any_invoice(x)
            inv = w.invoices[i]
            inv.buyer_tax_id = w.ids.broken_uscc("check")
            inv.touched = "buyer"
            w.expect(
                x,
                "invoice_buyer_mismatch",
                invoice_subject("invoice_buyer_mismatch", inv.code, inv.number),
                "buyer_code_mistyped",
            )
            self._count("buyer_code_mistyped")
            x = fresh_app()
            i = any_invoice(x)
            inv = w.invoices[i]
            inv.buyer_tax_id, inv.touched = x.uscc.lower(), "decoy"
            w.expect_not(
                x,
                "invoice_buyer_mismatch",
                invoice_subject("invoice_buyer_mismatch", inv.code, inv.number),
                "decoy_buyer_code_lower_case",
            )
            self._count("decoy_buyer_code_lower_case")

            # Outside the period, and exactly on its first and last day.
            for case, when in (
                ("issued_day_before_period", lambda a: a.period_start - DAY),
                ("issued_day_after_period", lambda a: a.period_end + DAY),
                (
                    "issued_long_before_period",
                    lambda a: a.period_start - dt.timedelta(days=rng.randrange(60, 500)),
                ),
            ):
                x = fresh_app()
                inv = w.invoices[any_invoice(x)]
                inv.issued_on, inv.touched = when(x), "period"
                w.expect(
                    x,
                    "invoice_outside_period",
                    invoice_subject("invoice_outside_period", inv.code, inv.number),
                    case,
                )
                self._count(case)
            for case, when in (
                ("decoy_issued_on_period_start", lambda a: a.period_start),
                ("decoy_issued_on_period_end", lambda a: a.period_end),
            ):
                x = fresh_app()
                inv = w.invoices[any_invoice(x)]
                inv.issued_on, inv.touched = when(x), "decoy"
                w.expect_not(
                    x,
                    "invoice_outside_period",
                    invoice_subject("invoice_outside_period", inv.code, inv.number),
                    case,
                )
                self._count(case)

    def _leading_zero_key(self, year: int) -> tuple[str, str]:
        while True:
            code, _ = self.w.ids.paper_invoice(year)
            number = "00" + f"{self.rng.randrange(10**6):06d}"
            if number.lstrip("0") and self.w.ids.claim_invoice(code, number):
                return code, number
