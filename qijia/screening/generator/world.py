"""The synthetic city: enterprises, people, roles, holdings, contacts, applications and invoices.

The background is built so that no finding can happen by accident: every enterprise belongs to
one small *component* (a standalone firm or a group under one boss) whose people, phones and
e-mail addresses belong to nobody else; the only contacts shared across components are hubs
(agency phones, park mailboxes) that reach well over ten enterprises and so make no edges; the
suppliers applicants pay are firms of their own components; invoice keys are unique. Planted
cases then add exactly the relations, copies and windows that should be found, and decoys add
the look-alikes that should not. The truth is still computed from the rows by
:mod:`qijia.screening.generator.truth`, and every planted intention is checked against it.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal

from .ids import Identifiers, typed_email, typed_phone
from .vocab import (
    BRAND_CHARS,
    COMPANY_SUFFIXES,
    GIVEN_CHARS,
    OUT_OF_TOWN,
    PARKS,
    PROGRAMMES,
    ROADS,
    SERVICE_TRADES,
    SURNAMES,
    TRADES,
    Reference,
)

# The date the truth is computed for (``qijia screen --as-of``). Registry windows are placed so
# that any as-of date from AS_OF up to FUTURE_FROM - 1 day gives the same findings.
AS_OF = dt.date(2026, 6, 30)
FUTURE_FROM = dt.date(2027, 3, 1)
FIRST_PERIOD = dt.date(2023, 1, 1)
LAST_SUBMISSION = dt.date(2026, 5, 31)

# Industry divisions weighted as Dongguan's manufacturing is: electronics, metal, plastics first.
_INDUSTRY_WEIGHTS = {
    "C39": 18,
    "C33": 12,
    "C29": 10,
    "C38": 10,
    "C34": 7,
    "C35": 6,
    "C18": 5,
    "C21": 5,
    "C24": 5,
    "C19": 3,
    "C17": 3,
    "C22": 3,
    "C23": 3,
    "C26": 2,
    "C30": 2,
    "C40": 2,
    "C36": 2,
}
_SERVICE_INDUSTRY = {
    "信息技术": "I65",
    "软件": "I65",
    "数据科技": "I65",
    "自动化工程": "E49",
    "检测技术": "M74",
    "检验认证": "M74",
    "管理咨询": "L72",
    "财税咨询": "L72",
    "知识产权代理": "L72",
    "节能技术": "M75",
    "环保工程": "N77",
    "设备贸易": "F51",
    "机电设备": "F51",
    "工业设计": "M74",
    "智能制造系统": "I65",
}


@dataclass(eq=False)
class Person:
    key: str
    name: str
    pinyin: str
    id_number: str  # as typed in the file ("" when unknown)
    phone: str  # as typed
    email: str  # as typed


@dataclass(eq=False)
class Firm:
    uscc: str
    name: str
    pinyin: str
    town: str
    industry: str
    address: str
    phone: str  # as typed
    email: str  # as typed
    established: dt.date
    listed: bool = True  # False: a party known only by its code (absent from enterprises.csv)
    legal_rep: Person | None = None
    staff: list[Person] = field(default_factory=list)

    @property
    def rep(self) -> Person:
        """The legal representative of a firm ``World.staff`` has staffed."""
        assert self.legal_rep is not None, f"{self.uscc} has not been staffed"
        return self.legal_rep


@dataclass(eq=False)
class Application:
    app_id: str
    uscc: str  # as written in applications.csv
    firm: Firm
    programme: str
    title: str
    period_start: dt.date
    period_end: dt.date
    submitted_on: dt.date
    amount_requested: Decimal | None = None
    sellers: list[Firm] = field(default_factory=list)


@dataclass
class Invoice:
    app_id: str
    code: str  # as typed
    number: str  # as typed
    issued_on: dt.date
    seller_tax_id: str
    seller_name: str
    buyer_tax_id: str
    buyer_name: str
    amount: Decimal
    tax: Decimal
    touched: str = ""  # which plant changed it ("" for untouched background)


@dataclass(frozen=True)
class Expectation:
    """A planted case (``present``) or a decoy (not present) the truth must agree with."""

    application_id: str
    kind: str
    subject: str
    present: bool
    case: str


class World:
    """All rows of one bundle while it is being built."""

    def __init__(self, seed: int, reference: Reference):
        self.seed = seed
        self.ref = reference
        self.rng = random.Random(f"qijia-gen:{seed}:world")
        self.ids = Identifiers(random.Random(f"qijia-gen:{seed}:ids"))
        self.firms: list[Firm] = []  # every party with a code, listed or not
        self.firm_by_uscc: dict[str, Firm] = {}
        self.persons: list[Person] = []
        self.roles: list[tuple[str, str, str, str]] = []  # person_key, uscc, role, share_pct
        self.holdings: list[tuple[str, str, str]] = []  # holder, held, share_pct
        self.registry: list[tuple[str, str, str, str, str, str, str]] = []
        self.applications: list[Application] = []
        self.app_by_id: dict[str, Application] = {}
        self.invoices: list[Invoice] = []
        self.invoices_by_app: dict[str, list[int]] = {}
        self.expectations: list[Expectation] = []
        self._person_keys: set[str] = set()
        self._app_ids: set[str] = set()
        self._names: set[str] = set()
        self._surnames = [s for s in SURNAMES]
        self._surname_weights = [w for _, _, w in SURNAMES]
        codes = [c for c, _ in reference.industries]
        self._industries = codes
        self._industry_weights = [_INDUSTRY_WEIGHTS.get(c, 1) for c in codes]
        self._suffixes = [s for s, _ in COMPANY_SUFFIXES]
        self._suffix_weights = [w for _, w in COMPANY_SUFFIXES]

    # --- people ---------------------------------------------------------------------------------

    def person_name(self) -> tuple[str, str]:
        rng = self.rng
        surname, sur_py, _ = rng.choices(self._surnames, self._surname_weights)[0]
        count = 2 if rng.random() < 0.72 else 1
        chars = [rng.choice(GIVEN_CHARS) for _ in range(count)]
        return surname + "".join(c for c, _ in chars), sur_py + "".join(p for _, p in chars)

    def new_person_key(self) -> str:
        while True:
            key = f"P{self.rng.randrange(10**8):08d}"
            if key not in self._person_keys:
                self._person_keys.add(key)
                return key

    def new_person(
        self,
        *,
        name: tuple[str, str] | None = None,
        with_id: bool = True,
        id_number: str | None = None,
        phone: str | None = None,
        email: str | None = None,
        phone_share: float = 0.85,
        email_share: float = 0.3,
    ) -> Person:
        """A person row. Contacts not given are fresh (never shared) or absent."""
        rng = self.rng
        full_name, pinyin = name or self.person_name()
        if id_number is None:
            id_number = self.ids.id_number() if with_id else ""
        if phone is None:
            phone = typed_phone(self.ids.mobile(), rng) if rng.random() < phone_share else ""
        if email is None:
            if rng.random() < email_share:
                birth = int(id_number[6:10]) if len(id_number) == 18 else None
                email = typed_email(self.ids.person_email(pinyin, birth), rng)
            else:
                email = ""
        person = Person(self.new_person_key(), full_name, pinyin, id_number, phone, email)
        self.persons.append(person)
        return person

    def add_role(self, person: Person, firm: Firm, role: str, share: float | None = None) -> None:
        pct = f"{share:.2f}" if share is not None else ""
        self.roles.append((person.key, firm.uscc, role, pct))
        if all(p is not person for p in firm.staff):
            firm.staff.append(person)

    def add_holding(self, holder: Firm, held: Firm, share: float | None = None) -> None:
        pct = share if share is not None else self.rng.choice((100.0, 51.0, 60.0, 70.0, 35.0, 20.0))
        self.holdings.append((holder.uscc, held.uscc, f"{pct:.2f}"))

    # --- enterprises ----------------------------------------------------------------------------

    def _brand(self) -> tuple[str, str]:
        a, b = self.rng.sample(BRAND_CHARS, 2)
        return a[0] + b[0], a[1] + b[1]

    def _unique_name(self, make) -> tuple[str, str]:
        for _ in range(50):
            name, pinyin = make()
            if name not in self._names:
                self._names.add(name)
                return name, pinyin
        # Very large cities run out of two-character brands: add a third character.
        while True:
            name, pinyin = make()
            extra = self.rng.choice(BRAND_CHARS)
            name = (
                name.replace("东莞市", "东莞市" + extra[0], 1)
                if "东莞市" in name
                else extra[0] + name
            )
            if name not in self._names:
                self._names.add(name)
                return name, pinyin + extra[1]

    def address(self, town: str) -> str:
        rng = self.rng
        if rng.random() < 0.5:
            return f"广东省东莞市{town}{rng.choice(ROADS)}{rng.randrange(1, 900)}号"
        return (
            f"广东省东莞市{town}{rng.choice(ROADS)}{rng.randrange(1, 300)}号"
            f"{rng.randrange(1, 12)}栋{rng.randrange(1, 8)}楼"
        )

    def new_firm(
        self,
        *,
        service: bool = False,
        uscc: str | None = None,
        town: str | None = None,
        phone: str | None = None,
        email: str | None = None,
        address: str | None = None,
        trade: str | None = None,
    ) -> Firm:
        """A listed enterprise with fresh contacts (or the ones given), not yet staffed."""
        rng = self.rng
        town = town or rng.choice(self.ref.towns)
        if service:
            trade = trade or rng.choice(SERVICE_TRADES)
            industry = _SERVICE_INDUSTRY.get(trade, "L72")

            def make():
                brand, py = self._brand()
                return f"东莞市{brand}{trade}有限公司", py
        else:
            industry = rng.choices(self._industries, self._industry_weights)[0]
            trades = TRADES.get(industry, ("实业",))

            def make():
                brand, py = self._brand()
                suffix = rng.choices(self._suffixes, self._suffix_weights)[0]
                trade = rng.choice(trades)
                if suffix.startswith("科技") and trade.endswith("科技"):
                    suffix = "有限公司"
                return f"东莞市{brand}{trade}{suffix}", py

        name, pinyin = self._unique_name(make)
        if phone is None:
            phone = typed_phone(self.ids.landline(), rng) if rng.random() < 0.93 else ""
        if email is None:
            email = (
                typed_email(
                    self.ids.company_email(pinyin, rng.choice(("com", "cn", "com.cn"))), rng
                )
                if rng.random() < 0.55
                else ""
            )
        firm = Firm(
            uscc=uscc or self.ids.uscc(),
            name=name,
            pinyin=pinyin,
            town=town,
            industry=industry,
            address=address or self.address(town),
            phone=phone,
            email=email,
            established=dt.date(1995, 1, 1) + dt.timedelta(days=rng.randrange(365 * 29)),
        )
        self._register(firm)
        return firm

    def outside_party(self, *, individual: bool = False) -> Firm:
        """A seller from outside Dongguan, absent from enterprises.csv: known only by its code."""
        rng = self.rng
        division, city = rng.choice(OUT_OF_TOWN)
        trade = rng.choice(SERVICE_TRADES)

        def make():
            brand, py = self._brand()
            if individual:
                return f"{city}{brand}{trade}经营部", py
            return f"{city}{brand}{trade}有限公司", py

        name, pinyin = self._unique_name(make)
        firm = Firm(
            uscc=self.ids.uscc(division=division, kind="92" if individual else "91"),
            name=name,
            pinyin=pinyin,
            town="",
            industry="",
            address="",
            phone="",
            email="",
            established=dt.date(2010, 1, 1),
            listed=False,
        )
        self._register(firm)
        return firm

    def _register(self, firm: Firm) -> None:
        self.firms.append(firm)
        self.firm_by_uscc[firm.uscc] = firm

    def staff(self, firm: Firm, *, boss: Person | None = None, lean: bool = False) -> Person:
        """Give ``firm`` its people: a legal representative, shareholders, maybe more.

        ``boss`` (a group's owner) becomes the legal representative; ``lean`` keeps the firm to its
        legal representative (used where extra people would only add noise to a planted path).
        """
        rng = self.rng
        rep = boss or self.new_person()
        firm.legal_rep = rep
        self.add_role(rep, firm, "legal_representative")
        remaining = 100.0
        if rng.random() < 0.75:
            share = rng.choice((100.0, 80.0, 70.0, 60.0, 51.0)) if not lean else 100.0
            self.add_role(rep, firm, "shareholder", share)
            remaining -= share
        if rng.random() < 0.35:
            self.add_role(rep, firm, rng.choice(("director", "manager")))
        if lean:
            return rep
        extra = rng.choices((0, 1, 2), (0.62, 0.3, 0.08))[0]
        for _ in range(extra):
            if remaining <= 0:
                break
            partner = self.new_person()
            share = remaining if rng.random() < 0.5 else round(remaining * rng.uniform(0.3, 0.9), 2)
            self.add_role(partner, firm, "shareholder", share)
            remaining -= share
            if rng.random() < 0.3:
                self.add_role(partner, firm, "director")
        if rng.random() < 0.28:
            self.add_role(self.new_person(), firm, "supervisor")
        if rng.random() < 0.22:
            self.add_role(self.new_person(with_id=rng.random() < 0.5), firm, "finance_contact")
        return rep

    # --- applications and invoices ------------------------------------------------------------

    def new_app_id(self, year: int) -> str:
        while True:
            app_id = f"GXJ{year}{self.rng.randrange(10**6):06d}"
            if app_id not in self._app_ids:
                self._app_ids.add(app_id)
                return app_id

    def new_application(
        self, firm: Firm, *, uscc: str | None = None, submitted_before: dt.date = LAST_SUBMISSION
    ) -> Application:
        rng = self.rng
        programme, titles = rng.choice(PROGRAMMES)
        title = f"{firm.name.removeprefix('东莞市')[:4]}{rng.choice(titles)}"
        latest_start = submitted_before - dt.timedelta(days=400)
        start = FIRST_PERIOD + dt.timedelta(days=rng.randrange((latest_start - FIRST_PERIOD).days))
        start = start.replace(day=1) if rng.random() < 0.6 else start
        end = start + dt.timedelta(days=rng.randrange(180, 365))
        submitted = end + dt.timedelta(days=rng.randrange(3, 35))
        app = Application(
            app_id=self.new_app_id(submitted.year),
            uscc=uscc if uscc is not None else firm.uscc,
            firm=firm,
            programme=programme,
            title=title,
            period_start=start,
            period_end=end,
            submitted_on=submitted,
        )
        self.applications.append(app)
        self.app_by_id[app.app_id] = app
        self.invoices_by_app[app.app_id] = []
        return app

    def new_invoice_key(self, year: int, rng: random.Random | None = None) -> tuple[str, str]:
        rng = rng or self.rng
        roll = rng.random()
        if year >= 2022 and roll < 0.5:
            return self.ids.digital_invoice(year)
        return self.ids.paper_invoice(year)

    def add_invoice(
        self,
        app: Application,
        seller: Firm,
        *,
        issued_on: dt.date | None = None,
        key: tuple[str, str] | None = None,
        seller_tax_id: str | None = None,
        buyer_tax_id: str | None = None,
        buyer_name: str | None = None,
        touched: str = "",
    ) -> int:
        """An invoice of ``seller`` to the applicant, issued inside the project period."""
        rng = self.rng
        if issued_on is None:
            span = (app.period_end - app.period_start).days
            issued_on = app.period_start + dt.timedelta(days=rng.randrange(1, span))
        code, number = key or self.new_invoice_key(issued_on.year)
        amount = Decimal(rng.randrange(2_000_00, 1_500_000_00)) / 100
        rate = Decimal("0.06") if seller.industry[:1] in ("I", "L", "M") else Decimal("0.13")
        invoice = Invoice(
            app_id=app.app_id,
            code=code,
            number=number,
            issued_on=issued_on,
            seller_tax_id=seller.uscc if seller_tax_id is None else seller_tax_id,
            seller_name=seller.name,
            buyer_tax_id=app.uscc if buyer_tax_id is None else buyer_tax_id,
            buyer_name=app.firm.name if buyer_name is None else buyer_name,
            amount=amount,
            tax=(amount * rate).quantize(Decimal("0.01")),
            touched=touched,
        )
        self.invoices.append(invoice)
        self.invoices_by_app[app.app_id].append(len(self.invoices) - 1)
        if all(s is not seller for s in app.sellers):
            app.sellers.append(seller)
        return len(self.invoices) - 1

    def copy_invoice(
        self,
        index: int,
        app: Application,
        *,
        number: str | None = None,
        code: str | None = None,
        rebuy: bool = False,
        touched: str = "",
    ) -> int:
        """The same invoice presented again with ``app`` (as typed, optionally re-addressed)."""
        src = self.invoices[index]
        copy = Invoice(
            app_id=app.app_id,
            code=src.code if code is None else code,
            number=src.number if number is None else number,
            issued_on=src.issued_on,
            seller_tax_id=src.seller_tax_id,
            seller_name=src.seller_name,
            buyer_tax_id=app.uscc if rebuy else src.buyer_tax_id,
            buyer_name=app.firm.name if rebuy else src.buyer_name,
            amount=src.amount,
            tax=src.tax,
            touched=touched,
        )
        self.invoices.append(copy)
        self.invoices_by_app[app.app_id].append(len(self.invoices) - 1)
        return len(self.invoices) - 1

    def finish_amounts(self) -> None:
        """Requested amount: a share of the invoiced spend, as programmes subsidise 10-30%."""
        rng = random.Random(f"qijia-gen:{self.seed}:amounts")
        for app in self.applications:
            spend = sum(
                (self.invoices[i].amount for i in self.invoices_by_app[app.app_id]), Decimal(0)
            )
            if spend <= 0:
                spend = Decimal(rng.randrange(100_000, 2_000_000))
            rate = Decimal(rng.randrange(10, 31)) / 100
            app.amount_requested = min(
                (spend * rate).quantize(Decimal("0.01")), Decimal("5000000.00")
            )

    # --- expectations -------------------------------------------------------------------------

    def expect(self, app: Application | str, kind: str, subject: str, case: str) -> None:
        app_id = app if isinstance(app, str) else app.app_id
        self.expectations.append(Expectation(app_id, kind, subject, True, case))

    def expect_not(self, app: Application | str, kind: str, subject: str, case: str) -> None:
        app_id = app if isinstance(app, str) else app.app_id
        self.expectations.append(Expectation(app_id, kind, subject, False, case))

    # --- helpers for cases --------------------------------------------------------------------

    def parks_address(self, town: str, park: str) -> str:
        return f"广东省东莞市{town}{park}{self.rng.randrange(1, 9)}栋"

    def fresh_park(self) -> tuple[str, str, str]:
        """(town, park name, park mailbox) for a new industrial park."""
        rng = self.rng
        town = rng.choice(self.ref.towns)
        park = rng.choice(PARKS)
        brand, py = self._brand()
        email = ""
        while not email:
            candidate = f"service@{py}park{rng.randrange(1, 100)}.com"
            if self.ids.reserve_email(candidate):
                email = candidate
        return town, f"{brand}{park}", email
