"""Navigation by role: each role sees the entries for its work, nothing it cannot open."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from qijia.identity import permissions

#: (url name, label, permission needed or None). Entries whose URL is not installed are skipped,
#: so a context adds its entry here and it appears when its app is in INSTALLED_APPS.
NAV = [
    ("core:home", _("首页"), None),
    ("enterprises:own", _("本企业"), "nav.enterprise_self"),
    ("enterprises:list", _("企业库"), "enterprises.search"),
    ("enterprises:import", _("数据导入"), "enterprises.import"),
    ("programmes:calculator", _("政策计算器"), None),
    ("applications:list", _("资助申请"), None),
    ("applications:notice", _("公示"), None),
    ("applications:queue", _("待办"), "applications.work_queue"),
    ("applications:rechecks", _("抽查复核"), "applications.run_recheck"),
    ("programmes:list", _("专项管理"), "programmes.view_drafts"),
    ("programmes:funds", _("资金执行"), "programmes.view_funds"),
    ("audit:list", _("审计记录"), "audit.view"),
    ("registry:list", _("不予资助名单"), "registry.search"),
    ("registry:department", _("本部门名单"), "registry.department"),
    ("registry:own", _("名单状态"), "registry.view_own"),
    ("registry:objections", _("申诉"), "registry.list_objections"),
    ("registry:expiring", _("到期提醒"), "registry.expiring"),
    ("registry:queries", _("查询记录"), "registry.view_queries"),
    ("registry:tokens", _("接口令牌"), "registry.manage_tokens"),
    ("notifications:inbox", _("消息"), None),
]


def navigation(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items = []
    for name, label, perm in NAV:
        if perm == "nav.enterprise_self":
            if not user.enterprise_id:
                continue
        elif perm and not permissions.allowed(user, perm):
            continue
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        active = request.path == url if name == "core:home" else request.path.startswith(url)
        items.append({"url": url, "label": label, "active": active})
    return {"nav_items": items}
