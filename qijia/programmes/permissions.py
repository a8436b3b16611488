"""Who may manage programmes and budgets (django-rules) and ``require`` with these reasons."""

from __future__ import annotations

from typing import Any

import rules

from qijia.identity.permissions import (  # noqa: F401 - allowed/require re-exported
    add_reasons,
    allowed,
    is_admin,
    is_city_staff,
    is_officer,
    require,
)
from qijia.identity.roles import OrgKind, Role


@rules.predicate
def is_approver(user: Any) -> bool:
    return bool(
        getattr(user, "is_authenticated", False) and user.is_active and user.role == Role.APPROVER
    )


@rules.predicate
def is_owning_section(user: Any, target: Any) -> bool:
    """``target`` is a programme or anything with a ``section_id`` (an org unit id)."""
    if target is None:
        return True  # an action not tied to one programme (e.g. opening the create form)
    section_id = getattr(target, "section_id", None)
    return section_id is not None and section_id == user.org_unit_id


rules.add_perm("programmes.manage", is_admin | (is_officer & is_owning_section))
rules.add_perm("programmes.view_drafts", is_city_staff)


@rules.predicate
def is_bureau_leader(user: Any) -> bool:
    unit = user.org_unit if user.org_unit_id else None
    return unit is not None and unit.kind == OrgKind.LEADERSHIP


rules.add_perm(
    "programmes.decide_budget", is_admin | (is_approver & (is_owning_section | is_bureau_leader))
)
rules.add_perm("programmes.view_funds", is_city_staff)

REASONS = {
    "programmes.manage": "只有主管科室的经办人员可以管理该专项",
    "programmes.view_drafts": "您无权查看未发布的专项",
    "programmes.decide_budget": "只有主管科室负责人可以审批预算调整",
    "programmes.view_funds": "您无权查看资金执行情况",
}

add_reasons(REASONS)
