"""Who may act on an application (django-rules). Staff act only on the programmes of their own
section; an enterprise only on its own applications. Reasons are shown to the user."""

from __future__ import annotations

from typing import Any

import rules

from qijia.identity.permissions import (  # noqa: F401 - allowed/require re-exported
    add_reasons,
    allowed,
    is_city_staff,
    is_enterprise_user,
    require,
)
from qijia.identity.roles import OrgKind, Role


def _role(*roles: str) -> rules.Predicate:
    wanted = frozenset(roles)

    @rules.predicate(name=f"applications_role_{'_'.join(sorted(wanted))}")
    def predicate(user: Any) -> bool:
        return bool(
            getattr(user, "is_authenticated", False) and user.is_active and user.role in wanted
        )

    return predicate


is_section_staff = _role(Role.OFFICER, Role.APPROVER)
is_section_head = _role(Role.APPROVER)


@rules.predicate
def is_applicant(user: Any, application: Any) -> bool:
    return (
        application is not None
        and user.enterprise_id is not None
        and (application.enterprise_id == user.enterprise_id)
    )


@rules.predicate
def is_owning_section(user: Any, application: Any) -> bool:
    if application is None or user.org_unit_id is None:
        return False
    return application.programme.section_id == user.org_unit_id


rules.add_perm("applications.act_as_applicant", is_enterprise_user & is_applicant)
rules.add_perm("applications.handle", is_section_staff & is_owning_section)


@rules.predicate
def is_bureau_leader(user: Any) -> bool:
    """A bureau leader (分管领导, in the leadership unit) decides for every section."""
    unit = user.org_unit if user.org_unit_id else None
    return unit is not None and unit.kind == OrgKind.LEADERSHIP


rules.add_perm("applications.decide", is_section_head & (is_owning_section | is_bureau_leader))
rules.add_perm("applications.view", is_city_staff | (is_enterprise_user & is_applicant))
rules.add_perm("applications.apply", is_enterprise_user)
rules.add_perm("applications.work_queue", is_section_staff)
rules.add_perm("applications.run_recheck", is_section_staff)

REASONS = {
    "applications.act_as_applicant": "只有申报企业本身可以办理此事项",
    "applications.handle": "只有该专项主管科室的经办人员可以办理此事项",
    "applications.decide": "只有该专项主管科室负责人可以作出此决定",
    "applications.view": "您无权查看该申请",
    "applications.apply": "只有企业用户可以提交申报",
    "applications.work_queue": "只有科室工作人员可以查看待办",
    "applications.run_recheck": "只有科室工作人员可以组织抽查",
}

add_reasons(REASONS)
