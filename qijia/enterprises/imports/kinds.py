"""What each kind of import does with clean rows: find the records they name by natural key,
decide create / update / unchanged, and report every reference that does not resolve.

Natural keys (the upsert keys, so importing the same file twice changes nothing):
enterprise by USCC; person by identity number (matched through its keyed hash); role by (person's
identity number, USCC, role); holding by (holder USCC, held USCC); indicator by (USCC, month).
A column that is absent from the file leaves that field of existing records untouched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from qijia.audit.services import Entry
from qijia.core import pii

from .. import validation as v
from ..models import Enterprise, Holding, ImportKind, MonthlyIndicator, Person, PersonRole
from ..services import (
    ENTERPRISE_AUDIT_FIELDS,
    INDICATOR_FIELDS,
    PERSON_AUDIT_FIELDS,
    id_number_fields,
)
from .reading import RowError

CHUNK = 5000
AUDIT_GROUP = 500


@dataclass
class CleanRow:
    line: int
    values: dict[str, Any]  # the cells that passed their rules, cleaned
    cells: dict[str, str]  # cell address by column key
    raw: dict[str, Any]


class ErrorSink:
    """Collects RowErrors naming row, cell, column header, value and reason."""

    def __init__(self, columns: Iterable[v.Column]):
        self.labels = {c.key: c.label for c in columns}
        self.errors: list[RowError] = []
        self.bad_lines: set[int] = set()

    def add(self, row: CleanRow, key: str, message: str) -> None:
        raw = row.raw.get(key)
        self.errors.append(
            RowError(
                row.line,
                self.labels.get(key, key),
                row.cells.get(key, ""),
                "" if raw is None else str(raw),
                message,
            )
        )
        self.bad_lines.add(row.line)

    def extend(self, errors: Iterable[RowError]) -> None:
        for error in errors:
            self.errors.append(error)
            if error.line is not None:
                self.bad_lines.add(error.line)


@dataclass
class Plan:
    # Typed loosely on purpose: one Plan type serves five models.
    model: Any
    creates: list[Any] = field(default_factory=list)
    updates: list[tuple[Any, dict[str, Any], dict[str, Any]]] = field(default_factory=list)
    unchanged: int = 0
    entity: str = ""
    describe: Callable[[Any], dict[str, Any]] = lambda obj: {}
    label: Callable[[Any], str] = str

    def change(self, obj: Any, values: dict[str, Any]) -> None:
        """An existing record: an update when ``values`` differ from it, else unchanged."""
        before, after = _diff(obj, values)
        if after:
            self.updates.append((obj, before, after))
        else:
            self.unchanged += 1

    def apply(self, *, batch_id: int) -> list[Entry]:
        """Write the plan (bulk) and return the audit entries for it; caller holds the
        transaction."""
        self.model.objects.bulk_create(self.creates, batch_size=1000)
        now = timezone.now()
        changed_fields: set[str] = set()
        has_updated_at = any(f.name == "updated_at" for f in self.model._meta.concrete_fields)
        for obj, _, after in self.updates:
            changed_fields.update(after)
            if has_updated_at:
                obj.updated_at = now
        if self.updates:
            fields = sorted(changed_fields | ({"updated_at"} if has_updated_at else set()))
            self.model.objects.bulk_update([u[0] for u in self.updates], fields, batch_size=1000)
        # Created records go into the trail in groups (every record with all its values, under one
        # chained row per AUDIT_GROUP): one row each made a 60,000-row file spend most of its time
        # writing audit rows. Updates keep one row each, since each has its own before/after.
        label = self.model._meta.label_lower
        entries = [
            Entry(
                action=f"enterprises.{self.entity}.import_create",
                object_type=label,
                object_id=str(batch_id),
                object_repr=f"导入批次{batch_id}：新增{len(group)}条",
                after={
                    "import_batch": batch_id,
                    "records": [{"id": obj.pk, **self.describe(obj)} for obj in group],
                },
            )
            for group in _chunks(self.creates, AUDIT_GROUP)
        ]
        entries += [
            Entry(
                action=f"enterprises.{self.entity}.update",
                obj=obj,
                object_repr=self.label(obj),
                before=before,
                after={**after, "import_batch": batch_id},
            )
            for obj, before, after in self.updates
        ]
        return entries


def _chunks(values: list[Any], size: int = CHUNK) -> Iterable[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _locked(model: Any, key: str, values: Iterable[Any]) -> dict[Any, Any]:
    """Existing rows by ``key``, locked for this transaction (an import never races an edit)."""
    found: dict[Any, Any] = {}
    for chunk in _chunks(sorted(set(values))):
        for obj in model.objects.select_for_update().filter(**{f"{key}__in": chunk}).order_by("pk"):
            found[getattr(obj, key)] = obj
    return found


def _enterprise_ids(usccs: Iterable[str]) -> dict[str, int]:
    ids: dict[str, int] = {}
    for chunk in _chunks(sorted(set(usccs))):
        ids.update(Enterprise.objects.filter(uscc__in=chunk).values_list("uscc", "pk"))
    return ids


def _first_seen(
    rows: list[CleanRow],
    sink: ErrorSink,
    key_of: Callable[[CleanRow], Any],
    key_column: str,
    what: str,
) -> None:
    seen: dict[Any, int] = {}
    for row in rows:
        key = key_of(row)
        if key is None:
            continue
        if key in seen:
            sink.add(row, key_column, f"与第{seen[key]}行{what}重复")
        else:
            seen[key] = row.line


def _diff(obj: Any, values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for name, value in values.items():
        current = getattr(obj, name)
        if current != value:
            before[name], after[name] = current, value
            setattr(obj, name, value)
    return before, after


def _defaults(columns: Iterable[v.Column], present: set[str]) -> dict[str, Any]:
    return {c.key: c.empty for c in columns if c.key not in present}


def _attr_values(values: dict[str, Any]) -> dict[str, Any]:
    out = dict(values)
    if "town" in out:
        out["town_id"] = out.pop("town")
    if "industry" in out:
        out["industry_id"] = out.pop("industry")
    return out


# --- enterprises -------------------------------------------------------------------------------


def plan_enterprises(rows: list[CleanRow], present: set[str], sink: ErrorSink) -> Plan:
    _first_seen(rows, sink, lambda r: r.values.get("uscc"), "uscc", "的统一社会信用代码")
    existing = _locked(Enterprise, "uscc", (r.values["uscc"] for r in rows if "uscc" in r.values))
    plan = Plan(
        Enterprise,
        entity="enterprise",
        describe=lambda e: {f: getattr(e, f) for f in ENTERPRISE_AUDIT_FIELDS},
    )
    defaults = _defaults(v.ENTERPRISE_COLUMNS, present)
    for row in rows:
        if row.line in sink.bad_lines:
            continue
        values = _attr_values(row.values)
        obj = existing.get(values["uscc"])
        if obj is None:
            plan.creates.append(Enterprise(**_attr_values(defaults), **values))
            continue
        values.pop("uscc")
        plan.change(obj, values)
    return plan


# --- persons -----------------------------------------------------------------------------------


def plan_persons(rows: list[CleanRow], present: set[str], sink: ErrorSink) -> Plan:
    _first_seen(rows, sink, lambda r: r.values.get("id_number"), "id_number", "的身份证号码")
    hashes = {
        r.line: pii.match_hash(r.values["id_number"]) for r in rows if "id_number" in r.values
    }
    existing = _locked(Person, "id_number_hash", hashes.values())
    plan = Plan(
        Person,
        entity="person",
        describe=lambda p: {f: getattr(p, f) for f in PERSON_AUDIT_FIELDS},
    )
    defaults = _defaults(v.PERSON_COLUMNS, present)
    for row in rows:
        if row.line in sink.bad_lines:
            continue
        values = dict(row.values)
        number = values.pop("id_number")
        obj = existing.get(hashes[row.line])
        if obj is None:
            plan.creates.append(Person(**defaults, **values, **id_number_fields(number)))
            continue
        plan.change(obj, values)
    return plan


# --- roles -------------------------------------------------------------------------------------


def plan_roles(rows: list[CleanRow], present: set[str], sink: ErrorSink) -> Plan:
    hashes = {
        r.line: pii.match_hash(r.values["id_number"]) for r in rows if "id_number" in r.values
    }
    person_ids: dict[str | None, int] = {}
    for chunk in _chunks(sorted(set(hashes.values()))):
        person_ids.update(
            Person.objects.filter(id_number_hash__in=chunk).values_list("id_number_hash", "pk")
        )
    enterprise_ids = _enterprise_ids(r.values["uscc"] for r in rows if "uscc" in r.values)
    resolved: dict[int, tuple[int, int, str]] = {}
    for row in rows:
        person_id = enterprise_id = None
        if row.line in hashes:
            person_id = person_ids.get(hashes[row.line])
            if person_id is None:
                sink.add(row, "id_number", "该身份证号码的人员尚未登记，请先导入自然人")
        if "uscc" in row.values:
            enterprise_id = enterprise_ids.get(row.values["uscc"])
            if enterprise_id is None:
                sink.add(row, "uscc", "该统一社会信用代码的企业尚未登记，请先导入企业")
        if "role" in row.values:
            problem = v.share_rule(row.values.get("role"), row.values.get("share_pct"))
            if problem:
                sink.add(row, "share_pct", problem)
        if person_id and enterprise_id and "role" in row.values:
            resolved[row.line] = (person_id, enterprise_id, row.values["role"])
    _first_seen(rows, sink, lambda r: resolved.get(r.line), "role", "的同一人员、企业、职务")
    existing: dict[tuple[int, int, str], PersonRole] = {}
    pids = sorted({k[0] for k in resolved.values()})
    eids = sorted({k[1] for k in resolved.values()})
    for chunk in _chunks(pids):
        for role in (
            PersonRole.objects.select_for_update()
            .filter(person_id__in=chunk, enterprise_id__in=eids)
            .order_by("pk")
        ):
            existing[(role.person_id, role.enterprise_id, role.role)] = role
    plan = Plan(
        PersonRole,
        entity="person_role",
        describe=lambda r: {
            "person": r.person_id,
            "enterprise": r.enterprise_id,
            "role": r.role,
            "share_pct": r.share_pct,
        },
        label=lambda r: f"{r.person_id}·{r.enterprise_id}·{r.role}",
    )
    for row in rows:
        if row.line in sink.bad_lines:
            continue
        key = resolved[row.line]
        obj = existing.get(key)
        if obj is None:
            plan.creates.append(
                PersonRole(
                    person_id=key[0],
                    enterprise_id=key[1],
                    role=key[2],
                    share_pct=row.values.get("share_pct"),
                )
            )
            continue
        updates = {"share_pct": row.values["share_pct"]} if "share_pct" in present else {}
        plan.change(obj, updates)
    return plan


# --- holdings ----------------------------------------------------------------------------------


def plan_holdings(rows: list[CleanRow], present: set[str], sink: ErrorSink) -> Plan:
    ids = _enterprise_ids(
        [r.values[k] for r in rows for k in ("holder_uscc", "held_uscc") if k in r.values]
    )
    resolved: dict[int, tuple[int, int]] = {}
    for row in rows:
        holder = held = None
        for key in ("holder_uscc", "held_uscc"):
            if key in row.values:
                pk = ids.get(row.values[key])
                if pk is None:
                    sink.add(row, key, "该统一社会信用代码的企业尚未登记，请先导入企业")
                elif key == "holder_uscc":
                    holder = pk
                else:
                    held = pk
        if holder and held:
            if holder == held:
                sink.add(row, "held_uscc", "企业不能持有自身股份")
            else:
                resolved[row.line] = (holder, held)
    _first_seen(rows, sink, lambda r: resolved.get(r.line), "held_uscc", "的同一持股关系")
    existing: dict[tuple[int, int], Holding] = {}
    holders = sorted({k[0] for k in resolved.values()})
    helds = sorted({k[1] for k in resolved.values()})
    for chunk in _chunks(holders):
        for holding in (
            Holding.objects.select_for_update()
            .filter(holder_id__in=chunk, held_id__in=helds)
            .order_by("pk")
        ):
            existing[(holding.holder_id, holding.held_id)] = holding
    plan = Plan(
        Holding,
        entity="holding",
        describe=lambda h: {"holder": h.holder_id, "held": h.held_id, "share_pct": h.share_pct},
        label=lambda h: f"{h.holder_id}→{h.held_id}",
    )
    for row in rows:
        if row.line in sink.bad_lines:
            continue
        holder, held = resolved[row.line]
        obj = existing.get((holder, held))
        if obj is None:
            plan.creates.append(
                Holding(holder_id=holder, held_id=held, share_pct=row.values["share_pct"])
            )
            continue
        plan.change(obj, {"share_pct": row.values["share_pct"]})
    return plan


# --- monthly indicators ------------------------------------------------------------------------


def plan_indicators(rows: list[CleanRow], present: set[str], sink: ErrorSink) -> Plan:
    ids = _enterprise_ids(r.values["uscc"] for r in rows if "uscc" in r.values)
    resolved: dict[int, tuple[int, Any]] = {}
    for row in rows:
        if "uscc" in row.values:
            pk = ids.get(row.values["uscc"])
            if pk is None:
                sink.add(row, "uscc", "该统一社会信用代码的企业尚未登记，请先导入企业")
            elif "month" in row.values:
                resolved[row.line] = (pk, row.values["month"])
    _first_seen(rows, sink, lambda r: resolved.get(r.line), "month", "的同一企业同一月份")
    existing: dict[tuple[int, Any], MonthlyIndicator] = {}
    eids = sorted({k[0] for k in resolved.values()})
    months = sorted({k[1] for k in resolved.values()})
    for chunk in _chunks(eids):
        for indicator in (
            MonthlyIndicator.objects.select_for_update()
            .filter(enterprise_id__in=chunk, month__in=months)
            .order_by("pk")
        ):
            existing[(indicator.enterprise_id, indicator.month)] = indicator
    measures = [c.key for c in v.INDICATOR_MEASURES if c.key in present]
    plan = Plan(
        MonthlyIndicator,
        entity="indicator",
        describe=lambda m: (
            {"enterprise": m.enterprise_id, "month": m.month}
            | {f: getattr(m, f) for f in INDICATOR_FIELDS}
        ),
        label=lambda m: f"{m.enterprise_id} {m.month:%Y-%m}",
    )
    for row in rows:
        if row.line in sink.bad_lines:
            continue
        enterprise_id, month = resolved[row.line]
        values = {k: row.values[k] for k in measures}
        obj = existing.get((enterprise_id, month))
        if obj is None:
            plan.creates.append(
                MonthlyIndicator(enterprise_id=enterprise_id, month=month, **values)
            )
            continue
        plan.change(obj, values)
    return plan


@dataclass(frozen=True)
class KindSpec:
    kind: str
    columns: tuple[v.Column, ...]
    plan: Callable[[list[CleanRow], set[str], ErrorSink], Plan]
    sheet_names: tuple[str, ...]


KINDS: dict[str, KindSpec] = {
    ImportKind.ENTERPRISES: KindSpec(
        ImportKind.ENTERPRISES, v.ENTERPRISE_COLUMNS, plan_enterprises, ("企业", "enterprises")
    ),
    ImportKind.PERSONS: KindSpec(
        ImportKind.PERSONS, v.PERSON_COLUMNS, plan_persons, ("自然人", "persons")
    ),
    ImportKind.ROLES: KindSpec(ImportKind.ROLES, v.ROLE_COLUMNS, plan_roles, ("人员职务", "roles")),
    ImportKind.HOLDINGS: KindSpec(
        ImportKind.HOLDINGS, v.HOLDING_COLUMNS, plan_holdings, ("企业持股", "holdings")
    ),
    ImportKind.INDICATORS: KindSpec(
        ImportKind.INDICATORS, v.INDICATOR_COLUMNS, plan_indicators, ("月度指标", "indicators")
    ),
}
