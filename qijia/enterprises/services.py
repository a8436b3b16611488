"""Every write to the registry. Each service checks the actor's permission, runs in one
transaction, locks the rows it changes and appends the audit event in that same transaction, so a
change without its audit row cannot exist. The importer (imports/) writes in bulk but through the
same rules (validation.py) and the same audit trail."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction

from qijia.audit.services import audit_read, audit_record
from qijia.core import identifiers, pii
from qijia.core.errors import Conflict, NotFound, ValidationFailed
from qijia.identity.permissions import require

from . import validation as v
from .models import Enterprise, Holding, MonthlyIndicator, Person, PersonRole

CHANGE = "enterprises.change_enterprise"

ENTERPRISE_AUDIT_FIELDS = (
    "uscc",
    "name",
    "town_id",
    "industry_id",
    "address",
    "phone",
    "email",
    "established_on",
    "size_class",
    "status",
)
#: Never the hash or the ciphertext of the identity number: the audit trail is read by inspectors
#: and must not become a second copy of the personal data.
PERSON_AUDIT_FIELDS = ("name", "id_number_masked", "phone", "email")
INDICATOR_FIELDS = tuple(c.key for c in v.INDICATOR_MEASURES)


def snapshot(obj: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in fields}


def _model_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """Column keys → model attribute names (foreign keys by id)."""
    out = dict(values)
    if "town" in out:
        out["town_id"] = out.pop("town")
    if "industry" in out:
        out["industry_id"] = out.pop("industry")
    return out


def id_number_fields(number: str) -> dict[str, str]:
    """The three stored forms of a (validated, normalised) identity number."""
    return {
        "id_number_hash": pii.match_hash(number),
        "id_number_encrypted": pii.encrypt(number),
        "id_number_masked": identifiers.mask_id_number(number),
    }


# --- enterprises ---------------------------------------------------------------------------------


def enterprise_create(*, actor: Any, data: Mapping[str, Any]) -> Enterprise:
    """Register an enterprise; the USCC is validated (format and check character) and unique."""
    require(actor, CHANGE)
    values = _model_values(v.clean_or_raise(v.ENTERPRISE_COLUMNS, data, v.Lookups.load()))
    with transaction.atomic():
        if Enterprise.objects.filter(uscc=values["uscc"]).exists():
            raise Conflict(
                f"统一社会信用代码 {values['uscc']} 已登记",
                code="enterprise_exists",
                fields={"uscc": "该统一社会信用代码已登记"},
            )
        enterprise = Enterprise.objects.create(**values)
        audit_record(
            actor=actor,
            action="enterprises.enterprise.create",
            obj=enterprise,
            after=snapshot(enterprise, ENTERPRISE_AUDIT_FIELDS),
        )
    return enterprise


def enterprise_update(*, actor: Any, enterprise: Enterprise, data: Mapping[str, Any]) -> Enterprise:
    """Change some facts of an enterprise. The USCC is its identity and cannot be changed here."""
    require(actor, CHANGE)
    if "uscc" in data and v.uscc(data["uscc"], v.Lookups({}, {})) != enterprise.uscc:
        raise ValidationFailed(
            "统一社会信用代码不能修改", code="uscc_immutable", fields={"uscc": "不能修改"}
        )
    values = _model_values(
        v.clean_or_raise(v.ENTERPRISE_COLUMNS, data, v.Lookups.load(), partial=True)
    )
    with transaction.atomic():
        locked = Enterprise.objects.select_for_update().get(pk=enterprise.pk)
        before = snapshot(locked, ENTERPRISE_AUDIT_FIELDS)
        for name, value in values.items():
            setattr(locked, name, value)
        after = snapshot(locked, ENTERPRISE_AUDIT_FIELDS)
        changed = {k: after[k] for k in after if after[k] != before[k]}
        if changed:
            locked.save()
            audit_record(
                actor=actor,
                action="enterprises.enterprise.update",
                obj=locked,
                before={k: before[k] for k in changed},
                after=changed,
            )
    return locked


# --- persons -------------------------------------------------------------------------------------


def person_create(
    *, actor: Any, id_number: str, name: str, phone: str = "", email: str = ""
) -> Person:
    """Register a person from a plain identity number, which is stored only as hash, ciphertext
    and mask."""
    require(actor, CHANGE)
    values = v.clean_or_raise(
        v.PERSON_COLUMNS,
        {"id_number": id_number, "name": name, "phone": phone, "email": email},
        v.Lookups({}, {}),
    )
    number = values.pop("id_number")
    fields = id_number_fields(number)
    with transaction.atomic():
        if Person.objects.filter(id_number_hash=fields["id_number_hash"]).exists():
            raise Conflict(
                "该身份证号码的人员已登记",
                code="person_exists",
                fields={"id_number": "该身份证号码的人员已登记"},
            )
        person = Person.objects.create(**values, **fields)
        audit_record(
            actor=actor,
            action="enterprises.person.create",
            obj=person,
            after=snapshot(person, PERSON_AUDIT_FIELDS),
        )
    return person


def person_update(*, actor: Any, person: Person, data: Mapping[str, Any]) -> Person:
    """Correct a person's name, contacts or identity number (a corrected number is re-hashed)."""
    require(actor, CHANGE)
    values = v.clean_or_raise(v.PERSON_COLUMNS, data, v.Lookups({}, {}), partial=True)
    with transaction.atomic():
        locked = Person.objects.select_for_update().get(pk=person.pk)
        before = snapshot(locked, PERSON_AUDIT_FIELDS)
        number = values.pop("id_number", None)
        if number is not None:
            fields = id_number_fields(number)
            if fields["id_number_hash"] != locked.id_number_hash:
                if (
                    Person.objects.filter(id_number_hash=fields["id_number_hash"])
                    .exclude(pk=locked.pk)
                    .exists()
                ):
                    raise Conflict(
                        "该身份证号码已属于另一位登记人员",
                        code="person_exists",
                        fields={"id_number": "该身份证号码已属于另一位登记人员"},
                    )
                for key, value in fields.items():
                    setattr(locked, key, value)
        for key, value in values.items():
            setattr(locked, key, value)
        after = snapshot(locked, PERSON_AUDIT_FIELDS)
        number_changed = number is not None and locked.id_number_hash != person.id_number_hash
        changed = {k: after[k] for k in after if after[k] != before[k]}
        if changed or number_changed:
            locked.save()
            audit_record(
                actor=actor,
                action="enterprises.person.update",
                obj=locked,
                before={k: before[k] for k in changed}
                | ({"id_number": "旧号码"} if number_changed else {}),
                after=changed | ({"id_number": "已更正"} if number_changed else {}),
            )
    return locked


def person_reveal_id_number(*, actor: Any, person: Person) -> str:
    """The full identity number, for the roles that need it; every such read is audited (and the
    read fails if the audit row cannot be written)."""
    require(actor, "enterprises.reveal_id_number")
    if not person.id_number_encrypted:
        raise NotFound("该人员没有登记身份证号码", code="id_number_missing")
    with transaction.atomic():
        audit_read(
            actor=actor,
            action="enterprises.person.reveal_id_number",
            obj=person,
            detail={"masked": person.id_number_masked},
        )
        return pii.decrypt(person.id_number_encrypted)


def person_find_by_id_number(*, id_number: str) -> Person | None:
    """Match a person by identity number through the keyed hash (no plain number is stored)."""
    number = identifiers.validate_id_number(id_number)
    return Person.objects.filter(id_number_hash=pii.match_hash(number)).first()


# --- roles and holdings --------------------------------------------------------------------------


def person_role_set(
    *,
    actor: Any,
    person: Person,
    enterprise: Enterprise,
    role: str,
    share_pct: Decimal | str | None = None,
) -> PersonRole:
    """Record that a person holds a role in an enterprise (idempotent: the same role twice is one
    row; a shareholder's percentage is updated)."""
    require(actor, CHANGE)
    values = v.clean_or_raise(
        [c for c in v.ROLE_COLUMNS if c.key in {"role", "share_pct"}],
        {"role": role, "share_pct": share_pct},
        v.Lookups({}, {}),
    )
    problem = v.share_rule(values["role"], values["share_pct"])
    if problem:
        raise ValidationFailed(problem, code="share_not_allowed", fields={"share_pct": problem})
    with transaction.atomic():
        existing = (
            PersonRole.objects.select_for_update()
            .filter(person=person, enterprise=enterprise, role=values["role"])
            .first()
        )
        if existing is None:
            obj = PersonRole.objects.create(
                person=person,
                enterprise=enterprise,
                role=values["role"],
                share_pct=values["share_pct"],
            )
            audit_record(
                actor=actor,
                action="enterprises.person_role.create",
                obj=obj,
                object_repr=f"{person} · {enterprise} · {obj.get_role_display()}",
                after={
                    "person": person.pk,
                    "enterprise": enterprise.uscc,
                    "role": obj.role,
                    "share_pct": obj.share_pct,
                },
            )
            return obj
        if existing.share_pct != values["share_pct"]:
            before = existing.share_pct
            existing.share_pct = values["share_pct"]
            existing.save(update_fields=["share_pct", "updated_at"])
            audit_record(
                actor=actor,
                action="enterprises.person_role.update",
                obj=existing,
                object_repr=f"{person} · {enterprise} · {existing.get_role_display()}",
                before={"share_pct": before},
                after={"share_pct": existing.share_pct},
            )
        return existing


def _remove(
    *,
    actor: Any,
    queryset: Any,
    pk: int,
    missing: NotFound,
    action: str,
    describe: Any,
) -> None:
    """Lock, audit (with what it was) and delete one registry row, in one transaction."""
    require(actor, CHANGE)
    with transaction.atomic():
        locked = queryset.select_for_update().filter(pk=pk).first()
        if locked is None:
            raise missing
        object_repr, before = describe(locked)
        audit_record(actor=actor, action=action, obj=locked, object_repr=object_repr, before=before)
        locked.delete()


def person_role_remove(*, actor: Any, person_role: PersonRole) -> None:
    _remove(
        actor=actor,
        queryset=PersonRole.objects.select_related("person", "enterprise"),
        pk=person_role.pk,
        missing=NotFound("该职务记录不存在", code="person_role_missing"),
        action="enterprises.person_role.delete",
        describe=lambda r: (
            f"{r.person} · {r.enterprise} · {r.get_role_display()}",
            {
                "person": r.person_id,
                "enterprise": r.enterprise.uscc,
                "role": r.role,
                "share_pct": r.share_pct,
            },
        ),
    )


def holding_set(
    *, actor: Any, holder: Enterprise, held: Enterprise, share_pct: Decimal | str
) -> Holding:
    """Record that ``holder`` holds ``share_pct`` % of ``held`` (upsert by the pair)."""
    require(actor, CHANGE)
    if holder.pk == held.pk:
        raise ValidationFailed(
            "企业不能持有自身股份", code="holding_self", fields={"held_uscc": "不能与持股企业相同"}
        )
    pct = v.clean_or_raise(
        [c for c in v.HOLDING_COLUMNS if c.key == "share_pct"],
        {"share_pct": share_pct},
        v.Lookups({}, {}),
    )["share_pct"]
    with transaction.atomic():
        existing = Holding.objects.select_for_update().filter(holder=holder, held=held).first()
        if existing is None:
            try:
                with transaction.atomic():
                    obj = Holding.objects.create(holder=holder, held=held, share_pct=pct)
            except IntegrityError:
                raise Conflict("该持股关系已存在", code="holding_exists") from None
            audit_record(
                actor=actor,
                action="enterprises.holding.create",
                obj=obj,
                object_repr=f"{holder} → {held}",
                after={"holder": holder.uscc, "held": held.uscc, "share_pct": pct},
            )
            return obj
        if existing.share_pct != pct:
            before = existing.share_pct
            existing.share_pct = pct
            existing.save(update_fields=["share_pct", "updated_at"])
            audit_record(
                actor=actor,
                action="enterprises.holding.update",
                obj=existing,
                object_repr=f"{holder} → {held}",
                before={"share_pct": before},
                after={"share_pct": pct},
            )
        return existing


def holding_remove(*, actor: Any, holding: Holding) -> None:
    _remove(
        actor=actor,
        queryset=Holding.objects.select_related("holder", "held"),
        pk=holding.pk,
        missing=NotFound("该持股记录不存在", code="holding_missing"),
        action="enterprises.holding.delete",
        describe=lambda h: (
            f"{h.holder} → {h.held}",
            {"holder": h.holder.uscc, "held": h.held.uscc, "share_pct": h.share_pct},
        ),
    )


# --- monthly indicators --------------------------------------------------------------------------


def indicator_set(
    *, actor: Any, enterprise: Enterprise, month: dt.date | str, values: Mapping[str, Any]
) -> MonthlyIndicator:
    """Upsert one enterprise's figures for one month. Measures not given keep their value."""
    require(actor, CHANGE)
    lookups = v.Lookups({}, {})
    clean_month = v.clean_or_raise(
        [c for c in v.INDICATOR_COLUMNS if c.key == "month"], {"month": month}, lookups
    )["month"]
    measures = v.clean_or_raise(v.INDICATOR_MEASURES, values, lookups, partial=True)
    with transaction.atomic():
        obj = (
            MonthlyIndicator.objects.select_for_update()
            .filter(enterprise=enterprise, month=clean_month)
            .first()
        )
        if obj is None:
            obj = MonthlyIndicator.objects.create(
                enterprise=enterprise, month=clean_month, **measures
            )
            audit_record(
                actor=actor,
                action="enterprises.indicator.create",
                obj=obj,
                object_repr=f"{enterprise} {clean_month:%Y-%m}",
                after={"uscc": enterprise.uscc, "month": clean_month} | measures,
            )
            return obj
        before = snapshot(obj, INDICATOR_FIELDS)
        for key, value in measures.items():
            setattr(obj, key, value)
        after = snapshot(obj, INDICATOR_FIELDS)
        changed = {k: after[k] for k in after if after[k] != before[k]}
        if changed:
            obj.save()
            audit_record(
                actor=actor,
                action="enterprises.indicator.update",
                obj=obj,
                object_repr=f"{enterprise} {clean_month:%Y-%m}",
                before={k: before[k] for k in changed},
                after=changed,
            )
        return obj
