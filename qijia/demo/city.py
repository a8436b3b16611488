"""The foundation seed steps: the bureau's org units, then the enterprise registry.

Generation is in ``generator`` (pure, deterministic); this module maps it onto the models and
the loader. One audit event per step records what the seed wrote (the rows themselves are
bulk-loaded, which is the point of a seed; a per-row audit trail of 12 M generated figures would
say nothing the summary does not).
"""

from __future__ import annotations

import functools
from collections import Counter
from typing import Any

import numpy as np
from django.utils import timezone

from qijia.audit.services import audit_record
from qijia.core.errors import ValidationFailed
from qijia.core.reference import load_reference
from qijia.enterprises.models import (
    Enterprise,
    Holding,
    Industry,
    MonthlyIndicator,
    Person,
    PersonRole,
)
from qijia.identity.models import OrgUnit
from qijia.identity.roles import TOWN_KINDS

from . import generator, loader
from .orgs import BUREAU_UNITS
from .steps import SeedContext, register_step

ENTERPRISE_FIELDS = (
    "id", "uscc", "name", "town_id", "industry_id", "address", "phone", "email",
    "established_on", "size_class", "status", "created_at", "updated_at",
)  # fmt: skip
PERSON_FIELDS = (
    "id", "name", "id_number_hash", "id_number_encrypted", "id_number_masked", "phone", "email",
    "created_at", "updated_at",
)  # fmt: skip
HOLDING_FIELDS = ("holder_id", "held_id", "share_pct", "created_at", "updated_at")
ROLE_FIELDS = ("person_id", "enterprise_id", "role", "share_pct", "created_at", "updated_at")
ROLE_BLOCK = 5_000


def seed_org_units(ctx: SeedContext) -> None:
    """Towns and industries (reference data, idempotent) and the bureau's own units."""
    reference = load_reference()
    created = []
    for unit in BUREAU_UNITS:
        if OrgUnit.objects.filter(code=unit.code).exists():
            continue
        if OrgUnit.objects.filter(name=unit.name).exists():
            continue  # configured by hand under another code: leave it alone
        parent = OrgUnit.objects.get(code=unit.parent) if unit.parent else None
        created.append(
            OrgUnit.objects.create(code=unit.code, name=unit.name, kind=unit.kind, parent=parent)
        )
    audit_record(
        actor=None,
        action="demo.seed_org_units",
        object_type="identity.orgunit",
        object_repr="机构设置（局领导、科室、纪检监察组、协作部门）",
        after={"reference": reference, "created": [u.code for u in created]},
    )
    ctx.log(f"  参考数据 {reference}；新建机构 {len(created)} 个")


def _person_rows(chunk: list[generator.Person], *, base: int, now: Any) -> list[tuple]:
    protected = loader.protect_id_numbers([p.id_number for p in chunk])
    return [
        (base + p.index, p.name, h, enc, masked, p.phone, p.email, now, now)
        for p, (h, enc, masked) in zip(chunk, protected, strict=True)
    ]


def _indicator_text(
    block: generator.IndicatorBlock, *, month_texts: list[str], season: np.ndarray
) -> tuple[bytes, int]:
    return generator.indicator_copy_text(block, month_texts, season)


def seed_registry(ctx: SeedContext) -> None:
    """Enterprises, persons, holdings, roles and five years of monthly indicators."""
    plan: generator.Plan = ctx.shared.get("plan") or generator.PLANS[ctx.scale]
    assert ctx.end_month is not None
    months = generator.month_list(ctx.end_month, plan.months)
    towns = list(
        OrgUnit.objects.filter(kind__in=TOWN_KINDS).order_by("code").values_list("id", "name")
    )
    industries = list(Industry.objects.order_by("code").values_list("code", flat=True))
    if not towns or not industries:
        raise ValidationFailed(
            "缺少镇街或行业参考数据，请先运行 manage.py load_reference", code="seed_reference"
        )
    workers = loader.worker_count(ctx.workers) if ctx.is_city else 0
    now = timezone.now()

    # Constraints and indexes are rebuilt once after the load (PostgreSQL).
    with loader.bulk_load(Enterprise, Person, Holding, PersonRole, MonthlyIndicator):
        ctx.log(f"  生成企业 {plan.enterprises:,} 家（{months[0]:%Y-%m} 至 {months[-1]:%Y-%m}）")
        enterprises = generator.generate_enterprises(plan, ctx.seed, towns, industries, months)
        ent_base = loader.next_id(Enterprise)
        ent_ids = [ent_base + e.index for e in enterprises]
        bar = ctx.bar(total=len(enterprises), desc="企业")
        loader.copy_rows(
            Enterprise,
            ENTERPRISE_FIELDS,
            _tick(
                bar,
                (
                    (ent_base + e.index, e.uscc, e.name, e.town_id, e.industry, e.address, e.phone,
                     e.email, e.established_on, e.size_class, e.status, now, now)
                    for e in enterprises
                ),
            ),
        )  # fmt: skip
        bar.close()

        person_base = loader.next_id(Person)
        bar = ctx.bar(total=plan.persons, desc="自然人")
        person_chunks = loader.parallel_map(
            functools.partial(_person_rows, base=person_base, now=now),
            generator.generate_persons(plan, ctx.seed, chunk=ctx.pick(demo=200, city=10_000)),
            workers=workers,
        )
        persons = loader.copy_rows(Person, PERSON_FIELDS, _tick_chunks(bar, person_chunks))
        bar.close()

        ownership = generator.generate_ownership(plan, ctx.seed, enterprises)
        bar = ctx.bar(total=len(ownership.holdings), desc="企业持股")
        holdings = loader.copy_rows(
            Holding,
            HOLDING_FIELDS,
            _tick(
                bar,
                ((ent_ids[a], ent_ids[b], share, now, now) for a, b, share in ownership.holdings),
            ),
        )
        bar.close()

        offsets = generator.allocate_people(plan, ctx.seed, enterprises)
        bar = ctx.bar(total=len(enterprises), desc="人员职务（按企业）")
        role_kinds: Counter[str] = Counter()

        def role_rows():
            for start in range(0, len(enterprises), ROLE_BLOCK):
                stop = min(start + ROLE_BLOCK, len(enterprises))
                for person, ent, role, share in generator.generate_roles(
                    plan, ctx.seed, enterprises, offsets, ownership, start, stop
                ):
                    role_kinds[role] += 1
                    yield (person_base + person, ent_ids[ent], role, share, now, now)
                bar.update(stop - start)

        roles = loader.copy_rows(PersonRole, ROLE_FIELDS, role_rows())
        bar.close()

        blocks = generator.indicator_blocks(ctx.seed, enterprises, ent_ids)
        season = generator.seasonality(months)
        expected = sum(int(e.end_month - e.first_month) for e in enterprises)
        bar = ctx.bar(total=expected, desc="月度指标")
        if ctx.is_postgres:
            texts = loader.parallel_map(
                functools.partial(
                    _indicator_text, month_texts=[m.isoformat() for m in months], season=season
                ),
                blocks,
                workers=workers,
            )

            written = [0]

            def chunks():
                for text, count in texts:
                    bar.update(count)
                    written[0] += count
                    yield text

            loader.copy_text(MonthlyIndicator, generator.INDICATOR_COLUMNS, chunks())
            indicators = written[0]
        else:

            def rows():
                for block in blocks:
                    block_rows = generator.indicator_rows(block, months, season)
                    bar.update(len(block_rows))
                    yield from block_rows

            indicators = loader.copy_rows(MonthlyIndicator, generator.INDICATOR_COLUMNS, rows())
        bar.close()
    loader.reset_sequences(Enterprise, Person, Holding, PersonRole, MonthlyIndicator)

    counts = {
        "enterprises": len(enterprises),
        "persons": persons,
        "person_roles": roles,
        "holdings": holdings,
        "indicators": indicators,
        "groups": len(ownership.groups),
    }
    ctx.shared["demo.registry"] = {
        "counts": counts,
        "months": (months[0], months[-1]),
        "enterprise_ids": (ent_ids[0], ent_ids[-1]) if ent_ids else None,
        # Each group: parent enterprise id first, then its subsidiaries.
        "groups": [[ent_ids[p], *(ent_ids[m] for m in ms)] for p, ms in ownership.groups],
        "role_kinds": dict(role_kinds),
    }
    audit_record(
        actor=None,
        action="demo.seed_registry",
        object_type="enterprises.enterprise",
        object_repr=f"演示城市数据（{ctx.scale}，种子 {ctx.seed}）",
        after={"seed": ctx.seed, "scale": ctx.scale, **counts},
    )
    ctx.log(
        "  企业 {enterprises:,}，自然人 {persons:,}，人员职务 {person_roles:,}，"
        "企业持股 {holdings:,}，月度指标 {indicators:,}，关联集团 {groups:,}".format(**counts)
    )


def _tick(bar: Any, rows: Any) -> Any:
    for row in rows:
        bar.update(1)
        yield row


def _tick_chunks(bar: Any, chunks: Any) -> Any:
    for chunk in chunks:
        bar.update(len(chunk))
        yield from chunk


register_step("demo.org_units", seed_org_units, order=10)
register_step("demo.registry", seed_registry, order=100)
