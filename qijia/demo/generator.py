"""The demo city's data, generated deterministically from a seed. Plain Python and numpy, no Django.

Everything here is a pure function of (plan, seed, towns, industries): the same inputs give the
same enterprises, people, roles, holdings and monthly figures, row for row. The loader
(``qijia.demo.loader``) decides how rows reach the database (COPY or bulk_create); the PII step
(hash + encryption) happens there too because it needs the deployment's keys.

Shapes worth knowing:
- size classes are skewed to small and micro; revenue is lognormal around a median per class;
- each enterprise has its own growth rate; some decline, some closed (their figures stop);
- months follow a seasonal curve with the Spring Festival dip in the month the festival falls;
- groups: a parent and a chain/tree of subsidiaries held 51-100 %, one controller who is legal
  representative of the parent and of several subsidiaries, one finance head shared by all;
- besides the groups, minority corporate stakes between unrelated enterprises.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import hashlib
import itertools
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from qijia.core.identifiers import USCC_ALPHABET, id_check_char, uscc_check_char

from . import names

SIZE_CLASSES = ("micro", "small", "medium", "large")
SIZE_WEIGHTS = (0.55, 0.32, 0.10, 0.03)
STATUS_ACTIVE, STATUS_SUSPENDED, STATUS_CANCELLED, STATUS_REVOKED = (
    "active",
    "suspended",
    "cancelled",
    "revoked",
)


@dataclass(frozen=True)
class Plan:
    """How big a city is. ``holdings`` and roles together make the "roles and holdings" figure."""

    scale: str
    enterprises: int
    persons: int
    holdings: int
    groups: int
    months: int = 60
    #: Roles are derived from each enterprise's people; this is the target the mix is tuned to.
    target_roles: int = 0


PLANS = {
    "demo": Plan("demo", enterprises=300, persons=600, holdings=45, groups=6, target_roles=1_350),
    "city": Plan(
        "city",
        enterprises=200_000,
        persons=400_000,
        holdings=50_000,
        groups=1_500,
        target_roles=950_000,
    ),
}


def scaled_plan(scale: str, enterprises: int) -> Plan:
    """The plan of ``scale`` resized to ``enterprises`` (benchmarks' quick runs, tests)."""
    base = PLANS[scale]
    factor = enterprises / base.enterprises
    return Plan(
        scale,
        enterprises=enterprises,
        persons=max(enterprises, round(base.persons * factor)),
        holdings=round(base.holdings * factor),
        groups=max(1, round(base.groups * factor)),
        months=base.months,
        target_roles=round(base.target_roles * factor),
    )


def default_end_month(today: dt.date | None = None) -> dt.date:
    """December of last year: the window is five whole calendar years, so a seed gives the same
    data all year long (pass ``end_month`` for another window)."""
    today = today or dt.date.today()
    return dt.date(today.year - 1, 12, 1)


def month_list(end_month: dt.date, count: int) -> list[dt.date]:
    first_index = end_month.year * 12 + end_month.month - 1 - (count - 1)
    return [dt.date(i // 12, i % 12 + 1, 1) for i in range(first_index, first_index + count)]


def sub_rng(seed: int, name: str) -> random.Random:
    digest = hashlib.sha256(f"{seed}:{name}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def sub_seed(seed: int, name: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{seed}:{name}".encode()).digest()[:8], "big")


def _cumulative(weights: Sequence[float]) -> list[float]:
    return list(itertools.accumulate(weights))


# --- identifiers ------------------------------------------------------------------------------

_USCC_SPACE = 31**9


@functools.lru_cache(maxsize=8)
def _uscc_affine(seed: int) -> tuple[int, int]:
    # Near the golden ratio of the space, so consecutive enterprises get far-apart bodies.
    multiplier = int(_USCC_SPACE * 0.6180339887) + sub_seed(seed, "uscc.a") % 10**9
    while multiplier % 31 == 0:
        multiplier += 2
    return multiplier, sub_seed(seed, "uscc.b")


def uscc_for(index: int, seed: int, *, division: str = "441900") -> str:
    """A valid, unique USCC for enterprise ``index``: the 9-character body is an affine bijection
    of the index over 31^9 values (so bodies look scattered, never repeat), then the GB 32100
    check character."""
    multiplier, offset = _uscc_affine(seed)
    value = (index * multiplier + offset) % _USCC_SPACE
    body = []
    for _ in range(9):
        value, digit = divmod(value, 31)
        body.append(USCC_ALPHABET[digit])
    first17 = "91" + division + "".join(reversed(body))
    return first17 + uscc_check_char(first17)


# --- enterprises ------------------------------------------------------------------------------


@dataclass(slots=True)
class Enterprise:
    index: int
    uscc: str
    name: str
    town_id: int
    industry: str
    address: str
    phone: str
    email: str
    established_on: dt.date
    size_class: str
    status: str
    #: First and one-past-last month index (in the window) with figures.
    first_month: int
    end_month: int


_SPRING_FESTIVAL = {
    2016: (2, 8), 2017: (1, 28), 2018: (2, 16), 2019: (2, 5), 2020: (1, 25), 2021: (2, 12),
    2022: (2, 1), 2023: (1, 22), 2024: (2, 10), 2025: (1, 29), 2026: (2, 17), 2027: (2, 6),
    2028: (1, 26), 2029: (2, 13), 2030: (2, 3),
}  # fmt: skip
_BASE_SEASON = (0.98, 1.0, 1.0, 1.0, 1.02, 1.03, 1.0, 1.02, 1.05, 1.04, 1.08, 1.12)


def seasonality(months: Sequence[dt.date]) -> np.ndarray:
    """Factor per month: a mild autumn/year-end peak, and the Spring Festival dip where the
    festival actually falls (late January takes from January and February, mid-February mostly
    from February and a little from March)."""
    factors = np.array([_BASE_SEASON[m.month - 1] for m in months])
    for i, m in enumerate(months):
        festival = _SPRING_FESTIVAL.get(m.year, (2, 5))
        if festival[0] == 1:
            dip = {1: 0.74, 2: 0.86}.get(m.month)
        elif festival[1] <= 10:
            dip = {1: 0.93, 2: 0.63}.get(m.month)
        else:
            dip = {2: 0.66, 3: 0.92}.get(m.month)
        if dip:
            factors[i] *= dip
        if (m.year, m.month) in ((2022, 3), (2022, 4)):  # the spring 2022 closures in Dongguan
            factors[i] *= 0.88 if m.month == 3 else 0.94
    return factors


def generate_enterprises(
    plan: Plan,
    seed: int,
    towns: Sequence[tuple[int, str]],
    industries: Sequence[str],
    months: Sequence[dt.date],
) -> list[Enterprise]:
    rng = sub_rng(seed, "enterprises")
    town_cum = _cumulative([names.TOWN_WEIGHTS.get(name, 1.0) for _, name in towns])
    industry_cum = _cumulative([names.INDUSTRY_WEIGHTS.get(code, 0.5) for code in industries])
    size_cum = _cumulative(SIZE_WEIGHTS)
    window_start, window_end = months[0], months[-1]
    seen_names: set[str] = set()
    result = []
    for index in range(plan.enterprises):
        size = SIZE_CLASSES[bisect.bisect(size_cum, rng.random() * size_cum[-1])]
        town_id, town_name = towns[bisect.bisect(town_cum, rng.random() * town_cum[-1])]
        industry = industries[bisect.bisect(industry_cum, rng.random() * industry_cum[-1])]
        name = _company_name(rng, industry, size, town_name, seen_names)
        # Older firms are bigger; about one in seven was set up inside the window.
        if rng.random() < 0.14:
            span = (window_end - window_start).days
            established = window_start + dt.timedelta(days=rng.randrange(span))
        else:
            oldest = {"micro": 2005, "small": 1998, "medium": 1992, "large": 1988}[size]
            year = rng.randint(oldest, window_start.year - 1)
            established = dt.date(year, rng.randint(1, 12), rng.randint(1, 28))
        first_month = max(
            0,
            (established.year - window_start.year) * 12 + established.month - window_start.month,
        )
        status, end = STATUS_ACTIVE, len(months)
        roll = rng.random()
        closable = len(months) - first_month > 8
        if closable and roll < {"micro": 0.09, "small": 0.05, "medium": 0.02, "large": 0.01}[size]:
            status = rng.choice((STATUS_CANCELLED, STATUS_CANCELLED, STATUS_REVOKED))
            end = rng.randint(first_month + 6, len(months) - 1)
        elif closable and roll > 0.985:
            status = STATUS_SUSPENDED
            end = rng.randint(len(months) - 8, len(months) - 1)
        road = rng.choice(names.ROAD_WORDS) + rng.choice(names.ROAD_SUFFIX)
        address = (
            f"广东省东莞市{town_name}{road}{rng.randint(1, 388)}号{rng.choice(names.ADDRESS_EXTRA)}"
        )
        uscc = uscc_for(index, seed)
        if rng.random() < 0.72:
            phone = f"0769-{rng.choice('2238')}{rng.randrange(10**6, 10**7)}"
        else:
            phone = _mobile(rng)
        email = ""
        if rng.random() < 0.6:
            email = rng.choice(
                (
                    f"sales@dg{uscc[8:14].lower()}.com",
                    f"service@dg{uscc[9:15].lower()}.cn",
                    f"{rng.randrange(10**7, 10**10)}@{rng.choice(names.EMAIL_DOMAINS)}",
                )
            )
        result.append(
            Enterprise(
                index=index,
                uscc=uscc,
                name=name,
                town_id=town_id,
                industry=industry,
                address=address,
                phone=phone,
                email=email,
                established_on=established,
                size_class=size,
                status=status,
                first_month=first_month,
                end_month=end,
            )
        )
    return result


def _company_name(rng: random.Random, industry: str, size: str, town: str, seen: set[str]) -> str:
    words = names.INDUSTRY_WORDS.get(industry, ("实业",))
    for attempt in range(50):
        length = 2 if attempt < 10 else 3
        trade = "".join(rng.choice(names.TRADE_CHARS) for _ in range(length))
        if trade[0] == trade[1]:
            continue
        prefix = rng.choice(("东莞市", "东莞市", "东莞市", "东莞", "广东"))
        if size == "large" and rng.random() < 0.5:
            suffix = "股份有限公司"
        elif rng.random() < 0.2:
            suffix = "实业有限公司" if rng.random() < 0.5 else "科技有限公司"
        else:
            suffix = "有限公司"
        if suffix == "科技有限公司" and words[0].endswith("科技"):
            suffix = "有限公司"
        name = f"{prefix}{trade}{rng.choice(words)}{suffix}"
        if name not in seen:
            seen.add(name)
            return name
    # 50 collisions in a row only happen at far larger scales; the town keeps it unique.
    name = f"东莞市{town[:2]}{trade}{rng.choice(words)}有限公司{len(seen)}"
    seen.add(name)
    return name


def _mobile(rng: random.Random) -> str:
    return rng.choice(names.MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


# --- holdings and groups ----------------------------------------------------------------------


@dataclass
class Ownership:
    """Holdings between enterprises and who controls each group."""

    holdings: list[tuple[int, int, str]] = field(default_factory=list)  # holder, held, share
    corporate_share: dict[int, float] = field(default_factory=dict)  # held index -> total %
    #: Each group: (parent index, [subsidiary indexes]).
    groups: list[tuple[int, list[int]]] = field(default_factory=list)
    #: Subsidiary index -> parent index of its group (whose controller is its legal rep).
    controlled_by: dict[int, int] = field(default_factory=dict)
    #: Subsidiary index -> parent index whose finance head also keeps this subsidiary's books.
    shared_finance: dict[int, int] = field(default_factory=dict)


def generate_ownership(plan: Plan, seed: int, enterprises: Sequence[Enterprise]) -> Ownership:
    rng = sub_rng(seed, "ownership")
    own = Ownership()
    pairs: set[tuple[int, int]] = set()
    n = len(enterprises)
    big = [e.index for e in enterprises if e.size_class in ("medium", "large")]
    in_group: set[int] = set()

    def add(holder: int, held: int, share: float) -> None:
        share = round(share, 4)
        pairs.add((holder, held))
        own.holdings.append((holder, held, f"{share:.4f}"))
        own.corporate_share[held] = own.corporate_share.get(held, 0.0) + share

    parents = rng.sample(big, min(plan.groups, len(big)))
    for parent in parents:
        if parent in in_group:
            continue
        in_group.add(parent)
        members: list[int] = []
        for _ in range(rng.randint(2, 6)):
            candidate = rng.randrange(n)
            if candidate in in_group:
                continue
            in_group.add(candidate)
            # A chain or a tree: the holder is the parent or a member added before.
            holder = rng.choice([parent, *members]) if members else parent
            share = 100.0 if rng.random() < 0.45 else rng.uniform(51, 95)
            add(holder, candidate, share)
            members.append(candidate)
        if len(members) < 2:
            continue
        own.groups.append((parent, members))
        # The controller is legal representative of the parent and of most subsidiaries.
        controlled = rng.sample(members, max(2, (len(members) * 2 + 2) // 3))
        for member in controlled:
            own.controlled_by[member] = parent
        for member in members:
            if rng.random() < 0.5:
                own.shared_finance[member] = parent

    holders = big + rng.sample(range(n), min(n, max(1, n // 10)))
    attempts = 0
    while len(own.holdings) < plan.holdings and attempts < plan.holdings * 20:
        attempts += 1
        holder, held = rng.choice(holders), rng.randrange(n)
        if holder == held or (holder, held) in pairs or (held, holder) in pairs:
            continue
        share = round(rng.choice((rng.uniform(5, 49), rng.uniform(1, 20))), 4)
        if own.corporate_share.get(held, 0.0) + share > 95:
            continue
        add(holder, held, share)
    return own


# --- persons and roles ------------------------------------------------------------------------


def allocate_people(plan: Plan, seed: int, enterprises: Sequence[Enterprise]) -> np.ndarray:
    """How many of the city's persons belong to each enterprise (at least one each), weighted by
    size; returns the start offset of each enterprise's people (length n + 1)."""
    n = len(enterprises)
    if plan.persons < n:
        raise ValueError("a city needs at least as many persons as enterprises")
    gen = np.random.default_rng(sub_seed(seed, "people"))
    weight = {"micro": 0.55, "small": 1.3, "medium": 3.0, "large": 5.0}
    weights = np.array([weight[e.size_class] for e in enterprises])
    extra = gen.choice(n, size=plan.persons - n, p=weights / weights.sum())
    counts = 1 + np.bincount(extra, minlength=n)
    return np.concatenate(([0], np.cumsum(counts)))


def generate_roles(
    plan: Plan,
    seed: int,
    enterprises: Sequence[Enterprise],
    offsets: np.ndarray,
    ownership: Ownership,
    start: int,
    stop: int,
) -> list[tuple[int, int, str, str | None]]:
    """Roles of enterprises [start, stop): (person index, enterprise index, role, share % or None).

    Deterministic per block: the generator is seeded by the block start, so the caller may cut
    the enterprise range into blocks of any fixed size."""
    rng = sub_rng(seed, f"roles.{start}")
    rows: list[tuple[int, int, str, str | None]] = []
    for e in enterprises[start:stop]:
        i = e.index
        people = list(range(int(offsets[i]), int(offsets[i + 1])))
        k = len(people)
        head = people[0]
        group_parent = ownership.controlled_by.get(i)
        legal = int(offsets[group_parent]) if group_parent is not None else head
        rows.append((legal, i, "legal_representative", None))
        if group_parent is not None and k > 1:
            rows.append((head, i, "manager", None))
        # Shareholders share what corporate holders left.
        free = round(100.0 - ownership.corporate_share.get(i, 0.0), 4)
        if free > 0.5:
            holders = people[: min(k, rng.choice((1, 1, 1, 2, 2, 3)))]
            if len(holders) == 1:
                shares = [free]
            else:
                raw = [rng.gammavariate(2.0, 1.0) + 0.2 for _ in holders]
                total = sum(raw)
                shares = [round(free * r / total, 4) for r in raw[:-1]]
                shares.append(round(free - sum(shares), 4))
            for person, share in zip(holders, shares, strict=True):
                if share > 0:
                    rows.append((person, i, "shareholder", f"{share:.4f}"))
        if e.size_class in ("medium", "large") and k >= 3:
            directors = people[: min(k - 1, rng.randint(3, 5))]
        else:
            directors = [legal] if rng.random() < 0.45 else []  # 执行董事, often not filed
        rows.extend((d, i, "director", None) for d in directors)
        if k >= 2 and people[-1] not in directors:
            rows.append((people[-1], i, "supervisor", None))
        if group_parent is None and (k == 1 or e.size_class == "micro"):
            if rng.random() < 0.3:
                rows.append((head, i, "manager", None))
        elif group_parent is None:
            rows.append((people[1], i, "manager", None))
        finance_parent = ownership.shared_finance.get(i)
        if finance_parent is not None:
            parent_people = int(offsets[finance_parent + 1]) - int(offsets[finance_parent])
            finance = int(offsets[finance_parent]) + min(2, parent_people - 1)
            rows.append((finance, i, "finance_contact", None))
        elif rng.random() < 0.4:
            rows.append((people[min(2, k - 1)], i, "finance_contact", None))
        if rng.random() < 0.25:
            rows.append((people[min(1, k - 1)], i, "contact", None))
        # Everyone allocated to this enterprise appears in it: further directors on a board,
        # otherwise a registered contact.
        assigned = {row[0] for row in rows if row[1] == i}
        extra_role = "director" if e.size_class in ("medium", "large") else "contact"
        rows.extend((p, i, extra_role, None) for p in people if p not in assigned)
    # A person can hold one role kind once per enterprise (a controller may already be director).
    unique: dict[tuple[int, int, str], tuple[int, int, str, str | None]] = {}
    for row in rows:
        unique.setdefault(row[:3], row)
    return list(unique.values())


@dataclass(slots=True)
class Person:
    index: int
    name: str
    id_number: str
    phone: str
    email: str


def generate_persons(plan: Plan, seed: int, *, chunk: int = 20_000) -> Iterator[list[Person]]:
    """Persons in chunks, in index order. Identity numbers are valid (GB 11643 check character,
    real birth dates, sex in the sequence parity) and unique across the whole city."""
    rng = sub_rng(seed, "persons")
    surname_cum = _cumulative([w for _, w in names.SURNAMES])
    address_cum = _cumulative([w for _, w in names.ID_ADDRESS_CODES])
    seen: set[str] = set()
    day0 = dt.date(1956, 1, 1).toordinal()
    days = dt.date(2002, 12, 31).toordinal() - day0
    batch: list[Person] = []
    for index in range(plan.persons):
        male = rng.random() < 0.62
        surname = names.SURNAMES[bisect.bisect(surname_cum, rng.random() * surname_cum[-1])][0]
        pool = names.GIVEN_MALE if male else names.GIVEN_FEMALE
        given = rng.choice(pool) if rng.random() < 0.3 else rng.choice(pool) + rng.choice(pool)
        address = names.ID_ADDRESS_CODES[
            bisect.bisect(address_cum, rng.random() * address_cum[-1])
        ][0]
        while True:
            birth = dt.date.fromordinal(day0 + rng.randrange(days))
            sequence = rng.randrange(500) * 2 + (1 if male else 0)
            first17 = f"{address}{birth:%Y%m%d}{sequence:03d}"
            if first17 not in seen:
                seen.add(first17)
                break
        email = ""
        if rng.random() < 0.35:
            email = f"{rng.randrange(10**6, 10**10)}@{rng.choice(names.EMAIL_DOMAINS)}"
        batch.append(
            Person(index, surname + given, first17 + id_check_char(first17), _mobile(rng), email)
        )
        if len(batch) == chunk:
            yield batch
            batch = []
    if batch:
        yield batch


# --- monthly indicators -----------------------------------------------------------------------

_SIZE_CODE = {s: i for i, s in enumerate(SIZE_CLASSES)}
_REVENUE_MEDIAN = np.array([14.0, 110.0, 1100.0, 8000.0])  # 万元 per month
_EMPLOYEES_RANGE = np.array([[3, 19], [20, 299], [300, 999], [1000, 6000]])
_LAND_RANGE = np.array([[1.0, 6.0], [3.0, 25.0], [15.0, 80.0], [60.0, 450.0]])


@dataclass(frozen=True)
class IndicatorBlock:
    """What a worker needs to draw one block of enterprises' figures."""

    seed: int
    block: int
    enterprise_ids: np.ndarray
    size_codes: np.ndarray
    first_months: np.ndarray
    end_months: np.ndarray
    closing: np.ndarray  # bool: cancelled/revoked/suspended, figures fade before they stop


def indicator_blocks(
    seed: int, enterprises: Sequence[Enterprise], ids: Sequence[int], *, block_size: int = 1_000
) -> list[IndicatorBlock]:
    blocks = []
    for b, start in enumerate(range(0, len(enterprises), block_size)):
        part = enterprises[start : start + block_size]
        blocks.append(
            IndicatorBlock(
                seed=seed,
                block=b,
                enterprise_ids=np.array(ids[start : start + block_size], dtype=np.int64),
                size_codes=np.array([_SIZE_CODE[e.size_class] for e in part]),
                first_months=np.array([e.first_month for e in part]),
                end_months=np.array([e.end_month for e in part]),
                closing=np.array([e.status != STATUS_ACTIVE for e in part]),
            )
        )
    return blocks


INDICATOR_COLUMNS = (
    "enterprise_id",
    "month",
    "industrial_output",
    "revenue",
    "value_added",
    "tax_paid",
    "employees",
    "electricity_kwh",
    "energy_tce",
    "rnd_spend",
    "land_mu",
)


def indicator_arrays(block: IndicatorBlock, season: np.ndarray) -> dict[str, np.ndarray]:
    """Every figure of the block as (enterprises × months) arrays, plus ``present`` (bool)."""
    gen = np.random.default_rng(sub_seed(block.seed, f"indicators.{block.block}"))
    e, m = len(block.enterprise_ids), len(season)
    size = block.size_codes
    t = np.arange(m)[None, :]
    base = _REVENUE_MEDIAN[size] * gen.lognormal(0.0, 0.55, e)
    declining = gen.random(e) < 0.12
    growth = np.where(declining, gen.normal(-0.12, 0.07, e), gen.normal(0.07, 0.11, e))
    trend = (1.0 + growth[:, None]) ** (t / 12.0)
    since_start = t - block.first_months[:, None]
    # Firms set up inside the window ramp up over their first nine months.
    new_firm = (block.first_months > 0)[:, None]
    ramp = np.where(new_firm, np.clip(0.35 + since_start / 9.0, 0.35, 1.0), 1.0)
    until_end = block.end_months[:, None] - t
    fade = np.where(block.closing[:, None], np.clip(until_end / 10.0, 0.25, 1.0), 1.0)
    noise = gen.lognormal(0.0, 0.07, (e, m))
    revenue = base[:, None] * trend * season[None, :] * ramp * fade * noise
    output = revenue * gen.uniform(0.9, 1.08, e)[:, None] * gen.lognormal(0, 0.02, (e, m))
    value_added = output * gen.uniform(0.17, 0.32, e)[:, None]
    tax = revenue * gen.uniform(0.015, 0.06, e)[:, None] * gen.lognormal(0, 0.1, (e, m))
    low, high = _EMPLOYEES_RANGE[size, 0], _EMPLOYEES_RANGE[size, 1]
    staff = np.exp(gen.uniform(np.log(low), np.log(high)))
    staff_trend = (1.0 + growth[:, None] / 2) ** (t / 12.0)
    festival = np.where(season < 0.8, 0.93, 1.0)[None, :]
    employees = np.maximum(1, np.rint(staff[:, None] * staff_trend * festival * ramp))
    intensity = gen.lognormal(np.log(450.0), 0.6, e)  # kWh per 万元 of output
    electricity = output * intensity[:, None] * gen.lognormal(0, 0.05, (e, m))
    energy = electricity * 0.0001229 * (1.0 + gen.uniform(0.05, 0.45, e))[:, None]
    researches = gen.random(e) < np.array([0.25, 0.55, 0.8, 0.95])[size]
    rnd_ratio = np.where(researches, gen.lognormal(np.log(0.028), 0.5, e), 0.0)
    rnd = revenue * rnd_ratio[:, None]
    land_low, land_high = _LAND_RANGE[size, 0], _LAND_RANGE[size, 1]
    land = np.round(gen.uniform(land_low, land_high), 2)
    renter = (size == 0) & (gen.random(e) < 0.6)  # micro firms in rented floors report no land
    present = (t >= block.first_months[:, None]) & (t < block.end_months[:, None])
    return {
        "present": present,
        "industrial_output": output,
        "revenue": revenue,
        "value_added": value_added,
        "tax_paid": tax,
        "employees": employees.astype(np.int64),
        "electricity_kwh": electricity,
        "energy_tce": energy,
        "rnd_spend": rnd,
        "land_mu": np.where(renter, np.nan, land),
    }


def indicator_rows(
    block: IndicatorBlock, months: Sequence[dt.date], season: np.ndarray
) -> list[tuple]:
    """The block's rows as tuples in INDICATOR_COLUMNS order (strings for decimals)."""
    arrays = indicator_arrays(block, season)
    rows = []
    present = arrays["present"]
    for r, enterprise_id in enumerate(block.enterprise_ids.tolist()):
        land = arrays["land_mu"][r]
        land_text = None if np.isnan(land) else f"{land:.2f}"
        for c in np.flatnonzero(present[r]).tolist():
            rows.append(
                (
                    enterprise_id,
                    months[c],
                    f"{arrays['industrial_output'][r, c]:.2f}",
                    f"{arrays['revenue'][r, c]:.2f}",
                    f"{arrays['value_added'][r, c]:.2f}",
                    f"{arrays['tax_paid'][r, c]:.2f}",
                    int(arrays["employees"][r, c]),
                    f"{arrays['electricity_kwh'][r, c]:.2f}",
                    f"{arrays['energy_tce'][r, c]:.3f}",
                    f"{arrays['rnd_spend'][r, c]:.2f}",
                    land_text,
                )
            )
    return rows


def indicator_copy_text(
    block: IndicatorBlock, month_texts: Sequence[str], season: np.ndarray
) -> tuple[bytes, int]:
    """The block in PostgreSQL COPY text format (tab-separated, \\N for null) and its row count.

    Formatting is the hot loop at city scale (12 M rows), so it works column-wise: numpy rounds,
    ``tolist`` converts in C, and one %-format per row joins the fields."""
    arrays = indicator_arrays(block, season)
    present = arrays["present"]
    rows_idx, cols_idx = np.nonzero(present)
    if len(rows_idx) == 0:
        return b"", 0
    ids = block.enterprise_ids[rows_idx].tolist()
    month_col = [month_texts[c] for c in cols_idx.tolist()]

    def col(name: str) -> list[float]:
        return arrays[name][rows_idx, cols_idx].tolist()

    land_by_row = arrays["land_mu"][rows_idx]
    land_col = ["\\N" if np.isnan(v) else f"{v:.2f}" for v in land_by_row.tolist()]
    lines = [
        "%d\t%s\t%.2f\t%.2f\t%.2f\t%.2f\t%d\t%.2f\t%.3f\t%.2f\t%s\n" % values  # noqa: UP031 (fastest)
        for values in zip(
            ids,
            month_col,
            col("industrial_output"),
            col("revenue"),
            col("value_added"),
            col("tax_paid"),
            col("employees"),
            col("electricity_kwh"),
            col("energy_tce"),
            col("rnd_spend"),
            land_col,
            strict=True,
        )
    ]
    return "".join(lines).encode(), len(lines)
