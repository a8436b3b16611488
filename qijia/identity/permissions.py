"""Who may do what: predicates (django-rules) per permission, and ``require`` which raises a
PermissionDenied carrying the reason in Chinese. Object scoping for lists lives in each
context's selectors; these rules decide single objects and actions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import rules
from django.http import HttpRequest

from qijia.core.errors import PermissionDenied

from .roles import CITY_STAFF, Role

if TYPE_CHECKING:
    from .models import User


def _role_in(*roles: str) -> rules.Predicate:
    wanted = frozenset(roles)

    @rules.predicate(name=f"role_in_{'_'.join(sorted(wanted))}")
    def predicate(user: Any) -> bool:
        return bool(
            getattr(user, "is_authenticated", False) and user.is_active and user.role in wanted
        )

    return predicate


is_enterprise_user = _role_in(Role.ENTERPRISE)
is_city_staff = _role_in(*CITY_STAFF)
is_officer = _role_in(Role.OFFICER, Role.APPROVER, Role.ADMIN)
is_town_officer = _role_in(Role.TOWN)
is_inspector = _role_in(Role.INSPECTOR)
is_admin = _role_in(Role.ADMIN)
is_partner = _role_in(Role.PARTNER)


@rules.predicate
def is_own_enterprise(user: Any, enterprise: Any) -> bool:
    return (
        enterprise is not None
        and user.enterprise_id is not None
        and user.enterprise_id == enterprise.pk
    )


@rules.predicate
def is_in_own_town(user: Any, enterprise: Any) -> bool:
    return (
        enterprise is not None
        and user.org_unit_id is not None
        and enterprise.town_id == user.org_unit_id
    )


# Enterprise registry
rules.add_perm(
    "enterprises.view_enterprise",
    is_city_staff | (is_town_officer & is_in_own_town) | (is_enterprise_user & is_own_enterprise),
)
rules.add_perm("enterprises.search", is_city_staff | is_town_officer)
rules.add_perm("enterprises.change_enterprise", is_officer)
rules.add_perm("enterprises.import", is_officer)
rules.add_perm("enterprises.export", is_officer | is_inspector)
#: Reading an identity number in full: inspectors and officers, and every such read is audited.
rules.add_perm("enterprises.reveal_id_number", is_officer | is_inspector)
# Audit trail
rules.add_perm("audit.view", is_inspector | is_admin)
# Identity
rules.add_perm("identity.manage_users", is_admin)

REASONS = {
    "enterprises.view_enterprise": "您无权查看该企业的信息",
    "enterprises.search": "您的角色不能检索企业库",
    "enterprises.change_enterprise": "只有局经办人员可以修改企业信息",
    "enterprises.import": "只有局经办人员可以导入企业数据",
    "enterprises.export": "您无权导出企业数据",
    "enterprises.reveal_id_number": "您无权查看完整身份证号码",
    "audit.view": "只有纪检监察和系统管理员可以查看审计记录",
    "identity.manage_users": "只有系统管理员可以管理用户",
}


def add_reasons(reasons: dict[str, str]) -> None:
    """Each context registers the Chinese reason for each of its permissions here, so one
    ``require`` serves every context."""
    REASONS.update(reasons)


def signed_in_user(request: HttpRequest) -> User:
    """The request's user, in views behind ``login_required`` (or API endpoints behind
    ``django_auth``): there it is always a ``User``, never the ``AnonymousUser`` that
    ``request.user`` is also typed as."""
    return cast("User", request.user)


def allowed(actor: Any, perm: str, obj: Any = None) -> bool:
    return rules.has_perm(perm, actor, obj)


def require(actor: Any, perm: str, obj: Any = None) -> None:
    """Raise PermissionDenied with the reason unless ``actor`` holds ``perm`` (on ``obj``)."""
    if not rules.has_perm(perm, actor, obj):
        raise PermissionDenied(
            REASONS.get(perm, "您没有执行此操作的权限"), code="permission_denied"
        )
