"""Who may do what in the registry (django-rules), and ``require`` with registry reasons.

Machine clients act through a ``TokenActor`` (see auth.py): it carries the department's role, and
``token_can_write`` keeps read-scoped tokens read-only in every service, not just in the API.
"""

from __future__ import annotations

from typing import Any

import rules

from qijia.identity.permissions import (  # noqa: F401 - allowed/require re-exported
    add_reasons,
    allowed,
    is_admin,
    is_city_staff,
    is_enterprise_user,
    is_inspector,
    is_officer,
    is_partner,
    is_town_officer,
    require,
)


@rules.predicate
def is_token(user: Any) -> bool:
    return bool(getattr(user, "is_token", False))


@rules.predicate
def token_can_write(user: Any) -> bool:
    return not getattr(user, "is_token", False) or bool(user.can_write)


@rules.predicate
def is_source_department(user: Any, entry: Any) -> bool:
    return (
        entry is not None and user.org_unit_id is not None and entry.source_id == user.org_unit_id
    )


@rules.predicate
def is_own_listing(user: Any, entry: Any) -> bool:
    enterprise = getattr(user, "enterprise", None) if user.enterprise_id else None
    return entry is not None and enterprise is not None and entry.uscc == enterprise.uscc


@rules.predicate
def answers_for_entry(user: Any, objection: Any) -> bool:
    return objection is not None and objection.entry.source_id == user.org_unit_id


is_reader = is_city_staff | is_partner | is_town_officer

rules.add_perm("registry.check", is_reader)
rules.add_perm("registry.search", is_reader & ~is_token)
rules.add_perm("registry.view_entry", is_reader | (is_enterprise_user & is_own_listing))
rules.add_perm("registry.read_feed", is_reader)
rules.add_perm("registry.create_entry", (is_officer | is_partner) & token_can_write)
rules.add_perm(
    "registry.change_entry",
    (is_officer | (is_partner & is_source_department)) & token_can_write,
)
rules.add_perm("registry.view_own", is_enterprise_user)
rules.add_perm("registry.lodge_objection", is_enterprise_user & is_own_listing)
rules.add_perm(
    "registry.answer_objection", (is_officer | (is_partner & answers_for_entry)) & ~is_token
)
rules.add_perm("registry.list_objections", (is_officer | is_partner | is_inspector) & ~is_token)
rules.add_perm("registry.view_queries", (is_inspector | is_admin) & ~is_token)
rules.add_perm("registry.manage_tokens", (is_partner | is_admin) & ~is_token)
rules.add_perm("registry.department", is_partner & ~is_token)
rules.add_perm("registry.import", (is_officer | is_partner) & token_can_write)
rules.add_perm("registry.expiring", (is_officer | is_partner | is_inspector) & ~is_token)

REASONS = {
    "registry.check": "您的角色不能查询不予资助名单",
    "registry.search": "您的角色不能检索不予资助名单",
    "registry.view_entry": "您无权查看该名单条目",
    "registry.read_feed": "您的角色不能读取名单变更",
    "registry.create_entry": "只有局经办人员、协作部门（读写令牌）可以新增名单条目",
    "registry.change_entry": "协作部门只能修改、撤销本部门列入的条目；只读令牌不能修改",
    "registry.view_own": "只有企业用户可以查看本企业名单状态",
    "registry.lodge_objection": "只有被列入的企业本身可以对该条目提出申诉",
    "registry.answer_objection": "只有列入该条目的部门或局经办人员可以答复申诉",
    "registry.list_objections": "您的角色不能查看申诉列表",
    "registry.view_queries": "只有纪检监察和系统管理员可以查看查询记录",
    "registry.manage_tokens": "只有协作部门和系统管理员可以管理接口令牌",
    "registry.department": "只有协作部门有本部门名单页面",
    "registry.import": "只有局经办人员、协作部门（读写令牌）可以批量导入",
    "registry.expiring": "您的角色不能查看到期提醒",
}

add_reasons(REASONS)
