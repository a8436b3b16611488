"""Reads of the registry, always scoped to the actor: city staff see the city, a town officer
their town, an enterprise user its own enterprise, partners and experts nothing. An object outside
the actor's scope is reported as not found, so its existence is never revealed."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.db.models import Count, Prefetch, Q, QuerySet

from qijia.core import identifiers
from qijia.core.errors import NotFound, PermissionDenied
from qijia.identity.permissions import allowed, require
from qijia.identity.roles import CITY_STAFF, Role

from .models import (
    Enterprise,
    Holding,
    ImportBatch,
    MonthlyIndicator,
    PersonRole,
    SizeClass,
)

MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 25


@dataclass(frozen=True)
class EnterpriseFilters:
    """What a list may be narrowed by. ``q`` matches part of the name or of the USCC."""

    q: str = ""
    town: int | None = None
    industry: str = ""
    size_class: str = ""
    status: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v not in ("", None)}


@dataclass
class Page:
    items: list[Any]
    number: int
    page_size: int
    count: int
    num_pages: int = field(init=False)

    def __post_init__(self) -> None:
        self.num_pages = max(1, math.ceil(self.count / self.page_size)) if self.page_size else 1

    @property
    def has_next(self) -> bool:
        return self.number < self.num_pages

    @property
    def has_previous(self) -> bool:
        return self.number > 1


def _is_active_user(actor: Any) -> bool:
    return bool(getattr(actor, "is_authenticated", False) and actor.is_active)


def visible_enterprises(actor: Any) -> QuerySet[Enterprise]:
    """The enterprises ``actor`` may read at all (the base of every registry read)."""
    qs = Enterprise.objects.all()
    if not _is_active_user(actor):
        return qs.none()
    if actor.role in CITY_STAFF:
        return qs
    if actor.role == Role.TOWN and actor.org_unit_id:
        return qs.filter(town_id=actor.org_unit_id)
    if actor.role == Role.ENTERPRISE and actor.enterprise_id:
        return qs.filter(pk=actor.enterprise_id)
    return qs.none()


def enterprise_list(
    *, actor: Any, filters: EnterpriseFilters | None = None
) -> QuerySet[Enterprise]:
    """The actor's enterprises narrowed by ``filters``, ordered by name, with town and industry
    loaded. Partners and experts may not search the registry at all."""
    if not _is_active_user(actor) or actor.role not in (*CITY_STAFF, Role.TOWN, Role.ENTERPRISE):
        raise PermissionDenied("您的角色不能检索企业库", code="permission_denied")
    filters = filters or EnterpriseFilters()
    qs = (
        visible_enterprises(actor)
        .select_related("town", "industry")
        .prefetch_related(enterprise_prefetch_roles())
    )
    q = (filters.q or "").strip()
    if q:
        qs = qs.filter(search_condition(q))
    if filters.town:
        qs = qs.filter(town_id=filters.town)
    if filters.industry:
        qs = qs.filter(industry_id=filters.industry)
    if filters.size_class:
        qs = qs.filter(size_class=filters.size_class)
    if filters.status:
        qs = qs.filter(status=filters.status)
    return qs.order_by("name", "id")


_HAS_LATIN = re.compile(r"[A-Za-z]")
_CODE_FRAGMENT = re.compile(r"[0-9A-Za-z]*\d[0-9A-Za-z]*")


def search_condition(q: str) -> Q:
    """Partial match on name or USCC, shaped so PostgreSQL's trigram indexes serve it.

    A complete valid USCC is an exact lookup. Text with Latin letters matches the name without
    regard to case (``icontains``, served by the UPPER(name) trigram index); other text (Chinese
    has no case) uses plain ``contains`` on the name, served by the plain trigram index. A run of
    letters and digits with at least one digit may be part of a USCC, which is stored upper case.
    """
    text = q.strip()
    upper = text.upper()
    if len(upper) == 18 and identifiers.is_valid_uscc(upper):
        return Q(uscc=upper)
    by_name = Q(name__icontains=text) if _HAS_LATIN.search(text) else Q(name__contains=text)
    if _CODE_FRAGMENT.fullmatch(text):
        return by_name | Q(uscc__contains=upper)
    return by_name


def paginate(qs: QuerySet, *, page: int = 1, page_size: int = DEFAULT_PAGE_SIZE) -> Page:
    page_size = max(1, min(int(page_size or DEFAULT_PAGE_SIZE), MAX_PAGE_SIZE))
    count = qs.count()
    num_pages = max(1, math.ceil(count / page_size))
    number = min(max(1, int(page or 1)), num_pages)
    start = (number - 1) * page_size
    return Page(
        items=list(qs[start : start + page_size]), number=number, page_size=page_size, count=count
    )


def enterprise_get(*, actor: Any, uscc: str) -> Enterprise:
    """One enterprise by USCC if the actor may see it; NotFound otherwise (never 403: that would
    confirm the enterprise exists)."""
    code = (uscc or "").strip().upper()
    enterprise = (
        visible_enterprises(actor).select_related("town", "industry").filter(uscc=code).first()
    )
    if enterprise is None:
        raise NotFound("企业不存在或您无权查看", code="enterprise_not_found")
    return enterprise


@dataclass
class EnterpriseDetail:
    enterprise: Enterprise
    roles: list[PersonRole]
    holdings: list[Holding]  # enterprises this one holds
    held_by: list[Holding]  # enterprises holding this one
    indicators: list[MonthlyIndicator]
    visible_ids: set[int]  # counterparties the actor may open
    can_reveal: bool
    can_change: bool


def enterprise_detail(*, actor: Any, uscc: str, months: int = 60) -> EnterpriseDetail:
    """Everything the enterprise page shows, in a fixed number of queries."""
    enterprise = enterprise_get(actor=actor, uscc=uscc)
    roles = list(
        PersonRole.objects.filter(enterprise=enterprise)
        .select_related("person")
        .order_by("role", "person__name", "id")
    )
    holdings = list(
        Holding.objects.filter(holder=enterprise)
        .select_related("held__town")
        .order_by("-share_pct", "held__name")
    )
    held_by = list(
        Holding.objects.filter(held=enterprise)
        .select_related("holder__town")
        .order_by("-share_pct", "holder__name")
    )
    indicators = list(
        MonthlyIndicator.objects.filter(enterprise=enterprise).order_by("-month")[:months]
    )
    indicators.reverse()
    other_ids = {h.held_id for h in holdings} | {h.holder_id for h in held_by}
    visible_ids = (
        set(visible_enterprises(actor).filter(pk__in=other_ids).values_list("pk", flat=True))
        if other_ids
        else set()
    )
    return EnterpriseDetail(
        enterprise=enterprise,
        roles=roles,
        holdings=holdings,
        held_by=held_by,
        indicators=indicators,
        visible_ids=visible_ids,
        can_reveal=allowed(actor, "enterprises.reveal_id_number"),
        can_change=allowed(actor, "enterprises.change_enterprise"),
    )


def person_role_get(*, actor: Any, pk: int) -> PersonRole:
    """A person's role in an enterprise the actor can see (the route to reveal an ID number)."""
    role = (
        PersonRole.objects.select_related("person", "enterprise")
        .filter(pk=pk, enterprise__in=visible_enterprises(actor))
        .first()
    )
    if role is None:
        raise NotFound("人员不存在或您无权查看", code="person_not_found")
    return role


def enterprise_counts(*, actor: Any) -> dict[str, Any]:
    """Counts by town and by size class within the actor's scope, for the home panels. Cached for
    a minute: at city scale it is a group-by over 200,000 rows on every home page."""
    scope = (
        "city"
        if actor.role in CITY_STAFF
        else f"town-{actor.org_unit_id}"
        if actor.role == Role.TOWN
        else None
    )
    if scope is None:
        raise PermissionDenied("您的角色不能检索企业库", code="permission_denied")
    key = f"enterprises:counts:{scope}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    qs = visible_enterprises(actor)
    by_size_raw = dict(qs.values_list("size_class").annotate(n=Count("id")).order_by())
    by_size = [
        {"size_class": value, "label": label, "count": by_size_raw.get(value, 0)}
        for value, label in SizeClass.choices
    ]
    unknown = by_size_raw.get("", 0)
    if unknown:
        by_size.append({"size_class": "", "label": "未填", "count": unknown})
    by_town = list(
        qs.values("town_id", "town__name").annotate(count=Count("id")).order_by("-count")
    )
    result = {
        "total": sum(by_size_raw.values()),
        "by_size": [dict(row, label=str(row["label"])) for row in by_size],
        "by_town": [
            {"town_id": r["town_id"], "town": r["town__name"], "count": r["count"]} for r in by_town
        ],
    }
    cache.set(key, result, 60)
    return result


def import_batch_list(*, actor: Any, limit: int = 20) -> list[ImportBatch]:
    require(actor, "enterprises.import")
    return list(
        ImportBatch.objects.select_related("uploaded_by").order_by("-created_at", "-id")[:limit]
    )


def import_batch_get(*, actor: Any, pk: int) -> ImportBatch:
    require(actor, "enterprises.import")
    batch = ImportBatch.objects.select_related("uploaded_by").filter(pk=pk).first()
    if batch is None:
        raise NotFound("导入批次不存在", code="import_batch_not_found")
    return batch


def enterprise_prefetch_roles() -> Prefetch:
    """For lists that show the legal representative next to each enterprise."""
    return Prefetch(
        "person_roles",
        queryset=PersonRole.objects.filter(role="legal_representative").select_related("person"),
        to_attr="legal_representatives",
    )


@dataclass
class PersonLookup:
    person: Any
    roles: list[PersonRole]
    visible_ids: set[int]


def person_lookup(*, actor: Any, id_number: str) -> PersonLookup | None:
    """Find a person by full identity number (matched through the keyed hash) with every role they
    hold. Who someone is across enterprises is sensitive: only the roles that may read identity
    numbers may ask, and each lookup is an audited read (hit or miss)."""
    from django.db import transaction

    from qijia.audit.services import audit_read
    from qijia.core import pii
    from qijia.core.errors import ValidationFailed

    from .models import Person

    require(actor, "enterprises.reveal_id_number")
    try:
        number = identifiers.validate_id_number(id_number)
    except identifiers.IdentifierError as exc:
        raise ValidationFailed(
            exc.message, code=exc.code, fields={"id_number": exc.message}
        ) from None
    person = Person.objects.filter(id_number_hash=pii.match_hash(number)).first()
    with transaction.atomic():
        audit_read(
            actor=actor,
            action="enterprises.person.lookup",
            obj=person,
            object_type="enterprises.person",
            object_repr=str(person) if person else "未找到",
            detail={"id_number_masked": identifiers.mask_id_number(number), "found": bool(person)},
        )
    if person is None:
        return None
    roles = list(
        PersonRole.objects.filter(person=person)
        .select_related("enterprise__town")
        .order_by("enterprise__name", "role")
    )
    ids = {r.enterprise_id for r in roles}
    visible = set(visible_enterprises(actor).filter(pk__in=ids).values_list("pk", flat=True))
    return PersonLookup(person=person, roles=roles, visible_ids=visible)
