"""API tokens for partner departments: created with the text shown once, revoked at once."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from qijia.audit.services import audit_record
from qijia.core.errors import InvalidTransition, NotFound, ValidationFailed
from qijia.identity.models import OrgUnit
from qijia.identity.roles import Role

from ..auth import forget_token, new_token_text
from ..models import ApiToken, TokenScope
from ..permissions import require


def token_create(
    *, actor: Any, name: str, scope: str, org_unit_id: int | None = None
) -> tuple[ApiToken, str]:
    """Create a department token. The returned text is shown once and never stored."""
    require(actor, "registry.manage_tokens")
    errors: dict[str, str] = {}
    name = str(name or "").strip()
    if not name or len(name) > 100 or any(ord(c) < 32 for c in name):
        errors["name"] = "令牌名称不能为空，且不超过100个字符"
    if scope not in TokenScope.values:
        errors["scope"] = "权限范围应为 read（只读）或 read_write（读写）"
    if actor.role == Role.ADMIN and org_unit_id:
        unit = OrgUnit.objects.filter(pk=org_unit_id, is_active=True).first()
        if unit is None:
            errors["org_unit"] = "部门不存在"
    else:
        unit = actor.org_unit
    if errors:
        raise ValidationFailed("令牌信息有误", fields=errors)
    assert unit is not None  # a missing unit is in errors; staff always have one of their own
    text, prefix, secret_hash = new_token_text()
    with transaction.atomic():
        token = ApiToken.objects.create(
            org_unit=unit,
            name=name,
            prefix=prefix,
            secret_hash=secret_hash,
            scope=scope,
            created_by=actor,
        )
        audit_record(
            actor=actor,
            action="registry.token_created",
            obj=token,
            after={"org_unit": unit.code, "name": name, "scope": scope, "prefix": prefix},
        )
    return token, text


def token_revoke(*, actor: Any, token_id: int) -> ApiToken:
    require(actor, "registry.manage_tokens")
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().filter(pk=token_id).first()
        if token is None or (actor.role != Role.ADMIN and token.org_unit_id != actor.org_unit_id):
            raise NotFound("令牌不存在", code="token_not_found")
        if token.revoked_at is not None:
            raise InvalidTransition("该令牌已吊销", code="token_revoked")
        token.revoked_at = timezone.now()
        token.revoked_by = actor
        token.save(update_fields=["revoked_at", "revoked_by"])
        audit_record(
            actor=actor, action="registry.token_revoked", obj=token, after={"prefix": token.prefix}
        )
        forget_token(token.prefix)  # a rolled-back revocation only costs one more lookup
    return token
